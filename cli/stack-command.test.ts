import { describe, expect, it } from 'vitest';
import { type ServiceStatus } from '../stack/stack.js';
import { formatStatusTable } from './stack-command.js';

describe('formatStatusTable', () => {
  it('aligns one row per service with ports, PID, health, endpoint and log', () => {
    const rows: ServiceStatus[] = [
      {
        name: 'kafka',
        summary: 'Apache Kafka',
        ports: [9092, 9093],
        endpoint: '127.0.0.1:9092',
        endpointEnv: 'KAFKA_BROKERS',
        pid: 4242,
        health: { healthy: true },
        logFile: '/s/logs/kafka.log',
      },
      {
        name: 'mongo-wire',
        summary: 'mongo-java-server',
        ports: [27017],
        endpoint: 'mongodb://127.0.0.1:27017/',
        endpointEnv: 'MONGODB_URI',
        pid: undefined,
        health: { healthy: false, reason: 'not running' },
        logFile: '/s/logs/mongo-wire.log',
      },
    ];
    expect(formatStatusTable(rows).split('\n')).toEqual([
      'SERVICE     PORTS      PID   HEALTH             ENDPOINT                                LOG',
      'kafka       9092,9093  4242  healthy            KAFKA_BROKERS=127.0.0.1:9092            /s/logs/kafka.log',
      'mongo-wire  27017      -     down: not running  MONGODB_URI=mongodb://127.0.0.1:27017/  /s/logs/mongo-wire.log',
    ]);
  });
});
