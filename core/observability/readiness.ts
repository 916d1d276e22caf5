import { type Logger } from 'pino';
import { type DependencyName, type PipelineMetrics } from './metrics.js';
import { opsConfigSchema } from './ops-server.js';
import { withTimeout } from './with-timeout.js';

/**
 * Readiness of a pipeline process: ready while every dependency its role
 * uses answered its last probe, every consumer of the role holds its group
 * assignment, and the pipeline has started and is not stopping. Dependencies
 * are probed in the background every `intervalMs`, each probe bounded by
 * `timeoutMs`, so `/readyz` answers at once from the last results and turns
 * within about `intervalMs + timeoutMs` of a dependency going down or coming
 * back.
 */

/** Probes one dependency; resolves when it answered, rejects with a message saying why not. */
export type DependencyProbe = {
  readonly dependency: DependencyName;
  probe(timeoutMs: number): Promise<void>;
};

/** The state of something read on demand, such as a consumer's group membership. */
export type CheckStatus = { readonly ok: boolean; readonly detail: string };

/** A check read when asked, e.g. `transform_consumer`. */
export type StatusCheck = { readonly name: string; status(): CheckStatus };

/** One line of a readiness report. */
export type ReadinessCheck = {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** When a probed dependency was last probed (ISO-8601); absent for checks read on demand. */
  readonly checkedAt?: string;
};

/** What `/readyz` answers: ready or not, every check, and the names of the failing ones. */
export type ReadinessReport = {
  readonly ready: boolean;
  readonly failing: readonly string[];
  readonly checks: readonly ReadinessCheck[];
};

/** The readiness of one pipeline process. */
export type Readiness = {
  /** The checks now: probed dependencies as last probed, the rest read now. Also sets `cdc_sync_ready`. */
  report(): ReadinessReport;
  /** Probes every dependency once more, starting after any probe under way, and waits for the results. */
  probeNow(): Promise<void>;
  /** The pipeline finished starting; until then the `pipeline` check fails. */
  started(): void;
  /** Marks the process as stopping (not ready) and ends probing. */
  stop(): void;
};

/** Options of {@link createReadiness}. */
export type ReadinessOptions = {
  readonly dependencies: readonly DependencyProbe[];
  readonly checks: readonly StatusCheck[];
  readonly metrics?: Pick<PipelineMetrics, 'dependencyUp' | 'ready'>;
  readonly logger: Logger;
  /** Time between probes of a dependency. Default: the default of `ops.probeIntervalMs`. */
  readonly intervalMs?: number;
  /** Longest a probe may take before the dependency counts as down. Default: the default of `ops.probeTimeoutMs`. */
  readonly timeoutMs?: number;
  readonly now?: () => Date;
};

/**
 * Creates the readiness of a process and starts probing its dependencies.
 * A dependency changing state is logged once (warn when it goes down, info
 * when it is back), and `cdc_sync_dependency_up` and `cdc_sync_ready`
 * follow every probe.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const defaults = opsConfigSchema.parse({});
  const intervalMs = options.intervalMs ?? defaults.probeIntervalMs;
  const timeoutMs = options.timeoutMs ?? defaults.probeTimeoutMs;
  const now = options.now ?? (() => new Date());
  const results = new Map<DependencyName, ReadinessCheck>(
    options.dependencies.map(({ dependency }) => [
      dependency,
      { name: dependency, ok: false, detail: 'not probed yet' },
    ]),
  );
  const inFlight = new Map<DependencyName, Promise<void>>();
  const everUp = new Set<DependencyName>();
  let phase: 'starting' | 'running' | 'stopping' = 'starting';

  function probeOne({ dependency, probe }: DependencyProbe): Promise<void> {
    const running = inFlight.get(dependency);
    if (running !== undefined) return running;
    const done = (async () => {
      let outcome: CheckStatus;
      try {
        // The probe gets the time-out to bound its own work; the race is the guarantee.
        await withTimeout(probe(timeoutMs), timeoutMs + 250, dependency);
        outcome = { ok: true, detail: 'reachable' };
      } catch (error: unknown) {
        outcome = { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
      if (phase === 'stopping') return;
      const previous = results.get(dependency)!;
      const firstProbe = previous.checkedAt === undefined;
      results.set(dependency, { name: dependency, ...outcome, checkedAt: now().toISOString() });
      options.metrics?.dependencyUp(dependency, outcome.ok);
      if (outcome.ok && !previous.ok && !firstProbe) {
        options.logger.info(
          { dependency },
          everUp.has(dependency) ? 'Dependency reachable again' : 'Dependency reachable',
        );
      } else if (!outcome.ok && previous.ok) {
        options.logger.warn({ dependency, reason: outcome.detail }, 'Dependency unreachable; not ready');
      } else if (!outcome.ok && firstProbe) {
        // Usual while starting (a connection not made yet): not a warning until the dependency was reachable once.
        options.logger.info({ dependency, reason: outcome.detail }, 'Dependency not reachable yet; not ready');
      }
      if (outcome.ok) everUp.add(dependency);
      report();
    })().finally(() => inFlight.delete(dependency));
    inFlight.set(dependency, done);
    return done;
  }

  const probeAll = () => Promise.all(options.dependencies.map(probeOne)).then(() => {});
  // A probe under way may have started before what it probes was connected; wait for it, then probe afresh.
  const probeFresh = () =>
    Promise.all(
      options.dependencies.map(async (dependency) => {
        await inFlight.get(dependency.dependency);
        await probeOne(dependency);
      }),
    ).then(() => {});

  function report(): ReadinessReport {
    const checks: ReadinessCheck[] = [
      { name: 'pipeline', ok: phase === 'running', detail: phase },
      ...options.dependencies.map(({ dependency }) => results.get(dependency)!),
      ...options.checks.map((check) => ({ name: check.name, ...check.status() })),
    ];
    const failing = checks.filter((check) => !check.ok).map((check) => check.name);
    const ready = failing.length === 0;
    options.metrics?.ready(ready);
    return { ready, failing, checks };
  }

  const timer = setInterval(() => void probeAll(), intervalMs);
  // Probing must never keep a process alive that has nothing else to do.
  timer.unref();
  void probeAll();

  return {
    report,
    probeNow: probeFresh,
    started() {
      if (phase === 'starting') phase = 'running';
      report();
    },
    stop() {
      phase = 'stopping';
      clearInterval(timer);
      report();
    },
  };
}
