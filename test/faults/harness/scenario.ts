import { MongoClient } from 'mongodb';
import { inject } from 'vitest';
import { type PipelineConfig } from '../../../ops/pipeline-config.js';
import { writeConfigFile } from '../../integration/config-file.js';
import { isolatedPipelineConfig, kafkaFor, produceFixtures } from '../../integration/pipeline-harness.js';
import { faultStack } from './fault-stack.js';
import { killAllWorkers, saveWorkerLogs, startWorker, type WorkerRole } from './workers.js';
import { simulatedErp } from './workload.js';

/**
 * One fixture-fed scenario: a pipeline config of its own on the fault stack (topics, groups, transactional id and
 * database no other scenario uses; small batches, so that a fault lands mid-stream), the simulated ERP that feeds
 * it, and the workers it starts. `dispose` kills what is left and drops the scenario's database.
 */
export function fixtureScenario(overrides: Record<string, unknown> = {}) {
  const stack = faultStack(inject('faultStack'));
  const config: PipelineConfig = isolatedPipelineConfig({
    logLevel: 'info',
    kafka: { maxBytesPerPartition: 4096 },
    ...overrides,
  });
  const kafka = kafkaFor(config);
  const erp = simulatedErp();
  const files = new Map<string, string>();
  /** The config file of `config` at a log level (written once per level). */
  const configFile = (logLevel: PipelineConfig['logLevel'] = config.logLevel, extra: Partial<PipelineConfig> = {}) => {
    const key = `${logLevel}${JSON.stringify(extra)}`;
    if (!files.has(key)) files.set(key, writeConfigFile({ ...config, ...extra, logLevel }));
    return files.get(key)!;
  };
  return {
    stack,
    config,
    kafka,
    erp,
    configFile,
    /** Produces ERP changes to the scenario's source topics, as Debezium would. */
    async feed(changes: Parameters<typeof erp.fixture>[0], name?: string): Promise<void> {
      await produceFixtures(config, [erp.fixture(changes, name)]);
    },
    /**
     * Starts `cdc-sync run` for a role with the scenario's config (at `logLevel`; with `transform` settings of its
     * own, such as a transactional id, for a second transform worker).
     */
    worker(
      name: string,
      role: WorkerRole,
      logLevel?: PipelineConfig['logLevel'],
      transform?: Partial<PipelineConfig['transform']>,
    ) {
      const extra = transform === undefined ? {} : { transform: { ...config.transform, ...transform } };
      return startWorker(name, configFile(logLevel, extra), role);
    },
    async dispose(): Promise<void> {
      await killAllWorkers();
      const logs = process.env['CDC_SYNC_FAULTS_LOGS'];
      if (logs !== undefined && logs !== '') saveWorkerLogs(logs);
      const mongo = new MongoClient(config.mongodb.uri);
      try {
        await mongo.db(config.mongodb.database).dropDatabase();
      } finally {
        await mongo.close();
      }
    },
  };
}
