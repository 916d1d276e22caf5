import { describe, expect, it } from 'vitest';
import { type ConsumerLag } from '../connectors/kafka/consumer-lag.js';
import { describeConnector, formatStallReport, type StallReport } from './stall.js';

const at = (time: string) => new Date(`2026-12-07T${time}Z`);

const LOGS: StallReport['serviceLogs'] = [
  { service: 'kafka', logFile: '/state/stack/logs/kafka.log' },
  { service: 'mongo-wire', logFile: undefined },
];

function lag(group: string, topic: string, committedOffset: string | undefined, endOffset: string, lagBy: number) {
  return { group, topic, partition: 0, committedOffset, endOffset, lag: lagBy } satisfies ConsumerLag;
}

describe('formatStallReport', () => {
  it('names the lagging groups with committed and end offsets, the last warnings, the connector and the logs', () => {
    const report: StallReport = {
      reason: 'The read models did not show the ERP traffic within 120 s',
      lags: [
        lag('demo_1-transform', 'demo_1.public.sales_order_header', '7', '7', 0),
        lag('demo_1-sink', 'demo_1.canonical.inventory.v1', '31', '31', 0),
        lag('demo_1-sink', 'demo_1.canonical.order.v1', undefined, '12', 12),
        { ...lag('demo_1-sink', 'demo_1.canonical.order.v1', '40', '45', 5), partition: 1 },
      ],
      warnings: [
        {
          level: 'warn',
          component: 'readiness',
          where: undefined,
          message: 'Dependency unreachable; not ready',
          detail: 'MongoDB of mongodb.uri did not answer ping: connect ECONNREFUSED 127.0.0.1:27017',
          count: 1,
          firstAt: at('12:00:01.250'),
          lastAt: at('12:00:01.250'),
        },
        {
          level: 'warn',
          component: 'sink-runner',
          where: 'demo_1.canonical.order.v1[0]@0..5',
          message: 'Transient failure; partition paused, retrying the batch after backoff',
          detail: 'MongoDB failed without a server error code during bulkWrite on order_view: connect ECONNREFUSED',
          count: 14,
          firstAt: at('12:00:00.900'),
          lastAt: at('12:01:58.004'),
        },
      ],
      connector: 'Debezium connector demo_1: connector RUNNING, task 0 RUNNING',
      serviceLogs: LOGS,
    };

    expect(formatStallReport(report).split('\n')).toEqual([
      'The read models did not show the ERP traffic within 120 s',
      'Consumer groups behind the end of their topics:',
      '  - demo_1-sink on demo_1.canonical.order.v1[0]: committed nothing, end 12 (12 behind)',
      '  - demo_1-sink on demo_1.canonical.order.v1[1]: committed 40, end 45 (5 behind)',
      "The pipeline's last warnings and errors (most recent last):",
      '  - 2026-12-07T12:00:01.250Z WARN readiness: Dependency unreachable; not ready: MongoDB of mongodb.uri did not answer ping: connect ECONNREFUSED 127.0.0.1:27017',
      '  - 2026-12-07T12:01:58.004Z WARN sink-runner demo_1.canonical.order.v1[0]@0..5: Transient failure; partition paused, retrying the batch after backoff: MongoDB failed without a server error code during bulkWrite on order_view: connect ECONNREFUSED (14 times since 2026-12-07T12:00:00.900Z)',
      'Debezium connector demo_1: connector RUNNING, task 0 RUNNING',
      'Service logs (npm run stack:status):',
      '  - kafka: /state/stack/logs/kafka.log',
      '  - mongo-wire: no log, the local stack does not run it',
    ]);
  });

  it('says so when no group is behind, nothing was logged and there is no connector', () => {
    const report: StallReport = {
      reason: 'The read models did not show the recorded ERP traffic within 120 s',
      lags: [lag('demo_2-sink', 'demo_2.canonical.order.v1', '9', '9', 0)],
      warnings: [],
      serviceLogs: LOGS.slice(0, 1),
    };

    expect(formatStallReport(report).split('\n')).toEqual([
      'The read models did not show the recorded ERP traffic within 120 s',
      'No consumer group is behind the end of its topics: the pipeline consumed everything in Kafka',
      'The pipeline logged no warnings or errors',
      'Service logs (npm run stack:status):',
      '  - kafka: /state/stack/logs/kafka.log',
    ]);
  });

  it('says why the offsets could not be read, and lines without a component or detail stay short', () => {
    const report: StallReport = {
      reason: 'The consumer of group demo_3-sink stopped after an error it does not restart from: handler bug',
      lags: { unreadable: 'Consumer lag of demo_3-transform, demo_3-sink timed out after 10000 ms' },
      warnings: [
        {
          level: 'error',
          component: undefined,
          where: undefined,
          message: 'Crash',
          detail: undefined,
          count: 2,
          firstAt: at('08:00:00.000'),
          lastAt: at('08:00:03.000'),
        },
      ],
      serviceLogs: [],
    };

    expect(formatStallReport(report).split('\n')).toEqual([
      'The consumer of group demo_3-sink stopped after an error it does not restart from: handler bug',
      "The consumer groups' offsets could not be read: Consumer lag of demo_3-transform, demo_3-sink timed out after 10000 ms",
      "The pipeline's last warnings and errors (most recent last):",
      '  - 2026-12-07T08:00:03.000Z ERROR: Crash (2 times since 2026-12-07T08:00:00.000Z)',
      'Service logs (npm run stack:status):',
    ]);
  });
});

describe('describeConnector', () => {
  it.each([
    [
      'running',
      { name: 'c', connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] },
      'Debezium connector demo_4: connector RUNNING, task 0 RUNNING',
    ],
    [
      'a failed task, with the first line of its trace',
      {
        name: 'c',
        connector: { state: 'RUNNING' },
        tasks: [
          { id: 0, state: 'FAILED', trace: 'org.apache.kafka.connect.errors.ConnectException: slot gone\n\tat x' },
        ],
      },
      'Debezium connector demo_4: connector RUNNING, task 0 FAILED (org.apache.kafka.connect.errors.ConnectException: slot gone)',
    ],
    [
      'no tasks yet',
      { name: 'c', connector: { state: 'UNASSIGNED' }, tasks: [] },
      'Debezium connector demo_4: connector UNASSIGNED, no tasks',
    ],
  ] as const)('describes a connector with %s', (_case, status, line) => {
    expect(describeConnector('demo_4', status)).toBe(line);
  });
});
