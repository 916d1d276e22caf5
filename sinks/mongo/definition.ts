import { type Db } from 'mongodb';
import { type z } from 'zod';
import { type CanonicalEventType } from '../../core/canonical.js';
import { type Sink, type SinkContext, type SinkRequirements } from '../../core/sink.js';

/** What a Mongo sink receives at creation: the shared sink context and the database of its read models. */
export type MongoSinkContext = SinkContext & {
  /** Carries the client's write concern (see `connect.ts`); the sink never closes it. */
  readonly db: Db;
};

/**
 * A MongoDB read model's definition, exported by `sinks/mongo/<model>.ts` and
 * listed in `sinks/index.ts` under its `name`.
 *
 * `create` validates nothing itself (the runner parses `configSchema` first),
 * ensures the model's indexes idempotently, learns what the server can do,
 * and resolves to a ready {@link Sink}. It rejects with a retriable error when
 * MongoDB cannot be reached and a `ConfigError` for conflicting indexes.
 */
export type SinkDefinition<S extends z.ZodType = z.ZodType> = {
  /** snake_case registry key, equal to the file name in kebab-case. */
  readonly name: string;
  readonly summary: string;
  /** The canonical event types the sink takes; the runner hands it only these. */
  readonly input: readonly CanonicalEventType[];
  readonly requirements: SinkRequirements;
  readonly configSchema: S;
  create(config: z.output<S>, ctx: MongoSinkContext): Promise<Sink>;
};
