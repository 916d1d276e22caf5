import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from './config-reference.js';

const DOC = new URL('../docs/configuration.md', import.meta.url);
const BEGIN = '<!-- generated: config reference -->';
const END = '<!-- end generated -->';

describe('the configuration reference in docs/configuration.md', () => {
  it('lists every setting of the schema with its default and description', () => {
    const table = renderConfigReference();
    expect(table).toContain(
      '| `kafka.brokers` | list of string | `["127.0.0.1:9092"]` | Bootstrap brokers, host:port |',
    );
    expect(table).toContain('| `source.connector` | `sqlserver` \\| `postgresql` \\| `mysql` | `"sqlserver"` |');
    expect(table).toContain('| `transform.transactionalId` | string | (none) |');
  });

  it('is up to date (UPDATE_CONFIG_DOCS=1 rewrites it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN) + BEGIN.length;
    const end = doc.indexOf(END);
    const expected = `${doc.slice(0, start)}\n\n${renderConfigReference()}\n\n${doc.slice(end)}`;
    if (process.env['UPDATE_CONFIG_DOCS'] === '1') writeFileSync(DOC, expected);
    expect(doc).toBe(expected);
  });
});
