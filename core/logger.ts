import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { z } from 'zod';
import { REDACTED, redactText, redactValue } from './redact.js';

/** The pipeline's `logLevel` setting. */
export const logLevelSchema = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  .default('info')
  .describe('pino log level');

const SECRET_FIELD_NAMES = ['password', 'passwd', 'pwd', 'secret', 'token', 'apiKey'] as const;
/** `password`, `*.password` and `*.*.password`, for each secret field name. */
const CHILD_BINDING_SECRET_PATHS = SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

/** What every cdc-sync logger is created from. */
export type LoggerSettings = {
  readonly level: LoggerOptions['level'];
  /** Fields on every line, e.g. service, role and version. */
  readonly base?: Record<string, unknown>;
};

/**
 * Creates a pino logger whose every line is redacted: secret-named fields
 * (`password`, `sasl.password`, …) are replaced, and credentials inside any
 * string — the message, error messages and stacks, nested fields — are
 * masked (see `core/redact.ts`). Every logger of the project comes from here.
 */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? null,
    formatters: {
      log: (fields) => redactValue(fields) as Record<string, unknown>,
    },
    // Child bindings bypass the log formatter; pino's own redaction covers secret-named keys there.
    redact: { paths: CHILD_BINDING_SECRET_PATHS, censor: REDACTED },
    // The log formatter has already turned errors into redacted plain objects (see `redactError`).
    serializers: { err: (value: unknown) => value },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
