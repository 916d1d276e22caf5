import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../pipeline-config.js';
import { silentProgress } from '../progress.js';
import { reconcileReadModels } from './reconcile-read-models.js';

describe('reconcile', () => {
  it('refuses a MySQL source, naming the key', async () => {
    const config = parsePipelineConfig({ source: { connector: 'mysql' } }, 'the test');
    await expect(
      reconcileReadModels(config, { pageSize: 10, samples: 1 }, { env: {}, progress: silentProgress }),
    ).rejects.toThrow('Reconcile reads SQL Server and PostgreSQL sources, not mysql (source.connector)');
  });

  it('names the password variable, not a password, when it is unset', async () => {
    const config = parsePipelineConfig(
      { source: { connector: 'postgresql' }, connector: { passwordEnv: 'ERP_PW' } },
      'the test',
    );
    await expect(
      reconcileReadModels(config, { pageSize: 10, samples: 1 }, { env: {}, progress: silentProgress }),
    ).rejects.toThrow('Environment variable ERP_PW is not set');
  });
});
