import { describe, expect, it } from 'vitest';
import { randomClusterId } from './kafka-cluster-id.js';

/** A random source that hands out the given 16-byte blocks in order, and counts the calls. */
function scriptedSource(...blocks: number[][]) {
  let calls = 0;
  const source = (size: number): Buffer => {
    expect(size).toBe(16);
    const block = blocks[calls++];
    if (block === undefined) throw new Error(`Random source called ${calls} times; only ${blocks.length} blocks`);
    return Buffer.from(block);
  };
  return { source, calls: () => calls };
}

/** 16 bytes starting with `first`, the rest 0x11. */
const startingWith = (first: number): number[] => [first, ...Array<number>(15).fill(0x11)];
/** What {@link startingWith} becomes with the UUID version (byte 6) and variant (byte 8) bits set. */
const asUuid = (first: number): number[] => [
  first,
  0x11,
  0x11,
  0x11,
  0x11,
  0x11,
  0x41,
  0x11,
  0x91,
  ...Array<number>(7).fill(0x11),
];
const bytesOf = (id: string): number[] => [...Buffer.from(id, 'base64url')];

describe('randomClusterId', () => {
  it.each([
    ['f8', 0xf8],
    ['f9', 0xf9],
    ['fa', 0xfa],
    ['fb', 0xfb],
  ])('draws again when a first byte of 0x%s would make the id start with "-"', (_hex, first) => {
    // The plain encoding of these bytes is what `kafka-storage format --cluster-id` refused.
    expect(Buffer.from(startingWith(first)).toString('base64url')).toMatch(/^-/);
    const random = scriptedSource(startingWith(first), startingWith(0x00));

    const id = randomClusterId(random.source);

    expect(id).toBe('ABERERERQRGREREREREREQ');
    expect(bytesOf(id)).toEqual(asUuid(0x00));
    expect(random.calls()).toBe(2);
  });

  it('keeps drawing while every id would start with "-"', () => {
    const random = scriptedSource(startingWith(0xf8), startingWith(0xfb), startingWith(0xf9), startingWith(0xf7));

    const id = randomClusterId(random.source);

    expect(id).toBe('9xERERERQRGREREREREREQ');
    expect(bytesOf(id)).toEqual(asUuid(0xf7));
    expect(random.calls()).toBe(4);
  });

  it('lays the bytes out as a version 4, variant 2 UUID, as Kafka and java.util.UUID do', () => {
    const random = scriptedSource(Array<number>(16).fill(0xff));

    expect(bytesOf(randomClusterId(random.source))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4f, 0xff, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
  });

  it('never returns Kafka reserved ids (all zeros, 0…01)', () => {
    expect(randomClusterId(scriptedSource(Array<number>(16).fill(0)).source)).toBe('AAAAAAAAQACAAAAAAAAAAA');
    expect(randomClusterId(scriptedSource([...Array<number>(15).fill(0), 1]).source)).toBe('AAAAAAAAQACAAAAAAAAAAQ');
  });

  it('gives 22-character URL-safe ids that never start with "-", over 20 000 draws of the real random source', () => {
    const ids = Array.from({ length: 20_000 }, () => randomClusterId());

    // With plain base64url one id in 64 started with "-": about 312 of these.
    expect(ids.filter((id) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects a random source that gives the wrong number of bytes', () => {
    expect(() => randomClusterId(() => Buffer.alloc(15))).toThrow(
      'The random source gave 15 bytes for a cluster id, not 16',
    );
  });
});
