import { DecodeError, type PipelineErrorOptions, SourceUnavailableError } from '../../core/errors.js';

/**
 * A schema registry answered a request with a status other than 2xx.
 * Thrown by the registry requests of `confluent-decoder.ts` and mapped onto the
 * error tree by {@link classifyRegistryError}; never leaves `connectors/`.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#errors
 */
export class RegistryResponseError extends Error {
  constructor(
    readonly status: number,
    /** Confluent's `error_code` from the response body, e.g. 40403 (schema not found), when the body had one. */
    readonly errorCode: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The record whose schema was being looked up. */
export type RegistryLookupContext = {
  readonly schemaId: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
};

/** The registration step that failed: what was being done to which subject, and the subject's topic. */
export type RegistrySubjectContext = {
  readonly subject: string;
  /** Completes "while … subject", e.g. `registering the schema of`. */
  readonly action: string;
  readonly topic: string;
};

/** Confluent's error code for "Schema not found". */
const SCHEMA_NOT_FOUND = 40403;

/** Error codes of Node's sockets, DNS and undici that mean the registry could not be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

const NETWORK_MESSAGE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|socket hang up/;

/**
 * The one place that maps schema-registry failures onto the error tree.
 *
 * - The registry does not know the id (HTTP 404 with Confluent error code
 *   40403, or a client error saying the schema was not found): a
 *   {@link DecodeError}, because no retry will make that record decodable.
 * - The registry cannot be reached (connection refused or reset, DNS, time-outs),
 *   answers 5xx, 408 or 429, or answers in a way that points at our own set-up
 *   rather than at the record (401/403, or a 404 without a registry error
 *   code, i.e. a wrong URL): a {@link SourceUnavailableError}, so the runner
 *   backs off instead of dead-lettering every record while the registry or its
 *   configuration is broken.
 * - Anything else, including programming errors, is returned as `undefined`:
 *   the caller rethrows the original error untouched.
 *
 * With a {@link RegistrySubjectContext} (a registration, which has no
 * record) the messages name the subject and the step instead, the error
 * carries only the topic, and a "schema not found" answer is left to the
 * caller like anything else: it names no record that could be dead-lettered.
 *
 * Accepts {@link RegistryResponseError}, Node's and undici's network errors
 * (also as the `cause` of fetch's `TypeError: fetch failed`), abort and
 * time-out `DOMException`s, and errors of `@kafkajs/confluent-schema-registry`
 * (which carry a numeric `status`).
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#errors
 */
export function classifyRegistryError(
  error: unknown,
  context: RegistryLookupContext | RegistrySubjectContext,
): DecodeError | SourceUnavailableError | undefined {
  const status = statusOf(error);
  const notFound = status === 404 && isSchemaNotFound(error);
  if ('subject' in context) {
    if (notFound) return undefined;
    const what = `while ${context.action} subject ${context.subject}`;
    return unavailable(error, status, what, { cause: error, topic: context.topic });
  }
  const where = `${context.topic}[${context.partition}]@${context.offset}`;
  const options = {
    cause: error,
    topic: context.topic,
    partition: context.partition,
    offset: context.offset,
  };
  if (notFound) {
    return new DecodeError(`Unknown schema id ${context.schemaId} in record ${where}`, options);
  }
  return unavailable(error, status, `for schema id ${context.schemaId} of record ${where}`, options);
}

/** A `SourceUnavailableError` for a status or network failure that is no fault of the request; else `undefined`. */
function unavailable(
  error: unknown,
  status: number | undefined,
  what: string,
  options: PipelineErrorOptions,
): SourceUnavailableError | undefined {
  if (status !== undefined && (status >= 500 || [401, 403, 404, 408, 429].includes(status))) {
    const detail = error instanceof Error ? error.message : String(error);
    return new SourceUnavailableError(`Schema registry answered ${status} ${what}: ${detail}`, options);
  }
  if (isNetworkError(error)) {
    return new SourceUnavailableError(`Schema registry unreachable ${what}: ${networkDetail(error)}`, options);
  }
  return undefined;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

function isSchemaNotFound(error: unknown): boolean {
  if (error instanceof RegistryResponseError) return error.errorCode === SCHEMA_NOT_FOUND;
  // @kafkajs/confluent-schema-registry keeps only the registry's message, e.g. "Schema 4711 not found".
  return error instanceof Error && /schema .*not found/i.test(error.message);
}

function isNetworkError(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (link instanceof Error && (link.name === 'AbortError' || link.name === 'TimeoutError')) return true;
    if (link instanceof Error && NETWORK_MESSAGE.test(link.message)) return true;
  }
  return false;
}

/** The most specific message in the chain: fetch's own is only "fetch failed". */
function networkDetail(error: unknown): string {
  const chain = causeChain(error);
  const last = chain[chain.length - 1];
  return last instanceof Error ? last.message : String(last);
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let link: unknown = error;
  // Bounded: a cause cycle must not hang the classifier.
  while (link !== undefined && link !== null && chain.length < 8) {
    chain.push(link);
    link = typeof link === 'object' ? (link as { cause?: unknown }).cause : undefined;
  }
  return chain;
}
