import { type z } from 'zod';
import { type CanonicalEvent, type EventStream } from '../../core/canonical.js';
import { ConfigError, DecodeError, SourceUnavailableError, TransformError } from '../../core/errors.js';
import { classifyRegistryError, RegistryResponseError } from '../avro/classify-registry-error.js';
import {
  CONFLUENT_MAGIC_BYTE,
  confluentDecoderConfigSchema,
  frameConfluentAvro,
  type KafkaLocation,
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

/** An injectable `fetch` (for tests), and the codec's schema overrides (for tools that evolve a schema). */
export type CanonicalRegistryCodecOptions = CanonicalCodecOverrides & { readonly fetch?: typeof fetch };

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

const HEADER_LENGTH = 5;

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
  const request = registryRequest(settings, options.fetch ?? fetch);

  let registration: Promise<readonly RegisteredSubject[]> | undefined;
  const registeredIds = new Map<number, EventStream>();
  const idByStream = new Map<EventStream, number>();
  const readers = new Map<number, Promise<CanonicalReader>>();

  async function registerOne(stream: EventStream): Promise<RegisteredSubject> {
    const { topic, text } = codec.streams[stream];
    const subject = subjects[stream];
    const path = encodeURIComponent(subject);
    const body = { schemaType: 'AVRO', schema: text };
    try {
      await request('PUT', `/config/${path}`, { compatibility: 'BACKWARD' });
    } catch (error: unknown) {
      throw registrationError(error, 'setting compatibility BACKWARD on', subject, topic);
    }
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
      const current = codec.streams[own];
      return Promise.resolve({ stream: own, decode: (body) => codec.decode(current.stream, body) });
    }
    let reader = readers.get(schemaId);
    if (reader === undefined) {
      const where = `${location.topic}[${location.partition}]@${location.offset}`;
      reader = request('GET', `/schemas/ids/${schemaId}`).then(
        (json) => {
          const schemaType = json['schemaType'];
          if (schemaType !== undefined && schemaType !== 'AVRO') {
            throw new DecodeError(`Schema id ${schemaId} is ${String(schemaType)}, not AVRO, for record ${where}`, {
              ...location,
            });
          }
          if (typeof json['schema'] !== 'string') {
            // A 2xx without a schema is a broken registry or proxy, not a broken record.
            throw new SourceUnavailableError(
              `Schema registry answered schema id ${schemaId} without a schema for record ${where}`,
              { ...location },
            );
          }
          try {
            return codec.readerFor(json['schema']);
          } catch (error: unknown) {
            const detail = error instanceof Error ? error.message : String(error);
            throw new DecodeError(`Unusable schema id ${schemaId} (${detail}) for record ${where}`, {
              ...location,
              cause: error,
            });
          }
        },
        (error: unknown) => {
          throw classifyRegistryError(error, { schemaId, ...location }) ?? error;
        },
      );
      readers.set(schemaId, reader);
      // Forget failures so a later record can retry.
      reader.catch(() => readers.delete(schemaId));
    }
    return reader;
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
      const where = `${location.topic}[${location.partition}]@${location.offset}`;
      const fail = (message: string, cause?: unknown) =>
        new DecodeError(`${message} in record ${where}`, { ...location, cause });
      const bytes = record.value;
      if (bytes === null || bytes === undefined) throw fail('Null value');
      if (bytes.length === 0) throw fail('Empty value');
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      if (buffer[0] !== CONFLUENT_MAGIC_BYTE) {
        throw fail(`Bad magic byte 0x${buffer[0]!.toString(16).padStart(2, '0')}`);
      }
      if (buffer.length < HEADER_LENGTH) throw fail(`Truncated Confluent header of ${buffer.length} bytes`);
      const schemaId = buffer.readUInt32BE(1);
      const reader = await readerFor(schemaId, location);
      try {
        return reader.decode(buffer.subarray(HEADER_LENGTH));
      } catch (error: unknown) {
        const detail = error instanceof Error ? error.message : String(error);
        throw fail(`Invalid canonical event for schema id ${schemaId} (${detail})`, error);
      }
    },
  };
}

type RegistryRequest = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** One JSON request to the registry; a non-2xx answer becomes a {@link RegistryResponseError}. */
function registryRequest(
  config: z.output<typeof canonicalRegistryCodecConfigSchema>,
  doFetch: typeof fetch,
): RegistryRequest {
  const base = config.registryUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    accept: 'application/vnd.schemaregistry.v1+json, application/json',
    'content-type': 'application/vnd.schemaregistry.v1+json',
  };
  if (config.basicAuth !== undefined) {
    const token = Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64');
    headers['authorization'] = `Basic ${token}`;
  }
  return async (method, path, body) => {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(config.requestTimeoutMs),
    });
    const text = await response.text();
    const json = parseJson(text);
    if (!response.ok) {
      const errorCode = typeof json?.['error_code'] === 'number' ? json['error_code'] : undefined;
      const message = typeof json?.['message'] === 'string' ? json['message'] : text.slice(0, 200);
      throw new RegistryResponseError(response.status, errorCode, message);
    }
    return json ?? {};
  };
}

/**
 * Maps a failed registration step onto the error tree. A refusal of the
 * schema itself is a `ConfigError`: the build carries a schema the registry
 * will never accept, so retrying cannot help. Whether anything else is
 * retriable is `classifyRegistryError`'s verdict; its message names a record,
 * which a registration has none of, so the message is built here.
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
  const verdict = classifyRegistryError(error, { schemaId: 0, topic, partition: 0, offset: '0' });
  if (verdict instanceof SourceUnavailableError) {
    const status = error instanceof RegistryResponseError ? `answered ${error.status}` : 'unreachable';
    return new SourceUnavailableError(
      `Schema registry ${status} while ${action} subject ${subject}: ${deepestMessage(error)}`,
      options,
    );
  }
  if (error instanceof RegistryResponseError) {
    return new ConfigError(
      `Schema registry answered ${error.status} while ${action} subject ${subject}: ${error.message}`,
      options,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The most specific message of a cause chain: fetch's own is only "fetch failed". */
function deepestMessage(error: unknown): string {
  let link: unknown = error;
  for (let depth = 0; depth < 8; depth++) {
    const cause = typeof link === 'object' && link !== null ? (link as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null) break;
    link = cause;
  }
  return link instanceof Error ? link.message : String(link);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
