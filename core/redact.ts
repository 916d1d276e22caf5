/**
 * Secret redaction for everything cdc-sync prints: log lines, error messages
 * and `--help` text. Credentials reach those places inside connection strings
 * (`mongodb://user:secret@host`, `Password=secret;`) and inside config
 * objects (`kafka.sasl.password`), so both are covered: strings by pattern,
 * objects by key name.
 */

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Key names whose values are always secret, compared case-insensitively, wherever they appear in an object. */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'sasl_password',
] as const;

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS);

/** `scheme://user:password@` in URLs: the user stays, so a reader still knows which login was used. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@\s]*)@/gi;
/** `Password=…;` and friends in ADO.NET/JDBC/libpq key-value connection strings, quoted or not. */
const KEY_VALUE_SECRET =
  /\b(password|pwd|passwd|secret|token|sasl\.password|sasl\.jaas\.config)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^;\s,&]+)/gi;

/** Replaces credentials inside connection strings and `key=value` text. Idempotent. */
export function redactText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, (_match, head: string) => `${head}:${REDACTED}@`)
    .replace(KEY_VALUE_SECRET, (_match, key: string, separator: string) => `${key}${separator}${REDACTED}`);
}

/** True for a key whose value is a secret, e.g. `password` or `saslPassword`. */
export function isSecretKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SECRET_KEY_SET.has(lower) || lower.endsWith('password') || lower.endsWith('secret');
}

/**
 * A deep copy with secret-named keys replaced and every string passed through
 * {@link redactText}. Errors become plain objects keeping name, message,
 * stack and cause, each redacted. Cycles are cut, not followed.
 */
export function redactValue(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) return redactError(value, seen);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, isSecretKey(key) ? REDACTED : redactValue(item, seen)]),
  );
}

/** An error as a plain, redacted object for logs: the shape pino's standard error serializer produces. */
export function redactError(error: Error, seen: WeakSet<object> = new WeakSet()): Record<string, unknown> {
  seen.add(error);
  const fields = Object.fromEntries(
    Object.entries(error).map(([key, item]) => [key, isSecretKey(key) ? REDACTED : redactValue(item, seen)]),
  );
  return {
    type: error.name,
    ...fields,
    message: redactText(error.message),
    ...(error.stack === undefined ? {} : { stack: redactText(error.stack) }),
    ...(error.cause === undefined ? {} : { cause: redactValue(error.cause, seen) }),
  };
}
