import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DecodeError,
  isRetriable,
  LoginFailedError,
  PermissionDeniedError,
  PipelineError,
  RecordTooLargeError,
  SinkWriteError,
  SourceUnavailableError,
  TransformError,
} from './errors.js';

describe('the error tree', () => {
  it.each([
    ['ConfigError', new ConfigError('Bad key'), false],
    ['LoginFailedError', new LoginFailedError("Login failed for user 'cdc'"), false],
    ['PermissionDeniedError', new PermissionDeniedError('Permission denied in database ErpDemo'), false],
    ['DecodeError', new DecodeError('Bad magic byte'), false],
    ['TransformError', new TransformError('Bad row'), false],
    ['RecordTooLargeError', new RecordTooLargeError('Record for topic t takes 2000 bytes'), false],
    ['SinkWriteError (transient)', new SinkWriteError('Timeout', { retriable: true }), true],
    ['SinkWriteError (bad document)', new SinkWriteError('Too large', { retriable: false }), false],
    ['SourceUnavailableError', new SourceUnavailableError('Broker down'), true],
  ])('%s is a PipelineError with retriable=%s', (_label, error, retriable) => {
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.retriable).toBe(retriable);
    expect(isRetriable(error)).toBe(retriable);
  });

  it('names errors after their class and keeps cause and location', () => {
    const cause = new Error('socket hang up');
    const error = new DecodeError('Unknown schema id 4711 in record erp.dbo.SalesOrder[2]@1234', {
      cause,
      topic: 'erp.dbo.SalesOrder',
      partition: 2,
      offset: '1234',
    });
    expect(error.name).toBe('DecodeError');
    expect(error.cause).toBe(cause);
    expect(error.location).toEqual({ topic: 'erp.dbo.SalesOrder', partition: 2, offset: '1234' });
  });

  it('never treats programming errors as retriable', () => {
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
  });
});
