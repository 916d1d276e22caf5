/**
 * Checks on the shape of docker-compose.yml, written as pure functions over the
 * parsed document so a test can run them on the real file and on mutated copies.
 * No Docker engine is needed: this machine has none, so these checks are the
 * only guard the compose file gets in CI.
 *
 * @see https://docs.docker.com/reference/compose-file/services/
 */

/** The services the stack must define, in start-up order. */
export const EXPECTED_SERVICES = ['sqlserver', 'kafka', 'schema-registry', 'connect', 'mongodb', 'cdc-sync'] as const;

/** A service of the stack. */
export type ServiceName = (typeof EXPECTED_SERVICES)[number];

/**
 * What each service waits for. Every entry must use the long form with
 * `condition: service_healthy`, because "started" is not "ready": Connect
 * would register against a registry that cannot answer yet, and so on.
 */
export const EXPECTED_DEPENDENCIES: Readonly<Record<ServiceName, readonly ServiceName[]>> = {
  sqlserver: [],
  kafka: [],
  'schema-registry': ['kafka'],
  connect: ['kafka', 'schema-registry', 'sqlserver'],
  mongodb: [],
  'cdc-sync': ['kafka', 'schema-registry', 'mongodb', 'connect'],
};

/** A port published on loopback only, in the string long form `127.0.0.1:HOST:CONTAINER[/proto]`. */
export const LOOPBACK_PORT = /^127\.0\.0\.1:\d{1,5}:\d{1,5}(\/(tcp|udp))?$/;

/** A path, relative to the compose file, that the compose file mounts or builds from. */
export type ReferencedPath = {
  readonly service: string;
  readonly kind: 'volume' | 'build context' | 'dockerfile' | 'env_file';
  readonly path: string;
};

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function servicesOf(doc: unknown): Mapping | undefined {
  if (!isMapping(doc)) return undefined;
  const services = doc['services'];
  return isMapping(services) ? services : undefined;
}

/**
 * Lists everything wrong with a parsed compose document, one sentence per
 * problem, or `[]` when the stack has the expected shape: every expected
 * service exists with a non-empty `image`, a `healthcheck.test` that is not
 * disabled, ports published only as `127.0.0.1:HOST:CONTAINER` strings,
 * long-form `depends_on` with exactly the expected services, each with
 * `condition: service_healthy`, and SQL Server Agent enabled for CDC.
 * Never throws on malformed input: it reports it.
 */
export function composeProblems(doc: unknown): string[] {
  const services = servicesOf(doc);
  if (services === undefined) return ['Compose file has no services mapping'];
  const problems: string[] = [];
  for (const name of EXPECTED_SERVICES) {
    const service = services[name];
    if (!isMapping(service)) {
      problems.push(`Service ${name} is missing`);
      continue;
    }
    problems.push(
      ...imageProblems(name, service),
      ...healthcheckProblems(name, service),
      ...portProblems(name, service),
      ...dependencyProblems(name, service),
    );
  }
  const sqlserver = services['sqlserver'];
  if (isMapping(sqlserver) && environmentValue(sqlserver, 'MSSQL_AGENT_ENABLED') !== 'true') {
    problems.push('Service sqlserver does not set MSSQL_AGENT_ENABLED=true, so CDC capture jobs would never run');
  }
  return problems;
}

/**
 * Lists the repository paths the compose document depends on: `./` or `../`
 * bind-mount sources, build contexts, Dockerfiles (resolved against their
 * context) and env files. Paths are relative to the compose file's folder.
 */
