import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import { ConfigError, LoginFailedError, PermissionDeniedError, SourceUnavailableError } from '../../core/errors.js';
import { classifyMssqlError } from './classify-error.js';

const target = { server: 'erp-db.internal:1433', user: 'cdc', database: 'ErpDemo' };

/** A RequestError as mssql builds it from a tedious error carrying the server's error info. */
function requestError(number: number, message: string): mssql.RequestError {
  const tedious = Object.assign(new Error(message), { code: 'EREQUEST', info: { number, state: 1, class: 14 } });
  return new mssql.RequestError(tedious);
}

/** A ConnectionError as mssql's pool wraps tedious's: same message and code, original kept. */
function connectionError(message: string, code: string, cause?: Error): mssql.ConnectionError {
  const tedious = Object.assign(new Error(message, cause === undefined ? {} : { cause }), { code });
  return new mssql.ConnectionError(tedious);
}

describe('classifyMssqlError over real mssql error shapes', () => {
  it.each([
    [
      'ESOCKET wrapping ECONNREFUSED',
      connectionError(
        'Failed to connect to erp-db.internal:1433 - connect ECONNREFUSED 10.0.0.5:1433',
        'ESOCKET',
        Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:1433'), { code: 'ECONNREFUSED' }),
      ),
    ],
    ['ETIMEOUT', connectionError('Failed to connect to erp-db.internal:1433 in 15000ms', 'ETIMEOUT')],
    ['a bare ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('makes %s a retriable SourceUnavailableError naming host:port', (_label, error) => {
    const classified = classifyMssqlError(error, target, 'connecting');
    expect(classified).toBeInstanceOf(SourceUnavailableError);
    expect(classified.retriable).toBe(true);
    expect(classified.message).toBe(
      `SQL Server erp-db.internal:1433 is unreachable while connecting: ${error.message}`,
    );
    expect(classified.cause).toBe(error);
  });

  it('makes ELOGIN a LoginFailedError naming the login and server', () => {
    const error = connectionError("Login failed for user 'cdc'.", 'ELOGIN');
    const classified = classifyMssqlError(error, target, 'connecting');
    expect(classified).toBeInstanceOf(LoginFailedError);
    expect(classified).toBeInstanceOf(ConfigError);
    expect(classified.message).toBe(
      "Login failed for cdc on erp-db.internal:1433 while connecting: Login failed for user 'cdc'.; check the login and the password variable",
    );
  });

  it('makes error 18456 a LoginFailedError', () => {
    expect(classifyMssqlError(requestError(18456, "Login failed for user 'cdc'."), target, 'x')).toBeInstanceOf(
      LoginFailedError,
    );
  });

  it('makes ELOGIN "Cannot open database" (4060) a PermissionDeniedError naming the database', () => {
    const error = connectionError('Cannot open database "ErpDemo" requested by the login. The login failed.', 'ELOGIN');
    const classified = classifyMssqlError(error, target, 'connecting');
    expect(classified).toBeInstanceOf(PermissionDeniedError);
    expect(classified.message).toContain('cannot open database ErpDemo on erp-db.internal:1433');
  });

  it.each([
    [229, "The SELECT permission was denied on the object 'cdc_jobs', database 'msdb', schema 'dbo'."],
    [262, "CREATE TABLE permission denied in database 'ErpDemo'."],
    [297, 'The user does not have permission to perform this action.'],
    [15247, 'User does not have permission to perform this action.'],
    [22902, 'Caller is not authorized to initiate the requested action. Sysadmin privileges are required.'],
  ])('makes error %i a PermissionDeniedError naming the database', (number, message) => {
    const classified = classifyMssqlError(requestError(number, message), target, 'running query jobs');
    expect(classified).toBeInstanceOf(PermissionDeniedError);
    expect(classified.retriable).toBe(false);
    expect(classified.message).toBe(
      `Permission denied to cdc in database ErpDemo on erp-db.internal:1433 while running query jobs: ${message} (error ${number})`,
    );
  });

  it('makes any other SQL error a ConfigError with its number', () => {
    const classified = classifyMssqlError(
      requestError(208, "Invalid object name 'cdc.change_tables'."),
      target,
      'running query capture-instances',
    );
    expect(classified).toBeInstanceOf(ConfigError);
    expect(classified).not.toBeInstanceOf(PermissionDeniedError);
    expect(classified.message).toBe(
      "SQL Server erp-db.internal:1433 rejected running query capture-instances in database ErpDemo: Invalid object name 'cdc.change_tables'. (error 208)",
    );
  });

  it('passes already classified errors through', () => {
    const error = new SourceUnavailableError('down');
    expect(classifyMssqlError(error, target, 'x')).toBe(error);
  });
});
