import { z } from 'zod';
import { ConfigError, DecodeError, SourceUnavailableError } from '../../core/errors.js';
import { type AvroCodec, createAvroCodec } from './avro-codec.js';
import { classifyRegistryError, RegistryResponseError } from './classify-registry-error.js';
import { type AvroValue } from './debezium-types.js';

/** A schema registry's base URL, the one way it is checked (the `schemaRegistry` section and the decoder's settings). */
const registryUrlSchema = z.url();

/**
 * The pipeline's `schemaRegistry` section: where the Confluent-compatible registry of the source and the canonical
 * topics is. The runtime hands its `url` to the decoder and the canonical registry codec as their `registryUrl`.
 */
export const schemaRegistryConfigSchema = z.object({
  url: registryUrlSchema
    .default('http://127.0.0.1:8081/apis/ccompat/v7')
    .describe('Base URL of the Confluent-compatible schema registry API'),
});

/** The validated `schemaRegistry` section. */
export type SchemaRegistryConfig = z.output<typeof schemaRegistryConfigSchema>;

/**
 * Decodes Kafka record values and keys in Confluent's wire format: magic
 * byte 0, a 4-byte big-endian schema id, then the Avro binary body written
 * with that schema.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export const confluentDecoderConfigSchema = z.object({
  registryUrl: registryUrlSchema.describe(
    'Base URL of the Confluent-compatible schema registry, e.g. http://127.0.0.1:8081',
  ),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('How long one schema lookup may take before the registry counts as unavailable'),
  basicAuth: z
    .object({ username: z.string(), password: z.string() })
    .optional()
    .describe('Credentials for a registry behind HTTP basic authentication'),
});

export type ConfluentDecoderConfig = z.input<typeof confluentDecoderConfigSchema>;

/** Fetches the schema text registered under an id; how a registry client other than plain HTTP plugs in. */
export type SchemaLookup = (schemaId: number) => Promise<string>;

/**
 * Told of every schema lookup by id: `hit` when the id's schema is cached (or
 * its lookup already under way), `miss` when it has to be fetched.
 */
export type SchemaCacheObserver = (result: 'hit' | 'miss') => void;

/**
 * Either registry settings (with an injectable `fetch`, for tests) or a lookup function of your own; either way an
 * optional observer of the schema cache, for metrics.
 */
export type ConfluentDecoderOptions = (
  (ConfluentDecoderConfig & { readonly fetch?: typeof fetch }) | { readonly lookupSchema: SchemaLookup }
) & { readonly onCacheLookup?: SchemaCacheObserver };

/** Where a Kafka record came from; every error names it. */
export type KafkaLocation = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
};

/** One decoded value, in the representation of `debezium-types.ts`. */
export type DecodedRecord = {
  readonly schemaId: number;
  /** Full name of the writer schema's record, e.g. `erp.erp.dbo.SalesOrder.Envelope`. */
  readonly schemaName: string | undefined;
  readonly value: AvroValue;
};

/**
 * Decodes Confluent-framed Avro.
 *
 * `decode` throws a `DecodeError` carrying topic, partition and offset for a
 * null or empty value (tombstones are the caller's case, before decoding), a
 * bad magic byte, truncated bytes, trailing bytes after the Avro body, an id
 * the registry does not know, an invalid schema, and a value a logical type
 * rejects; and a `SourceUnavailableError` when the registry cannot be
 * reached. Schemas are fetched once per id and compiled once; concurrent
 * decodes of an id not yet seen share one registry request.
 */
export type ConfluentDecoder = {
  readonly decode: (bytes: Uint8Array | null | undefined, location: KafkaLocation) => Promise<DecodedRecord>;
};

/** Confluent's magic byte, the first byte of every framed record. */
export const CONFLUENT_MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;

/**
 * Creates a decoder; throws a `ConfigError` naming the key path of an invalid setting. With `registryUrl`, schemas come from
 * `GET {registryUrl}/schemas/ids/{id}`; with `lookupSchema`, from that function.
 * Failed lookups are not cached, so the next record retries the registry.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#get--schemas-ids-int-%20id
 */
