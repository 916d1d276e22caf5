import { type Prerequisite } from './service.js';

/**
 * Java 17, which Kafka, the schema registry, Kafka Connect and the MongoDB-wire server run on. The advice is the JDK,
 * not only the runtime: the MongoDB-wire server compiles its launcher with `javac`, so one package serves the whole
 * stack.
 */
export const JAVA_17: Prerequisite = {
  command: 'java',
  versionArgs: ['-version'],
  install: 'apt-get install -y openjdk-17-jdk-headless',
};

/** The Java 17 compiler, for services that compile code at install. */
export const JAVAC_17: Prerequisite = {
  command: 'javac',
  versionArgs: ['-version'],
  install: 'apt-get install -y openjdk-17-jdk-headless',
};

/** Maven, which fetches the services' jars from Maven Central at install. */
export const MAVEN: Prerequisite = { command: 'mvn', versionArgs: ['-version'], install: 'apt-get install -y maven' };

/** A prerequisite and what needs it: a stack service's name, or a test. */
export type PrerequisiteNeed = { readonly prerequisite: Prerequisite; readonly neededBy: string };

/** A command missing from the machine, with how to install it and everything that needs it. */
export type MissingPrerequisite = {
  readonly command: string;
  /** Every distinct install advice given for the command, in the order the needs name them. */
  readonly install: readonly string[];
  /** Everything that needs the command, without repeats, in the order the needs name them. */
  readonly neededBy: readonly string[];
};

/**
 * The commands among `needs` that are missing, one entry per command in the order the needs first name it.
 *
 * `isInstalled` is asked once per distinct command and version arguments, whatever the number of needs naming them;
 * a command counts as missing when any of its probes says so.
 */
export function findMissingPrerequisites(
  needs: readonly PrerequisiteNeed[],
  isInstalled: (prerequisite: Prerequisite) => boolean,
): MissingPrerequisite[] {
  const probed = new Map<string, boolean>();
  const missing = new Map<string, { install: string[]; neededBy: string[] }>();
  for (const { prerequisite, neededBy } of needs) {
    const probeKey = JSON.stringify([prerequisite.command, ...prerequisite.versionArgs]);
    let installed = probed.get(probeKey);
    if (installed === undefined) {
      installed = isInstalled(prerequisite);
      probed.set(probeKey, installed);
    }
    if (installed) continue;
    const entry = missing.get(prerequisite.command) ?? { install: [], neededBy: [] };
    missing.set(prerequisite.command, entry);
    if (!entry.install.includes(prerequisite.install)) entry.install.push(prerequisite.install);
    if (!entry.neededBy.includes(neededBy)) entry.neededBy.push(neededBy);
  }
  return [...missing].map(([command, entry]) => ({ command, ...entry }));
}

const APT_INSTALL = /^apt-get install -y (\S+(?: \S+)*)$/;

/**
 * One line per missing command, `  - <command>: <install> (for <a>, <b>)`, then, where there is more than one and
 * every advice is an `apt-get install -y`, the one command that installs them all.
 */
export function describeMissingPrerequisites(missing: readonly MissingPrerequisite[]): string[] {
  const lines = missing.map(
    ({ command, install, neededBy }) => `  - ${command}: ${install.join(' or ')} (for ${neededBy.join(', ')})`,
  );
  const advice = missing.flatMap(({ install }) => install);
  const packages = advice.map((line) => APT_INSTALL.exec(line)?.[1]);
  if (missing.length > 1 && packages.every((names) => names !== undefined)) {
    const unique = [...new Set(packages.flatMap((names) => names.split(' ')))];
    lines.push(`All at once: apt-get update && apt-get install -y ${unique.join(' ')}`);
  }
  return lines;
}
