import {
  ConfigError,
  LoginFailedError,
  PermissionDeniedError,
  type PipelineError,
  SourceUnavailableError,
} from '../../core/errors.js';

/** Where the failing call went: the server as `host:port`, the login and the database. Never the password. */
export type SqlServerTarget = {
  readonly server: string;
  readonly user: string;
  readonly database: string;
};

/** Driver codes (mssql/tedious `code`, Node socket `code`) that mean the server cannot be reached. */
const UNREACHABLE_CODES = new Set([
  'ESOCKET',
  'ETIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EINSTLOOKUP',
  'ECONNCLOSED',
]);

/**
 * SQL Server error numbers for a login that connected but may not do something:
 * 229 permission denied on an object, 262 permission denied in the database,
 * 297 the user does not have permission, 300 a VIEW SERVER STATE-style
 * permission is missing, 916 the login cannot access the database, 15247 the
 * user may not run the procedure, 22902 sp_cdc_enable_db needs sysadmin.
 */
const PERMISSION_NUMBERS = new Set([229, 262, 297, 300, 916, 15247, 22902]);

/** Login failed for the user (wrong password, unknown or disabled login). */
const LOGIN_FAILED = 18456;

/** Cannot open the database requested by the login: tedious reports it as ELOGIN. */
const CANNOT_OPEN_DATABASE = 4060;

/**
 * The one classifier for SQL Server errors: maps an error thrown by `mssql`
 * (and the tedious and socket errors it wraps) onto the pipeline's error tree.
 *
 * - unreachable server (`ESOCKET`, `ETIMEOUT`, `ECONNREFUSED`, …): {@link SourceUnavailableError} naming `host:port`;
 * - failed login (`ELOGIN`, error 18456): {@link LoginFailedError} naming the login and the server;
 * - no access to the database (4060, 916) or missing permission (229, 262, 297, 300, 15247, 22902):
 *   {@link PermissionDeniedError} naming the database;
 * - any other SQL error: {@link ConfigError} with the server's message and error number.
 *
 * `action` says what was being done, e.g. `running query preflight.server`. Already classified errors pass through.
 * Messages never contain the password: neither the driver's messages nor the target carry it.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
 * @see https://tediousjs.github.io/node-mssql/#errors
 */
export function classifyMssqlError(error: unknown, target: SqlServerTarget, action: string): PipelineError {
  if (error instanceof ConfigError || error instanceof SourceUnavailableError) return error;
  const details = driverDetails(error);
  const reason = details.message;
  if (details.number === CANNOT_OPEN_DATABASE || /cannot open database/i.test(reason)) {
    return new PermissionDeniedError(
      `Login ${target.user} cannot open database ${target.database} on ${target.server} while ${action}: ${reason}`,
      { cause: error },
    );
  }
  if (details.number === LOGIN_FAILED || details.codes.includes('ELOGIN')) {
    return new LoginFailedError(
      `Login failed for ${target.user} on ${target.server} while ${action}: ${reason}; check the login and the password variable`,
      { cause: error },
    );
  }
  if (details.number !== undefined && PERMISSION_NUMBERS.has(details.number)) {
    return new PermissionDeniedError(
      `Permission denied to ${target.user} in database ${target.database} on ${target.server} while ${action}: ${reason} (error ${details.number})`,
      { cause: error },
    );
  }
  if (details.codes.some((code) => UNREACHABLE_CODES.has(code))) {
    return new SourceUnavailableError(`SQL Server ${target.server} is unreachable while ${action}: ${reason}`, {
      cause: error,
    });
  }
  const number = details.number === undefined ? '' : ` (error ${details.number})`;
  return new ConfigError(
    `SQL Server ${target.server} rejected ${action} in database ${target.database}: ${reason}${number}`,
    { cause: error },
  );
}

type DriverDetails = { readonly message: string; readonly codes: readonly string[]; readonly number?: number };

/** The codes along the `originalError`/`cause` chain and the first SQL error number found on it. */
function driverDetails(error: unknown): DriverDetails {
  const codes: string[] = [];
  let number: number | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const record = current as { code?: unknown; number?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    if (number === undefined && typeof record.number === 'number') number = record.number;
    current = record.originalError ?? record.cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return number === undefined ? { message, codes } : { message, codes, number };
}
