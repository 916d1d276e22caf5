import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** Options for {@link runToCompletion}. */
export type RunOptions = {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Output is appended here as well as kept for the error message. */
  readonly logFile?: string;
};

/**
 * Runs a command to completion (an install step such as `mvn` or `go build`).
 * Resolves with its standard output; rejects with the command line, exit code
 * and the last lines of its output when it fails or cannot be started.
 */
export function runToCompletion(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let tail = '';
    const keep = (chunk: Buffer, isStdout: boolean): void => {
      const text = chunk.toString();
      if (isStdout) stdout += text;
      tail = (tail + text).slice(-4000);
      log?.write(chunk);
    };
    child.stdout.on('data', (chunk: Buffer) => keep(chunk, true));
    child.stderr.on('data', (chunk: Buffer) => keep(chunk, false));
    child.on('error', (error) => {
      log?.end();
      reject(new Error(`Cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      log?.end();
      if (code === 0) resolve(stdout);
      else {
        const status = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`Command failed with ${status}: ${command} ${args.join(' ')}\n${tail.trimEnd()}`));
      }
    });
  });
}

/** Zip settings for generated archives: stored, and dated at the zip epoch so the same files give the same bytes. */
export const ZIP_OPTIONS = { level: 0, mtime: new Date('1980-01-01T00:00:00') } as const;
