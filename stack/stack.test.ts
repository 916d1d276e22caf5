import { describe, expect, it } from 'vitest';
import { type StackService } from './service.js';
import { missingPrerequisites } from './stack.js';

describe('missingPrerequisites', () => {
  it('lists exactly the commands that do not run', () => {
    const service = {
      name: 'probe',
      prerequisites: [
        { command: 'node', versionArgs: ['--version'], install: 'apt-get install -y nodejs' },
        { command: 'cdc-sync-no-such-command', versionArgs: ['--version'], install: 'apt-get install -y nothing' },
        { command: 'node', versionArgs: ['-e', 'process.exit(3)'], install: 'a node that exits 0' },
      ],
    } as unknown as StackService;
    expect(missingPrerequisites(service).map((p) => p.install)).toEqual([
      'apt-get install -y nothing',
      'a node that exits 0',
    ]);
  });
});
