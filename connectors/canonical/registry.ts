import { type z } from 'zod';
import { type CanonicalEvent, type EventStream } from '../../core/canonical.js';
import { ConfigError, DecodeError, SourceUnavailableError, TransformError } from '../../core/errors.js';
import { classifyRegistryError, RegistryResponseError } from '../avro/classify-registry-error.js';
import {
  cachedSchemaLookup,
  confluentDecoderConfigSchema,
  createRegistryRequest,
  describeRecord,
  frameConfluentAvro,
  httpSchemaLookup,
  type KafkaLocation,
  readConfluentFrame,
  recordDecodeError,
  type SchemaCacheObserver,
} from '../avro/confluent-decoder.js';
import {
  type CanonicalCodec,
  canonicalCodecConfigSchema,
  type CanonicalCodecOverrides,
  type CanonicalReader,
  createCanonicalCodec,
} from './codec.js';

/**
 * Canonical events on Kafka: registers each stream's envelope schema under
 * the subject `<topic>-value` with per-subject compatibility BACKWARD,
 * frames encoded events in Confluent's wire format with the registered id,
 * and decodes framed records written with any registered version of the
 * schema. Registry settings are the decoder's; topics are the codec's.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export const canonicalRegistryCodecConfigSchema = confluentDecoderConfigSchema.extend(canonicalCodecConfigSchema.shape);

export type CanonicalRegistryCodecConfig = z.input<typeof canonicalRegistryCodecConfigSchema>;

/**
 * An injectable `fetch` (for tests), the codec's schema overrides (for tools that evolve a schema), and an observer
 * of the writer-schema cache (for metrics).
 */
export type CanonicalRegistryCodecOptions = CanonicalCodecOverrides & {
  readonly fetch?: typeof fetch;
  /** Hears `hit` for a writer schema id known already (registered by this process, or cached), `miss` otherwise. */
  readonly onCacheLookup?: SchemaCacheObserver;
};

/** One registered schema. */
export type RegisteredSubject = {
  readonly stream: EventStream;
  readonly topic: string;
  readonly subject: string;
  /** The registry's schema id, written into every framed record. */
  readonly id: number;
  /** The subject's version holding this schema. */
  readonly version: number;
};

/** A record to produce: topic, the aggregate key as a UTF-8 string, and the framed Avro value. */
export type CanonicalRecord = { readonly topic: string; readonly key: string; readonly value: Buffer };

/** A consumed record: where it came from and its value bytes. */
export type CanonicalSourceRecord = KafkaLocation & { readonly value: Uint8Array | null };

/**
 * Registers, encodes and decodes canonical events through the registry.
 *
 * - `ensureRegistered` sets each subject's compatibility to BACKWARD and
 *   registers the current schema, once; later calls share the result, and a
 *   failure is forgotten so that the next call tries again. It throws a
 *   `ConfigError` naming the subject when the registry refuses the schema as
 *   incompatible (HTTP 409, confirmed by its compatibility check) or invalid
 *   (422), or answers a request as malformed; a retriable
 *   `SourceUnavailableError` when the registry cannot be reached, answers
 *   5xx, 408 or 429, points at our set-up (401, 403, 404), as
 *   `classify-registry-error.ts` decides, or answers 409 for a schema its
 *   compatibility check accepts (Apicurio's concurrent creation of a subject).
 * - `encode` registers first if needed, then throws what `ensureRegistered`
 *   throws, or a `TransformError` naming the field, value and event for an
 *   event its schema cannot hold (see `CanonicalCodec.encode`).
 * - `decode` throws a `DecodeError` carrying topic, partition and offset for
 *   a null or empty value, bad framing, an id the registry does not know, a
 *   writer schema that is no canonical envelope or that this build cannot
 *   read, and bytes that are no valid event; and a `SourceUnavailableError`
 *   when the registry cannot be reached. Writer schemas are fetched once per
 *   id; the ids registered by this process need no lookup.
 */
export type CanonicalRegistryCodec = {
  readonly codec: CanonicalCodec;
  /** The subject of each stream, `<topic>-value`. */
  readonly subjects: Readonly<Record<EventStream, string>>;
  readonly ensureRegistered: () => Promise<readonly RegisteredSubject[]>;
  readonly encode: (event: CanonicalEvent) => Promise<CanonicalRecord>;
  readonly decode: (record: CanonicalSourceRecord) => Promise<CanonicalEvent>;
};

