/** A stop request by signal, once and for all. */
export type StopSignal = {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly signalled: Promise<NodeJS.Signals>;
  /** Whether a stop signal has come. */
  stopping(): boolean;
  /** Stops listening; signals then take their default action again. */
  dispose(): void;
};

/**
 * Listens for SIGINT and SIGTERM for the rest of the process. The first one
 * starts the graceful stop; later ones are absorbed, because a stop often
 * arrives twice (a terminal's Ctrl-C reaches the whole process group, and
 * wrappers such as tsx relay the signal to their child as well), and the
 * default action of a second one would kill the process mid-commit.
 */
export function listenForStopSignal(onRepeat: (signal: NodeJS.Signals) => void = () => {}): StopSignal {
  let received: NodeJS.Signals | undefined;
  let resolveSignalled: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => (resolveSignalled = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) return onRepeat(signal);
    received = signal;
    resolveSignalled(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signalled,
    stopping: () => received !== undefined,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
