import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { REDACTED } from './redact.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes no secret from fields, messages, errors or child bindings', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', base: { service: 'cdc-sync' } }, stream);
    const child = logger.child({ component: 'kafkajs', sasl: { username: 'svc', password: 'pw-1' } });
    child.warn(
      {
        err: new Error('Cannot connect to mongodb://reader:pw-2@db/'),
        config: { mongodb: { uri: 'mongodb://u:pw-3@h/' } },
      },
      'Retrying Server=erp;Password=pw-4;',
    );
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/pw-\d/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'cdc-sync',
      component: 'kafkajs',
      msg: `Retrying Server=erp;Password=${REDACTED};`,
      config: { mongodb: { uri: `mongodb://u:${REDACTED}@h/` } },
      err: { type: 'Error', message: `Cannot connect to mongodb://reader:${REDACTED}@db/` },
    });
  });
});