/** Creates the registry codec; throws a `ConfigError` naming the key path of an invalid setting. */
export function createCanonicalRegistryCodec(
  config: CanonicalRegistryCodecConfig,
  options: CanonicalRegistryCodecOptions = {},
): CanonicalRegistryCodec {
  const parsed = canonicalRegistryCodecConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid canonical registry setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const settings = parsed.data;
  const codec = createCanonicalCodec({ topics: settings.topics }, options);
  const streams = Object.values(codec.streams);
  const subjects = Object.fromEntries(streams.map((s) => [s.stream, `${s.topic}-value`])) as Record<
    EventStream,
    string
  >;
  const request = createRegistryRequest(settings, options.fetch);

  let registration: Promise<readonly RegisteredSubject[]> | undefined;
  const registeredIds = new Map<number, EventStream>();
  const idByStream = new Map<EventStream, number>();
  const observeCache = options.onCacheLookup ?? (() => {});
  const lookupReader = cachedSchemaLookup(
    httpSchemaLookup(request),
    (text, schemaId, location) => {
      try {
        return codec.readerFor(text);
      } catch (error: unknown) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new DecodeError(`Unusable schema id ${schemaId} (${detail}) for record ${describeRecord(location)}`, {
          ...location,
          cause: error,
        });
      }
    },
    observeCache,
  );

  /**
   * Sets the subject's compatibility to BACKWARD. Apicurio answers 409 ("A rule named 'COMPATIBILITY' already
   * exists") when another worker created the subject's rule at the same moment; the rule exists then, and setting
   * it again updates it. A second 409 is retriable, never a refusal of the schema.
   */
  async function setBackwardCompatibility(subject: string, topic: string): Promise<void> {
    const put = () => request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: 'BACKWARD' });
    const action = 'setting compatibility BACKWARD on';
    try {
      await put().catch((error: unknown) => {
        if (error instanceof RegistryResponseError && error.status === 409) return put();
        throw error;
      });
    } catch (error: unknown) {
      if (error instanceof RegistryResponseError && error.status === 409) {
        throw new SourceUnavailableError(
          `Schema registry answered 409 twice while ${action} subject ${subject}: ${error.message}`,
          { topic, cause: error },
        );
      }
      throw registrationError(error, action, subject, topic);
    }
  }

  async function registerOne(stream: EventStream): Promise<RegisteredSubject> {
    const { topic, text } = codec.streams[stream];
    const subject = subjects[stream];
    const path = encodeURIComponent(subject);
    const body = { schemaType: 'AVRO', schema: text };
    await setBackwardCompatibility(subject, topic);
    let id: unknown;
    let version: unknown;
    try {
      ({ id } = await request('POST', `/subjects/${path}/versions`, body));
      // Registering answers only the id; looking the schema up under the subject also gives its version.
      ({ version } = await request('POST', `/subjects/${path}`, body));
    } catch (error: unknown) {
      if (error instanceof RegistryResponseError && error.status === 409) {
        // Confluent's registry answers 409 only for an incompatible schema. Apicurio also answers it when two
        // clients create the same subject at once ("already exists"), which a retry resolves. Ask which it was.
        const verdict = await request('POST', `/compatibility/subjects/${path}/versions/latest`, body).catch(
          () => undefined,
        );
        if (verdict?.['is_compatible'] !== false) {
          throw new SourceUnavailableError(
            `Schema registry answered 409 while registering the schema of subject ${subject} but does not find it incompatible: ${error.message}`,
            { topic, cause: error },
          );
        }
      }
      throw registrationError(error, 'registering the schema of', subject, topic);
    }
    if (typeof id !== 'number' || typeof version !== 'number') {
      throw new SourceUnavailableError(
        `Schema registry registered subject ${subject} without answering its id and version`,
        { topic },
      );
    }
    return { stream, topic, subject, id, version };
  }

  function ensureRegistered(): Promise<readonly RegisteredSubject[]> {
    if (registration === undefined) {
      registration = (async () => {
        const registered: RegisteredSubject[] = [];
        // One after the other: Apicurio's in-memory store fails concurrent registrations now and then.
        for (const { stream } of streams) registered.push(await registerOne(stream));
        for (const entry of registered) {
          registeredIds.set(entry.id, entry.stream);
          idByStream.set(entry.stream, entry.id);
        }
        return registered;
      })();
      // Forget failures so the next call tries again; every waiter still sees this failure.
      registration.catch(() => {
        registration = undefined;
      });
    }
    return registration;
  }

  function readerFor(schemaId: number, location: KafkaLocation): Promise<CanonicalReader> {
    const own = registeredIds.get(schemaId);
    if (own !== undefined) {
      // Registered by this process: known without asking the registry, which is what a cache hit means.
      observeCache('hit');
      const current = codec.streams[own];
      return Promise.resolve({ stream: own, decode: (body) => codec.decode(current.stream, body) });
    }
    return lookupReader(schemaId, location);
  }

  return {
    codec,
    subjects,
    ensureRegistered,
    async encode(event) {
      await ensureRegistered();
      let encoded;
      try {
        encoded = codec.encode(event);
      } catch (error: unknown) {
        if (!(error instanceof RangeError)) throw error;
        throw new TransformError(`Canonical event does not fit its schema: ${error.message}`, { cause: error });
      }
      const id = idByStream.get(encoded.stream)!;
      return { topic: encoded.topic, key: encoded.key, value: frameConfluentAvro(id, encoded.body) };
    },
    async decode(record) {
      const location = { topic: record.topic, partition: record.partition, offset: record.offset };
      const { schemaId, body } = readConfluentFrame(record.value, location);
      const reader = await readerFor(schemaId, location);
      try {
        return reader.decode(body);
      } catch (error: unknown) {
        const detail = error instanceof Error ? error.message : String(error);
        throw recordDecodeError(`Invalid canonical event for schema id ${schemaId} (${detail})`, location, error);
      }
    },
  };
}

/**
 * Maps a failed registration step onto the error tree. A refusal of the
 * schema itself is a `ConfigError`: the build carries a schema the registry
 * will never accept, so retrying cannot help. Whether anything else is
 * retriable is `classifyRegistryError`'s verdict; any other answer is a
 * `ConfigError` too.
 */
function registrationError(error: unknown, action: string, subject: string, topic: string): Error {
  const options = { topic, cause: error };
  if (error instanceof RegistryResponseError && error.status === 409) {
    return new ConfigError(
      `Schema registry refused the schema for subject ${subject} as not BACKWARD compatible with its registered versions: ${error.message}`,
      options,
    );
  }
  if (error instanceof RegistryResponseError && error.status === 422) {
    return new ConfigError(
      `Schema registry refused the schema for subject ${subject} as invalid (error code ${String(error.errorCode)}): ${error.message}`,
      options,
    );
  }
  const verdict = classifyRegistryError(error, { subject, action, topic });
  if (verdict !== undefined) return verdict;
  if (error instanceof RegistryResponseError) {
    return new ConfigError(
      `Schema registry answered ${error.status} while ${action} subject ${subject}: ${error.message}`,
      options,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
