import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { storedZip } from './zip.js';

/** Reads a stored zip back through its central directory, as jar readers do. */
function readBack(zip: Buffer): { name: string; data: string }[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let central = zip.readUInt32LE(end + 16);
  const entries: { name: string; data: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    expect(zip.readUInt32LE(central)).toBe(0x02014b50);
    const size = zip.readUInt32LE(central + 24);
    const nameLength = zip.readUInt16LE(central + 28);
    const local = zip.readUInt32LE(central + 42);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + zip.readUInt16LE(local + 26);
    const data = zip.subarray(start, start + size);
    expect(crc32(data)).toBe(zip.readUInt32LE(central + 16));
    entries.push({ name: zip.toString('utf8', central + 46, central + 46 + nameLength), data: data.toString() });
    central += 46 + nameLength;
  }
  return entries;
}

describe('storedZip', () => {
  it('stores every entry where its central directory record says', () => {
    const entries = [
      { name: 'META-INF/services/org.apache.kafka.connect.storage.Converter', data: 'a.B\nc.D\n' },
      { name: 'rules/COMPATIBILITY.GlobalRule.json', data: '{"ruleType":"COMPATIBILITY"}' },
    ];
    expect(readBack(storedZip(entries.map(({ name, data }) => ({ name, data: Buffer.from(data) }))))).toEqual(entries);
  });

  it('gives the same bytes for the same entries', () => {
    const make = () => storedZip([{ name: 'x.txt', data: Buffer.from('x') }]);
    expect(make().equals(make())).toBe(true);
  });
});
