import { describe, expect, it } from 'vitest';
import { REDACTED, redactError, redactText, redactValue } from './redact.js';

describe('redactText', () => {
  it.each([
    [
      'mongodb://reader:s3cret@db1:27017/cdc?authSource=admin',
      `mongodb://reader:${REDACTED}@db1:27017/cdc?authSource=admin`,
    ],
    ['mongodb+srv://app:p%40ss@cluster0.example.net/', `mongodb+srv://app:${REDACTED}@cluster0.example.net/`],
    ['postgres://cdc:cdc@127.0.0.1:5432/erp_demo', `postgres://cdc:${REDACTED}@127.0.0.1:5432/erp_demo`],
    [
      'Server=erp;Database=ErpDemo;User Id=cdc;Password=Hunter2!;',
      `Server=erp;Database=ErpDemo;User Id=cdc;Password=${REDACTED};`,
    ],
    [
      'jdbc:sqlserver://erp:1433;user=cdc;password="a;b";encrypt=true',
      `jdbc:sqlserver://erp:1433;user=cdc;password=${REDACTED};encrypt=true`,
    ],
    ['sasl.jaas.config=org.apache.Plain required', `sasl.jaas.config=${REDACTED} required`],
    ['connect to mongodb://127.0.0.1:27017/ failed', 'connect to mongodb://127.0.0.1:27017/ failed'],
    ['http://user@host/path', 'http://user@host/path'],
    ['no secrets here', 'no secrets here'],
  ])('%s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
    expect(redactText(expected)).toBe(expected);
  });
});

describe('redactValue', () => {
  it('replaces secret-named keys at any depth and masks credentials in other strings', () => {
    const input = {
      kafka: { brokers: ['b:9092'], sasl: { mechanism: 'plain', username: 'svc', password: 'pw-1' } },
      mongodb: { uri: 'mongodb://u:pw-2@h/' },
      list: [{ apiKey: 'k-3' }, 'postgres://a:pw-4@h/db'],
      count: 3,
      when: new Date(0),
      nothing: null,
    };
    expect(redactValue(input)).toEqual({
      kafka: { brokers: ['b:9092'], sasl: { mechanism: 'plain', username: 'svc', password: REDACTED } },
      mongodb: { uri: `mongodb://u:${REDACTED}@h/` },
      list: [{ apiKey: REDACTED }, `postgres://a:${REDACTED}@h/db`],
      count: 3,
      when: new Date(0),
      nothing: null,
    });
  });

  it('cuts cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ name: 'a', self: '[Circular]' });
  });
});

describe('redactError', () => {
  it('redacts the message, the stack, own fields and the cause', () => {
    const cause = new Error('auth failed for mongodb://svc:pw-5@h/');
    const error = Object.assign(new Error('Cannot reach postgres://cdc:pw-6@erp/db', { cause }), {
      password: 'pw-7',
      host: 'erp',
    });
    const redacted = redactError(error);
    expect(JSON.stringify(redacted)).not.toMatch(/pw-\d/);
    expect(redacted).toMatchObject({
      type: 'Error',
      message: `Cannot reach postgres://cdc:${REDACTED}@erp/db`,
      password: REDACTED,
      host: 'erp',
      cause: { message: `auth failed for mongodb://svc:${REDACTED}@h/` },
    });
  });
});
