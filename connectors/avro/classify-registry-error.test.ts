import { describe, expect, it } from 'vitest';
import { DecodeError, SourceUnavailableError } from '../../core/errors.js';
import { classifyRegistryError, RegistryResponseError } from './classify-registry-error.js';

const context = { schemaId: 4711, topic: 'erp.dbo.SalesOrder', partition: 2, offset: '1234' };
const where = 'erp.dbo.SalesOrder[2]@1234';

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The shape of `@kafkajs/confluent-schema-registry`'s ResponseError. */
function clientResponseError(status: number, message: string): Error {
  return Object.assign(new Error(message), { name: 'ResponseError', status });
}

describe('classifyRegistryError', () => {
  it.each([
    ['registry 404 with error code 40403', new RegistryResponseError(404, 40403, 'Schema 4711 not found')],
    ['client 404 naming the schema', clientResponseError(404, 'Confluent_Schema_Registry - Schema 4711 not found')],
  ])('%s is an unknown schema id', (_label, error) => {
    const classified = classifyRegistryError(error, context);
    expect(classified).toBeInstanceOf(DecodeError);
    expect(classified?.message).toBe(`Unknown schema id 4711 in record ${where}`);
    expect(classified?.location).toEqual({ topic: 'erp.dbo.SalesOrder', partition: 2, offset: '1234' });
    expect(classified?.cause).toBe(error);
  });

  it.each([
    [
      '500',
      new RegistryResponseError(500, 50001, 'Error in the backend data store'),
      'answered 500 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Error in the backend data store',
    ],
    [
      '503',
      new RegistryResponseError(503, undefined, 'Service Unavailable'),
      'answered 503 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Service Unavailable',
    ],
    [
      '429',
      new RegistryResponseError(429, undefined, 'Too Many Requests'),
      'answered 429 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Too Many Requests',
    ],
    [
      '401',
      new RegistryResponseError(401, 40101, 'Unauthorized'),
      'answered 401 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Unauthorized',
    ],
    [
      '404 without a registry code (wrong URL)',
      new RegistryResponseError(404, undefined, 'Not Found'),
      'answered 404 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Not Found',
    ],
    [
      'client 502',
      clientResponseError(502, 'Bad Gateway'),
      'answered 502 for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Bad Gateway',
    ],
    [
      'fetch failed, connection refused',
      new TypeError('fetch failed', { cause: systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8081') }),
      'unreachable for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: connect ECONNREFUSED 127.0.0.1:8081',
    ],
    [
      'fetch failed, socket closed',
      new TypeError('fetch failed', { cause: systemError('UND_ERR_SOCKET', 'other side closed') }),
      'unreachable for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: other side closed',
    ],
    [
      'DNS failure',
      systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND registry'),
      'unreachable for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: getaddrinfo ENOTFOUND registry',
    ],
    [
      'time-out',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      'unreachable for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: The operation was aborted due to timeout',
    ],
    [
      'client wrapping a refused connection as a 400',
      clientResponseError(400, 'Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:8081'),
      'unreachable for schema id 4711 of record erp.dbo.SalesOrder[2]@1234: Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:8081',
    ],
  ])('%s is a retriable SourceUnavailableError', (_label, error, message) => {
    const classified = classifyRegistryError(error, context);
    expect(classified).toBeInstanceOf(SourceUnavailableError);
    expect(classified?.retriable).toBe(true);
    expect(classified?.message).toBe(`Schema registry ${message}`);
    expect(classified?.location).toEqual({ topic: 'erp.dbo.SalesOrder', partition: 2, offset: '1234' });
  });

  it.each([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'schema')")],
    ['a 400 for another reason', new RegistryResponseError(400, 40001, 'Bad request')],
    ['a string', 'boom'],
    ['null', null],
  ])('leaves %s to the caller', (_label, error) => {
    expect(classifyRegistryError(error, context)).toBeUndefined();
  });

  it('stops at a cause cycle', () => {
    const error: Error & { cause?: unknown } = new Error('loop');
    error.cause = error;
    expect(classifyRegistryError(error, context)).toBeUndefined();
  });

  describe('for a registration step', () => {
    const subject = {
      subject: 'canonical.order.v1-value',
      action: 'registering the schema of',
      topic: 'canonical.order.v1',
    };

    it.each([
      [
        '503',
        new RegistryResponseError(503, undefined, 'Service Unavailable'),
        'answered 503 while registering the schema of subject canonical.order.v1-value: Service Unavailable',
      ],
      [
        'a 404 without a registry code',
        new RegistryResponseError(404, undefined, 'Not Found'),
        'answered 404 while registering the schema of subject canonical.order.v1-value: Not Found',
      ],
      [
        'a refused connection',
        new TypeError('fetch failed', { cause: systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8081') }),
        'unreachable while registering the schema of subject canonical.order.v1-value: connect ECONNREFUSED 127.0.0.1:8081',
      ],
    ])('names the subject and step for %s, located at the topic only', (_label, error, message) => {
      const classified = classifyRegistryError(error, subject);
      expect(classified).toBeInstanceOf(SourceUnavailableError);
      expect(classified?.message).toBe(`Schema registry ${message}`);
      expect(classified?.location).toStrictEqual({ topic: 'canonical.order.v1' });
      expect(classified?.cause).toBe(error);
    });

    it.each([
      ['schema not found', new RegistryResponseError(404, 40403, 'Schema not found')],
      ['a 400', new RegistryResponseError(400, 400, 'Bad Request')],
      ['a 409', new RegistryResponseError(409, 409, 'Incompatible')],
    ])('leaves %s to the caller', (_label, error) => {
      expect(classifyRegistryError(error, subject)).toBeUndefined();
    });
  });
});
