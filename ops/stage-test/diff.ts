import { type Expected, type ExpectedDeadLetter, type ExpectedEvent } from './expected.js';
import { type StageTestDeadLetter, type StageTestEvent, type StageTestRun } from './run.js';

/** One field that differs: its path in the event (`payload.onHand`, `meta.eventId`) and both values. */
export type FieldDifference = {
  readonly field: string;
  /** `undefined` when the expected event lacks the field. */
  readonly expected: unknown;
  /** `undefined` when the actual event lacks the field. */
  readonly actual: unknown;
};

/** An expected item no actual one pairs with, an actual item no expected one pairs with, or a pair that differs. */
type Difference<Expected, Actual, Changed> =
  | { readonly kind: 'missing'; readonly index: number; readonly expected: Expected }
  | { readonly kind: 'unexpected'; readonly actual: Actual }
  | ({ readonly kind: 'changed'; readonly index: number; readonly actual: Actual } & Changed);

/** How an actual event differs from the expected ones: a changed one names its differing fields. */
export type EventDifference = Difference<
  ExpectedEvent,
  StageTestEvent,
  { readonly fields: readonly FieldDifference[] }
>;

/** How the dead letters differ from the expected ones: a changed one has another message. */
export type DeadLetterDifference = Difference<
  ExpectedDeadLetter,
  StageTestDeadLetter,
  { readonly expected: ExpectedDeadLetter }
>;

/** Every difference between a run and the expected file; equal when both lists are empty. */
export type StageTestDiff = {
  readonly events: readonly EventDifference[];
  readonly deadLetters: readonly DeadLetterDifference[];
};

/** The meta fields compared only when the expected event states them (see `expected.ts`). */
const OPTIONAL_META = ['eventId', 'sourceTable', 'sourcePosition', 'sourceCommittedAt', 'correlationId'] as const;

/**
 * Compares a run with the expected file. Events are paired by event type, aggregate key and occurrence: the n-th
 * actual event of a type and key with the n-th expected one, so the order of one aggregate's events counts and the
 * interleaving of different aggregates does not. A pair differs in its payload (every field, nested ones by path)
 * and in each optional meta field the expected event states. Dead letters are paired by stage and occurrence and
 * differ in their message. Differences come in the expected file's order, unexpected ones after them in run order.
 */
export function diffStageTest(run: Pick<StageTestRun, 'events' | 'deadLetters'>, expected: Expected): StageTestDiff {
  const eventPairs = pairUp(
    expected.events,
    run.events,
    (event) => identity(event.meta),
    ({ event }) => identity(event.meta),
  );
  const events: EventDifference[] = [];
  for (const [index, wanted, actual] of eventPairs.pairs) {
    if (actual === undefined) {
      events.push({ kind: 'missing', index, expected: wanted });
      continue;
    }
    const fields = eventDifferences(wanted, actual);
    if (fields.length > 0) events.push({ kind: 'changed', index, actual, fields });
  }
  for (const actual of eventPairs.unpaired) events.push({ kind: 'unexpected', actual });

  const letterPairs = pairUp(
    expected.deadLetters,
    run.deadLetters,
    ({ stage }) => stage,
    ({ stage }) => stage,
  );
  const deadLetters: DeadLetterDifference[] = [];
  for (const [index, wanted, actual] of letterPairs.pairs) {
    if (actual === undefined) deadLetters.push({ kind: 'missing', index, expected: wanted });
    else if (actual.message !== wanted.message) deadLetters.push({ kind: 'changed', index, actual, expected: wanted });
  }
  for (const actual of letterPairs.unpaired) deadLetters.push({ kind: 'unexpected', actual });
  return { events, deadLetters };
}

/** True when the run matched the expected file. */
export function isEqual(diff: StageTestDiff): boolean {
  return diff.events.length === 0 && diff.deadLetters.length === 0;
}

function identity(meta: { readonly eventType: string; readonly aggregateKey: string }): string {
  return `${meta.eventType}\0${meta.aggregateKey}`;
}

/** Pairs the n-th expected item of an identity with the n-th actual one; actual items left over are unpaired. */
function pairUp<E, A>(
  expected: readonly E[],
  actual: readonly A[],
  expectedId: (item: E) => string,
  actualId: (item: A) => string,
): { pairs: [number, E, A | undefined][]; unpaired: A[] } {
  const queues = new Map<string, A[]>();
  for (const item of actual) {
    const id = actualId(item);
    queues.set(id, [...(queues.get(id) ?? []), item]);
  }
  const pairs = expected.map((item, index): [number, E, A | undefined] => [
    index,
    item,
    queues.get(expectedId(item))?.shift(),
  ]);
  const left = new Set([...queues.values()].flat());
  return { pairs, unpaired: actual.filter((item) => left.has(item)) };
}

function eventDifferences(expected: ExpectedEvent, actual: StageTestEvent): FieldDifference[] {
  const differences: FieldDifference[] = [];
  const meta = actual.event.meta as unknown as Record<string, unknown>;
  for (const field of OPTIONAL_META) {
    const wanted = expected.meta[field];
    if (wanted !== undefined && wanted !== meta[field]) {
      differences.push({ field: `meta.${field}`, expected: wanted, actual: meta[field] });
    }
  }
  valueDifferences('payload', expected.payload, actual.event.payload, differences);
  return differences;
}

/** Appends the differences of two JSON values: objects and arrays field by field, anything else as a whole. */
function valueDifferences(path: string, expected: unknown, actual: unknown, out: FieldDifference[]): void {
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) valueDifferences(`${path}.${key}`, expected[key], actual[key], out);
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      valueDifferences(`${path}[${i}]`, expected[i], actual[i], out);
    }
  } else if (!Object.is(expected, actual)) {
    out.push({ field: path, expected, actual });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
