import { type DestinationStream } from 'pino';

/** pino's numeric levels from warn up. */
const LEVELS = { 40: 'warn', 50: 'error', 60: 'fatal' } as const;

/** One distinct warning or error a logger wrote, with how often and when it came. */
export type RecentWarning = {
  readonly level: (typeof LEVELS)[keyof typeof LEVELS];
  /** The line's `component` field (`sink-runner`, `kafkajs`, …), if it has one. */
  readonly component: string | undefined;
  /** The records the line is about: `topic[partition]`, then `@offset` or `@first..last` where the line names them. */
  readonly where: string | undefined;
  readonly message: string;
  /** The line's error message (`err.message`, or kafkajs' `error`), or its `reason`; on one line. */
  readonly detail: string | undefined;
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
};

/** See {@link createRecentWarnings}. */
export type RecentWarnings = {
  /** A pino destination; feed it every line, it keeps those at warn and above. */
  readonly stream: DestinationStream;
  /** The kept warnings, the most recent last. */
  list(): readonly RecentWarning[];
};

/**
 * Keeps the last `capacity` distinct warnings and errors of a pino logger in
 * memory, so that a command which shows its user errors only (the demo) can
 * still say what the pipeline warned about when it gives up. A line repeated
 * (a batch retried every few seconds, with the same error) is kept once, with
 * a count and its first and last time, so one noisy retry loop does not push
 * everything else out. When a new distinct line arrives with the buffer
 * full, the one seen least recently goes.
 *
 * Accepts pino's JSON lines; other text and lines below warn are ignored.
 * Never throws.
 *
 * @see https://getpino.io/#/docs/api?id=destination
 */
export function createRecentWarnings(capacity: number): RecentWarnings {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`Capacity ${capacity} is not a positive integer`);
  // Insertion order is recency order: an entry seen again is deleted and set anew.
  const kept = new Map<string, RecentWarning>();

  const keep = (line: string) => {
    const fields = parse(line);
    if (fields === undefined) return;
    const level = LEVELS[fields['level'] as keyof typeof LEVELS];
    if (level === undefined) return;
    const at = new Date(typeof fields['time'] === 'number' ? fields['time'] : Date.now());
    const entry = {
      level,
      component: text(fields['component']),
      where: whereOf(fields),
      message: text(fields['msg']) ?? '(no message)',
      detail: detailOf(fields),
    };
    const key = JSON.stringify(entry);
    const previous = kept.get(key);
    kept.delete(key);
    kept.set(key, {
      ...entry,
      count: (previous?.count ?? 0) + 1,
      firstAt: previous?.firstAt ?? at,
      lastAt: at,
    });
    if (kept.size > capacity) kept.delete(kept.keys().next().value!);
  };

  return {
    stream: {
      write(data: string) {
        // pino may hand several lines at once.
        for (const line of data.split('\n')) if (line.trim() !== '') keep(line);
      },
    },
    list: () => [...kept.values()],
  };
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.replace(/\s*\n\s*/g, ' ');
}

function whereOf(fields: Record<string, unknown>): string | undefined {
  const topic = text(fields['topic']);
  if (topic === undefined) return undefined;
  const partition = typeof fields['partition'] === 'number' ? `[${fields['partition']}]` : '';
  const offset = text(fields['offset']);
  const first = text(fields['firstOffset']);
  const last = text(fields['lastOffset']);
  const offsets =
    offset !== undefined
      ? `@${offset}`
      : first === undefined
        ? ''
        : first === last
          ? `@${first}`
          : `@${first}..${last}`;
  return `${topic}${partition}${offsets}`;
}

/** `err.message`, else `error` (kafkajs logs its errors there, as text or as an error), else `reason`. */
function detailOf(fields: Record<string, unknown>): string | undefined {
  return messageOf(fields['err']) ?? messageOf(fields['error']) ?? text(fields['reason']);
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'message' in value) return text(value.message);
  return text(value);
}
