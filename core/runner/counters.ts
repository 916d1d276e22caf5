/** Named counters of a worker: records in, events out, skips, dead letters, retries. Read by logs, tests and metrics. */
export type Counters = {
  add(name: string, by?: number): void;
  get(name: string): number;
  snapshot(): Readonly<Record<string, number>>;
  /** Adds every counter of `other` to this one. */
  merge(other: Counters): void;
};

export function createCounters(): Counters {
  const values = new Map<string, number>();
  return {
    add(name, by = 1) {
      values.set(name, (values.get(name) ?? 0) + by);
    },
    get(name) {
      return values.get(name) ?? 0;
    },
    merge(other) {
      for (const [name, value] of Object.entries(other.snapshot())) this.add(name, value);
    },
    snapshot() {
      return Object.fromEntries([...values.entries()].sort(([a], [b]) => a.localeCompare(b)));
    },
  };
}
