import {
  type BulkWriteResult,
  MongoBulkWriteError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
  type WriteError,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { SinkWriteError } from '../../core/errors.js';
import { classifyMongoError, classifyWriteErrors, isDuplicateKeyError } from './classify-error.js';

const where = { operation: 'bulkWrite', collection: 'order_view' };
const on = 'bulkWrite on order_view';

function serverError(code: number, message: string, errorLabels: string[] = []): MongoServerError {
  return new MongoServerError({ message, code, errorLabels });
}

/** The driver's per-operation write error, as it arrives inside a `MongoBulkWriteError`. */
function writeError(index: number, code: number, errmsg: string): WriteError {
  return { index, code, errmsg } as WriteError;
}

function bulkError(writeErrors: WriteError[], writeConcern?: { code: number; errmsg: string }): MongoBulkWriteError {
  const result = { getWriteConcernError: () => writeConcern } as unknown as BulkWriteResult;
  const first = writeErrors[0];
  return new MongoBulkWriteError(
    { message: first?.errmsg ?? writeConcern?.errmsg ?? 'bulk failed', code: first?.code ?? 64, writeErrors },
    result,
  );
}

describe('classifyMongoError', () => {
  it.each([
    [
      'a closed connection',
      new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'),
      `MongoDB unreachable during ${on}: connection 3 to 127.0.0.1:27017 closed`,
    ],
    [
      'a socket time-out',
      new MongoNetworkTimeoutError('connection 3 to 127.0.0.1:27017 timed out'),
      `MongoDB unreachable during ${on}: connection 3 to 127.0.0.1:27017 timed out`,
    ],
    [
      'no server to select',
      new MongoServerSelectionError('Server selection timed out after 10000 ms', {} as never),
      `MongoDB unreachable during ${on}: Server selection timed out after 10000 ms`,
    ],
    [
      'a client closed mid-write',
      new MongoTopologyClosedError(),
      `MongoDB unreachable during ${on}: Topology is closed`,
    ],
    [
      'a primary stepping down, labelled RetryableWriteError',
      serverError(10107, 'not primary', ['RetryableWriteError']),
      `MongoDB failed transiently during ${on}: not primary (code 10107)`,
    ],
    [
      'any error labelled RetryableWriteError',
      serverError(999, 'something the server may recover from', ['RetryableWriteError']),
      `MongoDB failed transiently during ${on}: something the server may recover from (code 999)`,
    ],
    [
      'a shutdown in progress, unlabelled',
      serverError(91, 'The server is in quiesce mode and will shut down'),
      `MongoDB failed transiently during ${on}: The server is in quiesce mode and will shut down (code 91)`,
    ],
    [
      'a write concern time-out',
      new MongoWriteConcernError({
        ok: 1,
        writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' },
      }),
      `MongoDB did not confirm the write concern of ${on}: waiting for replication timed out (code 64)`,
    ],
    [
      'a write concern time-out inside a bulk write',
      bulkError([], { code: 64, errmsg: 'waiting for replication timed out' }),
      `MongoDB did not confirm the write concern of ${on}: waiting for replication timed out (code 64)`,
    ],
    [
      'a bulk write with one transient write error among refusals',
      bulkError([writeError(0, 11000, 'E11000 duplicate key'), writeError(4, 11602, 'interrupted by stepdown')]),
      `MongoDB failed transiently during ${on}: interrupted by stepdown (code 11602)`,
    ],
    [
      // What the bulk API throws when the connection dies mid-write and the retry finds the server gone: the
      // driver's network error, wrapped as a server error with no code (seen when the server was killed).
      'a network error the bulk API wrapped',
      new MongoBulkWriteError(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'), {} as BulkWriteResult),
      `MongoDB failed without a server error code during ${on}: connect ECONNREFUSED 127.0.0.1:27017`,
    ],
    [
      'a server error without a code',
      new MongoServerError({ message: 'connect ECONNREFUSED 127.0.0.1:27017' }),
      `MongoDB failed without a server error code during ${on}: connect ECONNREFUSED 127.0.0.1:27017`,
    ],
  ])('%s is a retriable SinkWriteError', (_label, error, message) => {
    const classified = classifyMongoError(error, where);
    expect(classified).toBeInstanceOf(SinkWriteError);
    expect(classified?.retriable).toBe(true);
    expect(classified?.message).toBe(message);
    expect(classified?.cause).toBe(error);
  });

  it.each([
    [
      'a duplicate key',
      serverError(11000, 'E11000 duplicate key error collection: cdc.order_view index: _id_'),
      `Duplicate key in ${on}: E11000 duplicate key error collection: cdc.order_view index: _id_`,
    ],
    [
      'a duplicate key among the write errors of a bulk write',
      bulkError([writeError(2, 11000, 'E11000 duplicate key error collection: cdc.order_view')]),
      `Duplicate key in ${on}: E11000 duplicate key error collection: cdc.order_view`,
    ],
    [
      'a document too large for the server',
      serverError(10334, 'BSONObj size: 16793601 (0x1000201) is invalid. Size must be between 0 and 16793600(16MB)'),
      `Document too large in ${on}: BSONObj size: 16793601 (0x1000201) is invalid. Size must be between 0 and 16793600(16MB)`,
    ],
    [
      'an update that would grow a document too large',
      bulkError([writeError(0, 17419, 'Resulting document after update is larger than 16777216')]),
      `Document too large in ${on}: Resulting document after update is larger than 16777216`,
    ],
    [
      'a document the driver will not serialise',
      new MongoInvalidArgumentError('Document is larger than the maximum size 16777216'),
      `Document too large in ${on}: Document is larger than the maximum size 16777216`,
    ],
    [
      'an unsatisfiable write concern',
      new MongoWriteConcernError({ ok: 1, writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' } }),
      `MongoDB cannot satisfy the write concern of ${on}: Not enough data-bearing nodes (code 100)`,
    ],
    [
      'an invalid update',
      serverError(2, 'unknown operator: $bogus'),
      `MongoDB refused ${on}: unknown operator: $bogus (code 2)`,
    ],
    [
      'an internal error (code 1)',
      serverError(1, "constraint failed: UNIQUE constraint failed: index 'orders_1a2b_k_1' (2067)"),
      `MongoDB refused ${on}: constraint failed: UNIQUE constraint failed: index 'orders_1a2b_k_1' (2067) (code 1)`,
    ],
  ])('%s is a non-retriable SinkWriteError', (_label, error, message) => {
    const classified = classifyMongoError(error, where);
    expect(classified).toBeInstanceOf(SinkWriteError);
    expect(classified?.retriable).toBe(false);
    expect(classified?.message).toBe(message);
    expect(classified?.cause).toBe(error);
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'orderNumber')")],
    ['a plain Error', new Error('boom')],
    ['driver API misuse', new MongoInvalidArgumentError('Update document requires atomic operators')],
    ['a string', 'connection refused'],
    ['null', null],
  ])('passes %s through unwrapped', (_label, error) => {
    expect(classifyMongoError(error, where)).toBeUndefined();
  });
});

describe('classifyWriteErrors', () => {
  it('classifies each write error of a bulk write by its index', () => {
    const classified = classifyWriteErrors(
      bulkError([writeError(1, 11000, 'E11000 duplicate key'), writeError(3, 91, 'shutting down')]),
      where,
    );

    expect([...classified.keys()]).toEqual([1, 3]);
    expect(classified.get(1)?.retriable).toBe(false);
    expect(classified.get(1)?.message).toBe(`Duplicate key in ${on}: E11000 duplicate key`);
    expect(classified.get(3)?.retriable).toBe(true);
    expect(classified.get(3)?.message).toBe(`MongoDB failed transiently during ${on}: shutting down (code 91)`);
  });

  it('is empty for anything but a bulk write error', () => {
    expect(classifyWriteErrors(serverError(11000, 'E11000'), where).size).toBe(0);
    expect(classifyWriteErrors(new TypeError('x'), where).size).toBe(0);
  });
});

describe('isDuplicateKeyError', () => {
  it.each([
    ['a server error 11000', serverError(11000, 'E11000'), true],
    [
      'a bulk write error of duplicates only',
      bulkError([writeError(0, 11000, 'E11000'), writeError(2, 11000, 'E11000')]),
      true,
    ],
    [
      'a bulk write error with another failure',
      bulkError([writeError(0, 11000, 'E11000'), writeError(1, 2, 'bad')]),
      false,
    ],
    ['a single write error', writeError(0, 11000, 'E11000'), true],
    [
      'a SinkWriteError caused by one',
      new SinkWriteError('Duplicate key', { retriable: false, cause: serverError(11000, 'E11000') }),
      true,
    ],
    ['another server error', serverError(2, 'bad value'), false],
    ['a TypeError', new TypeError('x'), false],
  ])('%s: %s', (_label, error, expected) => {
    expect(isDuplicateKeyError(error)).toBe(expected);
  });
});
