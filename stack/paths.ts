import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the local stack keeps its files, all outside the repository. */
export type StackPaths = {
  /** Downloads and builds, one folder per service. Kept by `stack down`. */
  readonly cacheRoot: string;
  /** Data, run files, logs and PID files of one stack instance. */
  readonly stackRoot: string;
};

/**
 * Resolves the stack's folders: `CDC_SYNC_CACHE_DIR` (default `~/.cache/cdc-sync`)
 * and `CDC_SYNC_STACK_DIR` (default `~/.local/state/cdc-sync/stack`), honouring
 * `XDG_CACHE_HOME` and `XDG_STATE_HOME`.
 */
export function resolveStackPaths(env: NodeJS.ProcessEnv = process.env): StackPaths {
  const home = homedir();
  const cacheHome = env['XDG_CACHE_HOME'] || join(home, '.cache');
  const stateHome = env['XDG_STATE_HOME'] || join(home, '.local', 'state');
  return {
    cacheRoot: env['CDC_SYNC_CACHE_DIR'] || join(cacheHome, 'cdc-sync'),
    stackRoot: env['CDC_SYNC_STACK_DIR'] || join(stateHome, 'cdc-sync', 'stack'),
  };
}

/** The files of one service inside a stack instance. */
export function serviceFiles(paths: StackPaths, service: string) {
  return {
    cacheDir: join(paths.cacheRoot, service),
    dataDir: join(paths.stackRoot, 'data', service),
    runDir: join(paths.stackRoot, 'run', service),
    logFile: join(paths.stackRoot, 'logs', `${service}.log`),
    pidFile: join(paths.stackRoot, 'pids', `${service}.pid`),
  } as const;
}
