import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  composeProblems,
  EXPECTED_DEPENDENCIES,
  EXPECTED_SERVICES,
  LOOPBACK_PORT,
  referencedPaths,
  type ServiceName,
} from './compose-checks.js';
import {
  COMPOSE_FILE,
  DEFAULT_SA_PASSWORD,
  SA_PASSWORD_ENV,
  SQLSERVER_PORT,
  SQLSERVER_SERVICE,
} from '../../demo/sqlserver.js';

// No Docker engine runs here, so the compose file is checked as data: what it
// declares, not whether the containers start.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');

type Service = Record<string, unknown> & {
  image?: unknown;
  healthcheck?: { test?: unknown; disable?: unknown };
  ports?: unknown[];
  depends_on?: unknown;
  environment?: Record<string, unknown>;
  command?: unknown;
};
type Compose = { services: Record<string, Service> } & Record<string, unknown>;

/** A fresh parse each time, so a test that mutates its copy cannot leak into another. */
function loadCompose(): Compose {
  return parse(composeText) as Compose;
}

function service(doc: Compose, name: string): Service {
  const found = doc.services[name];
  if (found === undefined) throw new Error(`Service ${name} is missing from docker-compose.yml`);
  return found;
}

describe('docker-compose.yml', () => {
  it('has exactly the expected services', () => {
    expect(Object.keys(loadCompose().services).sort()).toEqual([...EXPECTED_SERVICES].sort());
  });

  it('has no problems', () => {
    expect(composeProblems(loadCompose())).toEqual([]);
  });

  it.each(EXPECTED_SERVICES)('service %s exists with a non-empty image', (name) => {
    const image = service(loadCompose(), name).image;
    expect(typeof image).toBe('string');
    expect((image as string).trim()).not.toBe('');
  });

  it.each(EXPECTED_SERVICES)('service %s has a healthcheck with a test', (name) => {
    const healthcheck = service(loadCompose(), name).healthcheck;
    expect(healthcheck?.disable).not.toBe(true);
    expect(healthcheck?.test).toBeDefined();
    expect(healthcheck?.test).not.toEqual([]);
    expect(healthcheck?.test).not.toEqual(['NONE']);
  });

  it.each<[ServiceName, string[]]>([
    ['sqlserver', ['127.0.0.1:1433:1433']],
    ['kafka', ['127.0.0.1:9092:9092']],
    ['schema-registry', ['127.0.0.1:8081:8081']],
    ['connect', ['127.0.0.1:8083:8083']],
    ['mongodb', ['127.0.0.1:27017:27017']],
    ['cdc-sync', ['127.0.0.1:9464:9464']],
  ])('service %s publishes %j, on loopback only', (name, expected) => {
    const ports = service(loadCompose(), name).ports;
    expect(ports).toEqual(expected);
    for (const port of ports ?? []) expect(port).toMatch(LOOPBACK_PORT);
  });

  it.each(Object.entries(EXPECTED_DEPENDENCIES).filter(([, dependencies]) => dependencies.length > 0))(
    'service %s waits for %j to be healthy',
    (name, dependencies) => {
      const dependsOn = service(loadCompose(), name).depends_on;
      expect(Object.keys(dependsOn as object).sort()).toEqual([...dependencies].sort());
      for (const dependency of dependencies) {
        expect(dependsOn).toHaveProperty([dependency, 'condition'], 'service_healthy');
      }
    },
  );

  it('runs SQL Server with the Agent, which CDC capture jobs need', () => {
    expect(String(service(loadCompose(), 'sqlserver').environment?.['MSSQL_AGENT_ENABLED'])).toBe('true');
  });

  it('reports healthy SQL Server only once ErpDemo has CDC enabled', () => {
    expect(JSON.stringify(service(loadCompose(), 'sqlserver').healthcheck?.test)).toContain('is_cdc_enabled = 1');
  });

  it('initialises SQL Server with the mounted scripts, tables before CDC', () => {
    const command = JSON.stringify(service(loadCompose(), 'sqlserver').command);
    const scripts = command.match(/[\w-]+\.sql/g) ?? [];
    expect(scripts).toEqual(['erp-schema.sql', 'seed.sql', 'enable-cdc.sql']);
    for (const script of scripts) {
      expect(existsSync(join(repoRoot, 'devtools/sql/sqlserver', script)), script).toBe(true);
    }
  });

  it('finds the paths it mounts and builds from', () => {
    expect(referencedPaths(loadCompose())).toEqual(
      expect.arrayContaining([
        { service: 'sqlserver', kind: 'volume', path: './devtools/sql/sqlserver' },
        { service: 'connect', kind: 'build context', path: './devtools/docker' },
        { service: 'connect', kind: 'dockerfile', path: './devtools/docker/connect.Dockerfile' },
        { service: 'cdc-sync', kind: 'build context', path: '.' },
        { service: 'cdc-sync', kind: 'dockerfile', path: './Dockerfile' },
      ]),
    );
  });

  it.each(referencedPaths(loadCompose()))('service $service has its $kind $path in the repository', ({ path }) => {
    expect(existsSync(join(repoRoot, path))).toBe(true);
  });

  it('builds Connect from the Debezium image with the Confluent Avro converter added', () => {
    const dockerfile = readFileSync(join(repoRoot, 'devtools/docker/connect.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM quay\.io\/debezium\/connect:/m);
    expect(dockerfile).toContain('kafka-connect-avro-converter');
  });
});

// `npm start -- --docker` starts only the sqlserver service of this file and reaches it from the host; these checks
// keep the names and values the demo relies on in step with the file.
describe('docker-compose.yml as `cdc-sync demo --docker` uses it', () => {
  it('is the file the demo starts SQL Server from', () => {
    expect(COMPOSE_FILE).toBe(join(repoRoot, 'docker-compose.yml'));
  });

  it(`has the service the demo starts, ${SQLSERVER_SERVICE}, published where the demo and the native Connect worker connect`, () => {
    const sqlserver = service(loadCompose(), SQLSERVER_SERVICE);
    expect(sqlserver.image).toBe('mcr.microsoft.com/mssql/server:2022-latest');
    expect(sqlserver.ports).toEqual([`127.0.0.1:${SQLSERVER_PORT}:1433`]);
  });

  it('starts SQL Server with nothing it waits for, so `up --wait sqlserver` starts it alone', () => {
    expect(service(loadCompose(), SQLSERVER_SERVICE).depends_on).toBeUndefined();
  });

  it('reports healthy only once SQL Server answers queries, which `up --wait` waits for', () => {
    const healthcheck = service(loadCompose(), SQLSERVER_SERVICE).healthcheck as Record<string, unknown>;
    expect(JSON.stringify(healthcheck.test)).toContain('/opt/mssql-tools18/bin/sqlcmd -S localhost -U sa');
    expect(healthcheck).toMatchObject({ interval: '10s', retries: 30, start_period: '60s' });
  });

  it(`takes the SA password from ${SA_PASSWORD_ENV} with the demo's default`, () => {
    const doc = loadCompose();
    expect(doc['x-mssql-sa-password']).toBe(`\${${SA_PASSWORD_ENV}:-${DEFAULT_SA_PASSWORD}}`);
    expect(service(doc, SQLSERVER_SERVICE).environment).toMatchObject({
      MSSQL_SA_PASSWORD: doc['x-mssql-sa-password'],
      // sqlcmd inside the container (the demo's hint, `docker compose exec sqlserver … sqlcmd`) reads it from here.
      SQLCMDPASSWORD: doc['x-mssql-sa-password'],
      ACCEPT_EULA: 'Y',
    });
  });

  it('has a default SA password SQL Server accepts: 8 or more characters from at least 3 of 4 classes', () => {
    const classes = [/[A-Z]/, /[a-z]/, /\d/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(DEFAULT_SA_PASSWORD));
    expect(DEFAULT_SA_PASSWORD.length).toBeGreaterThanOrEqual(8);
    expect(classes.length).toBeGreaterThanOrEqual(3);
  });
});

describe('composeProblems', () => {
  // Each row breaks one rule in a copy of the real file and names the one problem expected.
  it.each<[string, (doc: Compose) => void, string]>([
    [
      'a service without a healthcheck',
      (doc) => delete service(doc, 'kafka').healthcheck,
      'Service kafka has no healthcheck',
    ],
    [
      'a healthcheck without a test',
      (doc) => delete service(doc, 'connect').healthcheck?.test,
      'Service connect has a healthcheck without a test',
    ],
    [
      'a disabled healthcheck',
      (doc) => (service(doc, 'mongodb').healthcheck = { test: ['NONE'] }),
      'Service mongodb disables its healthcheck',
    ],
    [
      'a port published on all interfaces',
      (doc) => (service(doc, 'mongodb').ports = ['0.0.0.0:27017:27017']),
      'Service mongodb publishes port "0.0.0.0:27017:27017", which is not of the form 127.0.0.1:HOST:CONTAINER',
    ],
    [
      'a port without a host address',
      (doc) => (service(doc, 'schema-registry').ports = ['8081:8081']),
      'Service schema-registry publishes port "8081:8081", which is not of the form 127.0.0.1:HOST:CONTAINER',
    ],
    [
      'a port as a bare number',
      (doc) => (service(doc, 'connect').ports = [8083]),
      'Service connect publishes port 8083, which is not of the form 127.0.0.1:HOST:CONTAINER',
    ],
    [
      'a port in the mapping long form',
      (doc) => (service(doc, 'kafka').ports = [{ target: 9092, published: 9092 }]),
      'Service kafka publishes port {"target":9092,"published":9092}, which is not of the form 127.0.0.1:HOST:CONTAINER',
    ],
    ['a service without an image', (doc) => delete service(doc, 'connect').image, 'Service connect has no image'],
    ['a missing service', (doc) => delete doc.services['mongodb'], 'Service mongodb is missing'],
    [
      'a dependency that only waits for start',
      (doc) =>
        ((service(doc, 'connect').depends_on as Record<string, unknown>)['sqlserver'] = {
          condition: 'service_started',
        }),
      'Service connect waits for sqlserver with condition service_started instead of service_healthy',
    ],
    [
      'depends_on in the short form',
      (doc) => (service(doc, 'schema-registry').depends_on = ['kafka']),
      'Service schema-registry lists depends_on in the short form, which cannot wait for service_healthy',
    ],
    [
      'a missing dependency',
      (doc) => delete (service(doc, 'cdc-sync').depends_on as Record<string, unknown>)['connect'],
      'Service cdc-sync does not depend on connect',
    ],
    [
      'an unexpected dependency',
      (doc) => (service(doc, 'kafka').depends_on = { mongodb: { condition: 'service_healthy' } }),
      'Service kafka depends on unexpected service mongodb',
    ],
    [
      'SQL Server without its Agent',
      (doc) => delete service(doc, 'sqlserver').environment?.['MSSQL_AGENT_ENABLED'],
      'Service sqlserver does not set MSSQL_AGENT_ENABLED=true, so CDC capture jobs would never run',
    ],
  ])('reports %s', (_case, mutate, problem) => {
    const doc = loadCompose();
    mutate(doc);
    expect(composeProblems(doc)).toEqual([problem]);
  });

  it.each([null, 'services: nope', {}, { services: [] }])('reports a document without services: %j', (doc) => {
    expect(composeProblems(doc)).toEqual(['Compose file has no services mapping']);
  });

  it('accepts the list form of environment', () => {
    const doc = loadCompose();
    service(doc, 'sqlserver').environment = ['ACCEPT_EULA=Y', 'MSSQL_AGENT_ENABLED=true'] as unknown as Record<
      string,
      unknown
    >;
    expect(composeProblems(doc)).toEqual([]);
  });
});
