import { describe, expect, it } from 'vitest';
import { portFromEnv } from './service.js';

describe('portFromEnv', () => {
  it.each([
    [undefined, 9092],
    ['', 9092],
    ['1', 1],
    ['19092', 19092],
    ['65535', 65535],
  ])('reads %j as port %i', (raw, expected) => {
    expect(portFromEnv('CDC_SYNC_KAFKA_PORT', 9092, { CDC_SYNC_KAFKA_PORT: raw })).toBe(expected);
  });

  it.each(['0', '65536', '-1', '90.5', 'kafka', '9092 '])('rejects %j naming the variable', (raw) => {
    expect(() => portFromEnv('CDC_SYNC_KAFKA_PORT', 9092, { CDC_SYNC_KAFKA_PORT: raw })).toThrow(
      `Invalid port ${JSON.stringify(raw)} in environment variable CDC_SYNC_KAFKA_PORT`,
    );
  });
});
