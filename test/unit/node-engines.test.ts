import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// package.json `engines.node` is the one statement of the supported Node.js versions. These tests keep the rest of the
// repository to it: no locked dependency may exclude a version it admits (npm would warn EBADENGINE there), and every
// Node.js that CI or the image runs must be one it admits.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');

type Engines = { readonly node?: unknown };
type LockedPackage = { readonly version?: string; readonly engines?: Engines | readonly string[] };

const supported = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
const locked = (JSON.parse(read('package-lock.json')) as { packages: Record<string, LockedPackage> }).packages;

describe('supported Node.js versions', () => {
  it('package.json engines is a valid range', () => {
    expect(semver.validRange(supported)).not.toBeNull();
  });

  it('every locked package admits every Node.js that package.json engines admits', () => {
    const narrower = Object.entries(locked).flatMap(([path, pkg]) => {
      const node = pkg.engines !== undefined && !Array.isArray(pkg.engines) ? (pkg.engines as Engines).node : undefined;
      if (path === '' || typeof node !== 'string') return [];
      return semver.subset(supported, node) ? [] : [`${path.replace(/^node_modules\//, '')}@${pkg.version} ${node}`];
    });
    expect(narrower).toEqual([]);
  });

  const ciRun = read('.ci/run');
  const alsoTested = /^also_tested_node_versions=\(([^)]*)\)$/m.exec(ciRun)?.[1]?.trim().split(/\s+/) ?? [];
  const imageLine = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(read('Dockerfile'))?.[1];

  it('names the Node.js versions CI and the image run', () => {
    expect(alsoTested.length).toBeGreaterThan(0);
    expect(imageLine).toBeDefined();
  });

  const pinned: [source: string, version: string][] = [
    ['.nvmrc (CI builds and runs every test on it)', read('.nvmrc').trim()],
    ...alsoTested.map((version): [string, string] => ['.ci/run (unit tests only)', version]),
  ];
  it.each(pinned)('%s pins %s, an exact version package.json engines admits', (_source, version) => {
    expect(semver.valid(version)).toBe(version);
    expect(semver.satisfies(version, supported)).toBe(true);
  });

  it('the Dockerfile runs a Node.js line that package.json engines admits whole', () => {
    expect(semver.subset(`${imageLine}.x`, supported)).toBe(true);
  });
});
