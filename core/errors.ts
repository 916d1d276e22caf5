/**
 * The pipeline's error tree. Every error the pipeline raises on purpose is a
 * {@link PipelineError}; its `retriable` flag decides between backing off
 * (retriable) and dead-lettering (not retriable). Programming errors
 * (`TypeError` and friends) are never wrapped and never retried.
 */

/** Where in the stream an error happened, when known. */
export type RecordLocation = {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly stage?: string;
};

export type PipelineErrorOptions = RecordLocation & { readonly cause?: unknown };

/** Base of the tree. `name` is the subclass's constructor name. */
export abstract class PipelineError extends Error {
  abstract readonly retriable: boolean;
  readonly location: RecordLocation;

  constructor(message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    const { cause: _cause, ...location } = options;
    this.location = location;
  }
}

/** Invalid configuration: a key path and its bad value. Fails start-up; never retried. */
export class ConfigError extends PipelineError {
  readonly retriable = false;
}

/**
 * A database rejected the credentials: the login named in the message does not exist, its password is wrong, or it is
 * disabled. A kind of {@link ConfigError}: retrying with the same credentials cannot help.
 */
export class LoginFailedError extends ConfigError {}

/**
 * A database refused an action to a login that did connect: missing role membership, grant or database access. The
 * message names the database. A kind of {@link ConfigError}: never retried.
 */
export class PermissionDeniedError extends ConfigError {}

/** Bytes that cannot be decoded into a change event (bad framing, unknown schema). Dead-lettered. */
export class DecodeError extends PipelineError {
  readonly retriable = false;
}

/** A stage rejected a record it is responsible for. Dead-lettered. */
export class TransformError extends PipelineError {
  readonly retriable = false;
}

/**
 * A record to produce is larger than its topic (`max.message.bytes`) or a
 * produce request takes, even alone; the message names topic, key, size and
 * limit. Never retried: the same bytes never fit. The transform runner
 * dead-letters the change whose event it is.
 */
export class RecordTooLargeError extends PipelineError {
  readonly retriable = false;
}

/** A sink write failed. Retriable for transient causes (network, primary stepdown), not for bad documents. */
export class SinkWriteError extends PipelineError {
  readonly retriable: boolean;

  constructor(message: string, options: PipelineErrorOptions & { readonly retriable: boolean }) {
    const { retriable, ...rest } = options;
    super(message, rest);
    this.retriable = retriable;
  }
}

/** A dependency (Kafka, the registry, MongoDB, the ERP database) cannot be reached. Always retriable. */
export class SourceUnavailableError extends PipelineError {
  readonly retriable = true;
}

/** True for errors the runner may retry after backing off. */
export function isRetriable(error: unknown): boolean {
  return error instanceof PipelineError && error.retriable;
}