export function createConfluentDecoder(options: ConfluentDecoderOptions): ConfluentDecoder {
  const lookupSchema =
    'lookupSchema' in options
      ? options.lookupSchema
      : httpSchemaLookup(createRegistryRequest(parseRegistrySettings(options), options.fetch));
  const codecFor = cachedSchemaLookup(lookupSchema, compileSchema, options.onCacheLookup);

  return {
    async decode(bytes, location) {
      const { schemaId, body } = readConfluentFrame(bytes, location);
      const codec = await codecFor(schemaId, location);
      let decoded: { readonly value: AvroValue; readonly end: number };
      try {
        decoded = codec.decode(body);
      } catch (error: unknown) {
        const detail = error instanceof Error ? error.message : String(error);
        throw recordDecodeError(`Invalid Avro body for schema id ${schemaId} (${detail})`, location, error);
      }
      if (decoded.end < 0) {
        throw recordDecodeError(`Truncated Avro body of ${body.length} bytes for schema id ${schemaId}`, location);
      }
      if (decoded.end < body.length) {
        throw recordDecodeError(
          `${body.length - decoded.end} trailing bytes after the Avro body for schema id ${schemaId}`,
          location,
        );
      }
      return { schemaId, schemaName: codec.name, value: decoded.value };
    },
  };
}

/** The two parts of a Confluent-framed record. */
export type ConfluentFrame = {
  /** The schema id from the header, as the registry numbers it. */
  readonly schemaId: number;
  /** The Avro binary body after the header; a view into the record's bytes, not a copy. */
  readonly body: Buffer;
};

/**
 * Splits a record value into its Confluent header and Avro body; the inverse
 * of {@link frameConfluentAvro}. Accepts a `Buffer` or any `Uint8Array` view.
 * Throws a `DecodeError` carrying topic, partition and offset for a null or
 * empty value (tombstones are the caller's case, before decoding), a bad
 * magic byte and a header cut short. Does not look at the body.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format
 */
export function readConfluentFrame(bytes: Uint8Array | null | undefined, location: KafkaLocation): ConfluentFrame {
  if (bytes === null || bytes === undefined) throw recordDecodeError('Null value', location);
  if (bytes.length === 0) throw recordDecodeError('Empty value', location);
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer[0] !== CONFLUENT_MAGIC_BYTE) {
    throw recordDecodeError(`Bad magic byte 0x${buffer[0]!.toString(16).padStart(2, '0')}`, location);
  }
  if (buffer.length < HEADER_LENGTH) {
    throw recordDecodeError(`Truncated Confluent header of ${buffer.length} bytes`, location);
  }
  return { schemaId: buffer.readUInt32BE(1), body: buffer.subarray(HEADER_LENGTH) };
}

