import { type Logger } from 'pino';
import { type z } from 'zod';
import { type CanonicalEvent, type CanonicalEventType } from './canonical.js';
import { type ChangeEvent } from './envelope.js';
import { type TransformError } from './errors.js';

/**
 * What a stage did with one change event. Stages never throw for bad data:
 * they return `fail`, and the runner dead-letters the record. A record a stage
 * does not handle is never passed to it (the runner routes by input table).
 */
export type StageResult =
  | { readonly kind: 'emit'; readonly events: readonly CanonicalEvent[] }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fail'; readonly error: TransformError };

/** What a stage receives at creation. Stages log at debug level at most; the runner logs outcomes. */
export type StageContext = {
  readonly logger: Logger;
};

/** A created stage: a pure function from one change event to a {@link StageResult}. */
export type Stage = {
  readonly name: string;
  apply(event: ChangeEvent): StageResult;
};

/**
 * A transform's definition, exported by `transforms/<domain>/<name>.ts` and
 * listed in `transforms/index.ts`.
 *
 * `input.tables` are logical ERP table names (`SalesOrderHeader`): the
 * connectors normalise source-specific names, so one stage serves SQL Server
 * and PostgreSQL alike.
 */
export type TransformDefinition<S extends z.ZodType = z.ZodType> = {
  /** snake_case registry key, equal to the file name in kebab-case. */
  readonly name: string;
  readonly summary: string;
  readonly input: { readonly tables: readonly string[] };
  readonly output: readonly CanonicalEventType[];
  readonly configSchema: S;
  create(config: z.output<S>, ctx: StageContext): Stage;
};

/** Helpers for building results, so stages read as plain decisions. */
export const emit = (...events: readonly CanonicalEvent[]): StageResult => ({ kind: 'emit', events });
export const skip = (reason: string): StageResult => ({ kind: 'skip', reason });
export const fail = (error: TransformError): StageResult => ({ kind: 'fail', error });
