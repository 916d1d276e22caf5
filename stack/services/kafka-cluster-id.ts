import { randomBytes } from 'node:crypto';

/** Where {@link randomClusterId} takes its random bytes from; `crypto.randomBytes` unless a test stubs it. */
export type RandomSource = (size: number) => Buffer;

/**
 * A KRaft cluster id for `kafka-storage format --cluster-id`, made as Kafka's
 * own `Uuid.randomUuid()` makes one: a version 4, variant 2 UUID (the layout
 * of `java.util.UUID.randomUUID()`) in URL-safe base64 without padding, 22
 * characters long.
 *
 * Guarantees the id never starts with `-`: the tool's argument parser takes
 * such a value for an option and refuses the format ("argument
 * --cluster-id/-t: expected one argument"). One UUID in 64 would (a first
 * byte of 0xf8 to 0xfb), so, like Kafka, it draws again until the id does
 * not. The version bits rule out Kafka's reserved ids (all zeros, and the
 * metadata topic's 0…01).
 *
 * @see https://github.com/apache/kafka/blob/trunk/clients/src/main/java/org/apache/kafka/common/Uuid.java
 * @see https://kafka.apache.org/documentation/#kraft_storage
 */
export function randomClusterId(random: RandomSource = randomBytes): string {
  for (;;) {
    const bytes = Buffer.from(random(16));
    if (bytes.length !== 16) throw new Error(`The random source gave ${bytes.length} bytes for a cluster id, not 16`);
    // RFC 9562 version 4 and variant 2, as java.util.UUID.randomUUID() sets them.
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const id = bytes.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