/** Frames an Avro body in Confluent's wire format; the inverse of {@link readConfluentFrame}. */
export function frameConfluentAvro(schemaId: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** A record as messages name it: `topic[partition]@offset`. */
export function describeRecord(location: KafkaLocation): string {
  return `${location.topic}[${location.partition}]@${location.offset}`;
}

/** A `DecodeError` whose message ends `in record topic[partition]@offset`, carrying that location. */
export function recordDecodeError(message: string, location: KafkaLocation, cause?: unknown): DecodeError {
  return new DecodeError(`${message} in record ${describeRecord(location)}`, { ...location, cause });
}

/** Registry settings once validated, with their defaults. */
export type RegistrySettings = z.output<typeof confluentDecoderConfigSchema>;

/**
 * One JSON request to the registry: method, path below `registryUrl`, and an
 * optional body. Resolves to the parsed JSON object (`{}` for an empty or
 * non-object answer); rejects with a {@link RegistryResponseError} for a
 * non-2xx answer, and with fetch's own errors when the registry cannot be
 * reached or the request times out. Map both with `classifyRegistryError`.
 */
export type RegistryRequest = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** Validates registry settings; throws a `ConfigError` naming the key path of an invalid one. */
export function parseRegistrySettings(config: ConfluentDecoderConfig): RegistrySettings {
  const parsed = confluentDecoderConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid schema registry setting ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Creates the {@link RegistryRequest} of validated settings: base URL without
 * trailing slashes, Confluent's media types, basic authentication when set,
 * and a time-out of `requestTimeoutMs` per request. `doFetch` is for tests.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#content-types
 */
export function createRegistryRequest(settings: RegistrySettings, doFetch: typeof fetch = fetch): RegistryRequest {
  const base = settings.registryUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (settings.basicAuth !== undefined) {
    const token = Buffer.from(`${settings.basicAuth.username}:${settings.basicAuth.password}`).toString('base64');
    headers['authorization'] = `Basic ${token}`;
  }
  const withBody = { ...headers, 'content-type': 'application/vnd.schemaregistry.v1+json' };
  return async (method, path, body) => {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : withBody,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(settings.requestTimeoutMs),
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
 * The {@link SchemaLookup} of `GET /schemas/ids/{id}` over a registry
 * request. Besides the request's own failures it rejects an answer that
 * holds a schema other than Avro, or no schema at all;
 * {@link cachedSchemaLookup} turns those into a `DecodeError` and a
 * retriable `SourceUnavailableError` naming the record.
 *
 * @see https://docs.confluent.io/platform/current/schema-registry/develop/api.html#get--schemas-ids-int-%20id
 */
export function httpSchemaLookup(request: RegistryRequest): SchemaLookup {
  return async (schemaId) => {
    const json = await request('GET', `/schemas/ids/${schemaId}`);
    const schemaType = json['schemaType'];
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      throw new UnusableSchemaError(false, `Schema id ${schemaId} is ${String(schemaType)}, not AVRO,`);
    }
    if (typeof json['schema'] !== 'string') {
      // A 2xx without a schema is a broken registry or proxy, not a broken record.
      throw new UnusableSchemaError(true, `Schema registry answered schema id ${schemaId} without a schema`);
    }
    return json['schema'];
  };
}

/**
 * Wraps a {@link SchemaLookup} and a compiler into a per-id cache of compiled
 * schemas. Concurrent calls for an id not yet seen share one lookup; a
 * failure is forgotten once every waiter has seen it, so the next record
 * retries. A failed lookup rejects with what `classifyRegistryError` makes
 * of it for the record at hand (or the original error when it is no registry
 * failure); `compile` is called once per id and throws what it throws,
 * typically a `DecodeError` naming the record. `observe` hears `hit` for an
 * id in the cache (also while its lookup is still under way) and `miss` for
 * one that has to be looked up, so misses count registry requests.
 */
export function cachedSchemaLookup<T>(
  lookup: SchemaLookup,
  compile: (text: string, schemaId: number, location: KafkaLocation) => T,
  observe: SchemaCacheObserver = () => {},
): (schemaId: number, location: KafkaLocation) => Promise<T> {
  const cache = new Map<number, Promise<T>>();
  return (schemaId, location) => {
    let compiled = cache.get(schemaId);
    observe(compiled === undefined ? 'miss' : 'hit');
    if (compiled === undefined) {
      compiled = lookup(schemaId).then(
        (text) => compile(text, schemaId, location),
        (error: unknown) => {
          if (error instanceof UnusableSchemaError) {
            const message = `${error.message} for record ${describeRecord(location)}`;
            const options = { ...location, cause: error };
            throw error.retriable ? new SourceUnavailableError(message, options) : new DecodeError(message, options);
          }
          throw classifyRegistryError(error, { schemaId, ...location }) ?? error;
        },
      );
      cache.set(schemaId, compiled);
      // Forget failures so a later record can retry; every waiter still sees this failure.
      compiled.catch(() => cache.delete(schemaId));
    }
    return compiled;
  };
}

function compileSchema(text: string, schemaId: number, location: KafkaLocation): AvroCodec {
  try {
    return createAvroCodec(text);
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new DecodeError(`Invalid schema id ${schemaId} (${detail}) for record ${describeRecord(location)}`, {
      ...location,
      cause: error,
    });
  }
}

/** A 2xx answer that still gives no usable Avro schema. */
class UnusableSchemaError extends Error {
  constructor(
    readonly retriable: boolean,
    message: string,
  ) {
    super(message);
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