export function referencedPaths(doc: unknown): ReferencedPath[] {
  const services = servicesOf(doc) ?? {};
  const paths: ReferencedPath[] = [];
  for (const [service, definition] of Object.entries(services)) {
    if (!isMapping(definition)) continue;
    const build = definition['build'];
    if (typeof build === 'string' || isMapping(build)) {
      // `build: .` is shorthand for a context with the default Dockerfile.
      const options: Mapping = typeof build === 'string' ? { context: build } : build;
      const context = typeof options['context'] === 'string' ? options['context'] : '.';
      const dockerfile = typeof options['dockerfile'] === 'string' ? options['dockerfile'] : 'Dockerfile';
      paths.push({ service, kind: 'build context', path: context });
      paths.push({ service, kind: 'dockerfile', path: joinRelative(context, dockerfile) });
    }
    const volumes = definition['volumes'];
    for (const volume of Array.isArray(volumes) ? volumes : []) {
      const source = volumeSource(volume);
      if (source !== undefined && /^\.\.?\//.test(source)) paths.push({ service, kind: 'volume', path: source });
    }
    const envFiles = definition['env_file'];
    for (const file of typeof envFiles === 'string' ? [envFiles] : Array.isArray(envFiles) ? envFiles : []) {
      if (typeof file === 'string') paths.push({ service, kind: 'env_file', path: file });
    }
  }
  return paths;
}

function imageProblems(name: string, service: Mapping): string[] {
  const image = service['image'];
  return typeof image === 'string' && image.trim() !== '' ? [] : [`Service ${name} has no image`];
}

function healthcheckProblems(name: string, service: Mapping): string[] {
  const healthcheck = service['healthcheck'];
  if (!isMapping(healthcheck)) return [`Service ${name} has no healthcheck`];
  if (healthcheck['disable'] === true) return [`Service ${name} disables its healthcheck`];
  const test = healthcheck['test'];
  const empty = test === undefined || test === null || test === '' || (Array.isArray(test) && test.length === 0);
  if (empty) return [`Service ${name} has a healthcheck without a test`];
  if (Array.isArray(test) && test[0] === 'NONE') return [`Service ${name} disables its healthcheck`];
  return [];
}

function portProblems(name: string, service: Mapping): string[] {
  const ports = service['ports'];
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) return [`Service ${name} has ports that are not a list`];
  return ports
    .filter((port) => typeof port !== 'string' || !LOOPBACK_PORT.test(port))
    .map(
      (port) =>
        `Service ${name} publishes port ${JSON.stringify(port)}, which is not of the form 127.0.0.1:HOST:CONTAINER`,
    );
}

function dependencyProblems(name: ServiceName, service: Mapping): string[] {
  const expected = EXPECTED_DEPENDENCIES[name];
  const dependsOn = service['depends_on'];
  if (dependsOn === undefined) {
    return expected.map((dependency) => `Service ${name} does not depend on ${dependency}`);
  }
  if (Array.isArray(dependsOn)) {
    return [`Service ${name} lists depends_on in the short form, which cannot wait for service_healthy`];
  }
  if (!isMapping(dependsOn)) return [`Service ${name} has a depends_on that is not a mapping`];
  const problems: string[] = [];
  for (const dependency of expected) {
    if (!(dependency in dependsOn)) problems.push(`Service ${name} does not depend on ${dependency}`);
  }
  for (const [dependency, options] of Object.entries(dependsOn)) {
    if (!(expected as readonly string[]).includes(dependency)) {
      problems.push(`Service ${name} depends on unexpected service ${dependency}`);
      continue;
    }
    const condition = isMapping(options) ? options['condition'] : undefined;
    if (condition !== 'service_healthy') {
      problems.push(
        `Service ${name} waits for ${dependency} with condition ${String(condition)} instead of service_healthy`,
      );
    }
  }
  return problems;
}

/** Reads an environment variable from either compose form (mapping or `KEY=value` list) as a string. */
function environmentValue(service: Mapping, key: string): string | undefined {
  const environment = service['environment'];
  if (isMapping(environment)) {
    const value = environment[key];
    return value === undefined || value === null ? undefined : String(value);
  }
  if (Array.isArray(environment)) {
    const entry = environment.find((item): item is string => typeof item === 'string' && item.startsWith(`${key}=`));
    return entry?.slice(key.length + 1);
  }
  return undefined;
}

function volumeSource(volume: unknown): string | undefined {
  if (typeof volume === 'string') {
    const [source, target] = volume.split(':');
    // A single path is an anonymous volume, with no source on the host.
    return target === undefined ? undefined : source;
  }
  if (isMapping(volume) && volume['type'] === 'bind' && typeof volume['source'] === 'string') return volume['source'];
  return undefined;
}

function joinRelative(base: string, path: string): string {
  if (path.startsWith('/')) return path;
  return `${base.replace(/\/+$/, '')}/${path}`;
}
