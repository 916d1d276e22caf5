import { describe, expect, it } from 'vitest';
import {
  describeMissingPrerequisites,
  findMissingPrerequisites,
  JAVA_17,
  JAVAC_17,
  MAVEN,
  type MissingPrerequisite,
} from './prerequisites.js';
import { type Prerequisite } from './service.js';

const CHROMIUM: Prerequisite = {
  command: '/usr/bin/chromium',
  versionArgs: ['--version'],
  install: 'apt-get install -y chromium',
};

/** A probe that says the given commands are missing and counts how often each command was asked about. */
function probe(...missing: string[]) {
  const asked = new Map<string, number>();
  const isInstalled = (prerequisite: Prerequisite): boolean => {
    asked.set(prerequisite.command, (asked.get(prerequisite.command) ?? 0) + 1);
    return !missing.includes(prerequisite.command);
  };
  return { isInstalled, asked };
}

describe('findMissingPrerequisites', () => {
  const needs = [
    { prerequisite: JAVA_17, neededBy: 'kafka' },
    { prerequisite: MAVEN, neededBy: 'kafka' },
    { prerequisite: JAVA_17, neededBy: 'mongo-wire' },
    { prerequisite: JAVAC_17, neededBy: 'mongo-wire' },
    { prerequisite: MAVEN, neededBy: 'mongo-wire' },
    { prerequisite: CHROMIUM, neededBy: 'the dashboard test' },
  ];

  it('lists each missing command once, with everything that needs it, in the order the needs name them', () => {
    expect(findMissingPrerequisites(needs, probe('javac', 'java', '/usr/bin/chromium').isInstalled)).toEqual([
      { command: 'java', install: ['apt-get install -y openjdk-17-jdk-headless'], neededBy: ['kafka', 'mongo-wire'] },
      { command: 'javac', install: ['apt-get install -y openjdk-17-jdk-headless'], neededBy: ['mongo-wire'] },
      { command: '/usr/bin/chromium', install: ['apt-get install -y chromium'], neededBy: ['the dashboard test'] },
    ]);
  });

  it('asks about each command once however many needs name it', () => {
    const { isInstalled, asked } = probe('java');
    findMissingPrerequisites(needs, isInstalled);
    expect(Object.fromEntries(asked)).toEqual({ java: 1, mvn: 1, javac: 1, '/usr/bin/chromium': 1 });
  });

  it('is empty when nothing is missing', () => {
    expect(findMissingPrerequisites(needs, probe().isInstalled)).toEqual([]);
  });

  it('keeps every distinct install advice for a command, and names each need once', () => {
    const jre = { ...JAVA_17, install: 'apt-get install -y openjdk-17-jre-headless' };
    const twice = [
      { prerequisite: jre, neededBy: 'kafka' },
      { prerequisite: JAVA_17, neededBy: 'mongo-wire' },
      { prerequisite: jre, neededBy: 'kafka' },
    ];
    expect(findMissingPrerequisites(twice, probe('java').isInstalled)).toEqual([
      {
        command: 'java',
        install: ['apt-get install -y openjdk-17-jre-headless', 'apt-get install -y openjdk-17-jdk-headless'],
        neededBy: ['kafka', 'mongo-wire'],
      },
    ]);
  });
});

describe('describeMissingPrerequisites', () => {
  const java: MissingPrerequisite = {
    command: 'java',
    install: ['apt-get install -y openjdk-17-jdk-headless'],
    neededBy: ['kafka', 'mongo-wire'],
  };
  const javac: MissingPrerequisite = {
    command: 'javac',
    install: ['apt-get install -y openjdk-17-jdk-headless'],
    neededBy: ['mongo-wire'],
  };

  it.each<[string, MissingPrerequisite[], string[]]>([
    [
      'one command, without a combined install',
      [java],
      ['  - java: apt-get install -y openjdk-17-jdk-headless (for kafka, mongo-wire)'],
    ],
    [
      'several apt-get installs, then one command for all their packages without repeats',
      [java, javac, { command: 'mvn', install: ['apt-get install -y maven'], neededBy: ['kafka'] }],
      [
        '  - java: apt-get install -y openjdk-17-jdk-headless (for kafka, mongo-wire)',
        '  - javac: apt-get install -y openjdk-17-jdk-headless (for mongo-wire)',
        '  - mvn: apt-get install -y maven (for kafka)',
        'All at once: apt-get update && apt-get install -y openjdk-17-jdk-headless maven',
      ],
    ],
    [
      'an advice that is not an apt-get install, so no combined install',
      [java, { command: 'docker', install: ['see https://docs.docker.com/engine/install/'], neededBy: ['a test'] }],
      [
        '  - java: apt-get install -y openjdk-17-jdk-headless (for kafka, mongo-wire)',
        '  - docker: see https://docs.docker.com/engine/install/ (for a test)',
      ],
    ],
    [
      'two advices for one command, joined by or',
      [
        {
          ...java,
          install: ['apt-get install -y openjdk-17-jre-headless', 'apt-get install -y openjdk-17-jdk-headless'],
        },
      ],
      [
        '  - java: apt-get install -y openjdk-17-jre-headless or apt-get install -y openjdk-17-jdk-headless (for kafka, mongo-wire)',
      ],
    ],
  ])('%s', (_case, missing, lines) => {
    expect(describeMissingPrerequisites(missing)).toEqual(lines);
  });
});
