// @ts-check
/**
 * A parser for the Prometheus text exposition format (version 0.0.4), the
 * format of the ops server's `/metrics`. Plain ES module without
 * dependencies: the dashboard loads it in the browser as is, and the unit
 * tests import it under Node.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/**
 * One sample line: a metric name (with `_bucket`, `_sum`, `_count` suffixes
 * as written), its labels and its value.
 *
 * @typedef {object} Sample
 * @property {string} name
 * @property {Readonly<Record<string, string>>} labels
 * @property {number} value `NaN`, `Infinity` and `-Infinity` for `NaN`, `+Inf` and `-Inf` (in any case)
 * @property {number | undefined} timestampMs the optional timestamp, epoch milliseconds
 */

/**
 * A parsed exposition: every sample in text order, and the `# TYPE` and
 * `# HELP` lines by metric family name.
 *
 * @typedef {object} Scrape
 * @property {readonly Sample[]} samples
 * @property {Readonly<Record<string, string>>} types e.g. `{ cdc_sync_ready: 'gauge' }`
 * @property {Readonly<Record<string, string>>} help
 */

/**
 * Label matchers: a label must equal the string, or one of the strings of an
 * array. Labels not named match anything.
 *
 * @typedef {Readonly<Record<string, string | readonly string[]>>} LabelMatchers
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FAMILY_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses a Prometheus text exposition.
 *
 * @param {string} text the body of a `/metrics` response
 * @returns {Scrape}
 * @throws {Error} on a line that is not a comment, a blank line or a valid
 *   sample, naming the line number and the line
 */
export function parsePrometheusText(text) {
  /** @type {Sample[]} */
  const samples = [];
  /** @type {Record<string, string>} */
  const types = {};
  /** @type {Record<string, string>} */
  const help = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    try {
      if (trimmed.startsWith('#')) {
        readComment(trimmed, types, help);
      } else {
        samples.push(readSample(trimmed));
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Malformed metrics line ${index + 1} ${JSON.stringify(line)}: ${reason}`, { cause: error });
    }
  }
  return { samples, types, help };
}

/**
 * The samples of one metric name whose labels satisfy the matchers.
 *
 * @param {readonly Sample[]} samples
 * @param {string} name the full sample name, e.g. `cdc_sync_stage_records_total`
 * @param {LabelMatchers} [matchers]
 * @returns {Sample[]}
 */
export function matchingSamples(samples, name, matchers = {}) {
  const wanted = Object.entries(matchers);
  return samples.filter(
    (sample) =>
      sample.name === name &&
      wanted.every(([label, expected]) => {
        const actual = sample.labels[label];
        if (actual === undefined) return false;
        return typeof expected === 'string' ? actual === expected : expected.includes(actual);
      }),
  );
}

/**
 * The sum of the matching samples' values; `undefined` when no sample
 * matches, so "not reported" stays distinct from zero.
 *
 * @param {readonly Sample[]} samples
 * @param {string} name
 * @param {LabelMatchers} [matchers]
 * @returns {number | undefined}
 */
export function sumSamples(samples, name, matchers = {}) {
  const matching = matchingSamples(samples, name, matchers);
  return matching.length === 0 ? undefined : matching.reduce((total, sample) => total + sample.value, 0);
}

/**
 * @param {string} line a trimmed line starting with `#`
 * @param {Record<string, string>} types
 * @param {Record<string, string>} help
 */
function readComment(line, types, help) {
  const match = /^#\s*(HELP|TYPE)\s+([^\s]+)(?:\s+(.*))?$/.exec(line);
  // Other comments carry nothing for a reader.
  if (match === null) return;
  const [, keyword, name, rest = ''] = match;
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
    throw new Error(`invalid metric name ${JSON.stringify(name)} in # ${keyword}`);
  }
  if (keyword === 'TYPE') {
    if (!FAMILY_TYPES.has(rest)) throw new Error(`unknown metric type ${JSON.stringify(rest)} for ${name}`);
    types[name] = rest;
  } else {
    help[name] = rest.replace(/\\(\\|n)/g, (_escape, character) => (character === 'n' ? '\n' : '\\'));
  }
}

/**
 * @param {string} line a trimmed sample line
 * @returns {Sample}
 */
function readSample(line) {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('expected a metric name');
  let rest = line.slice(name.length);
  /** @type {Record<string, string>} */
  let labels = {};
  if (rest.startsWith('{')) {
    const read = readLabels(rest, name.length);
    labels = read.labels;
    rest = read.rest;
  }
  if (!/^[ \t]/.test(rest)) throw new Error(`expected a space and a value after ${name}`);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2) throw new Error(`unexpected ${JSON.stringify(fields.slice(2).join(' '))} after the timestamp`);
  const value = parseValue(fields[0]);
  let timestampMs;
  if (fields.length === 2) {
    if (!/^-?\d+$/.test(fields[1])) throw new Error(`invalid timestamp ${JSON.stringify(fields[1])}`);
    timestampMs = Number(fields[1]);
  }
  return { name, labels, value, timestampMs };
}

/**
 * Reads `{name="value",…}` from the start of `text`.
 *
 * @param {string} text starting with `{`
 * @param {number} column0 where `text` starts in the line, for messages
 * @returns {{ labels: Record<string, string>, rest: string }}
 */
function readLabels(text, column0) {
  /** @type {Record<string, string>} */
  const labels = {};
  let at = 1;
  for (;;) {
    at = skipBlanks(text, at);
    if (text[at] === '}') return { labels, rest: text.slice(at + 1) };
    const labelName = LABEL_NAME.exec(text.slice(at))?.[0];
    if (labelName === undefined) throw new Error(`expected a label name or "}" at column ${column0 + at + 1}`);
    if (Object.hasOwn(labels, labelName)) throw new Error(`label ${labelName} appears twice`);
    at = skipBlanks(text, at + labelName.length);
    if (text[at] !== '=') throw new Error(`expected "=" after label ${labelName}`);
    at = skipBlanks(text, at + 1);
    if (text[at] !== '"') throw new Error(`expected a quoted value for label ${labelName}`);
    let value = '';
    for (at += 1; ; at++) {
      const character = text[at];
      if (character === undefined) throw new Error(`unterminated value of label ${labelName}`);
      if (character === '"') break;
      if (character === '\\') {
        const escaped = text[at + 1];
        if (escaped === 'n') value += '\n';
        else if (escaped === '\\' || escaped === '"') value += escaped;
        else throw new Error(`invalid escape \\${escaped ?? ''} in label ${labelName}`);
        at += 1;
      } else {
        value += character;
      }
    }
    labels[labelName] = value;
    at = skipBlanks(text, at + 1);
    if (text[at] === ',') at += 1;
    else if (text[at] !== '}') throw new Error(`expected "," or "}" after label ${labelName}`);
  }
}

/**
 * @param {string} text
 * @param {number} at
 * @returns {number} the index of the first character at or after `at` that is not a space or tab
 */
function skipBlanks(text, at) {
  while (text[at] === ' ' || text[at] === '\t') at += 1;
  return at;
}

/**
 * @param {string} text
 * @returns {number}
 */
function parseValue(text) {
  // Prometheus reads values with Go's ParseFloat, whose special values ignore case; prom-client writes NaN as `Nan`.
  const special = text.toLowerCase();
  if (special === 'nan') return Number.NaN;
  if (['inf', '+inf', 'infinity', '+infinity'].includes(special)) return Number.POSITIVE_INFINITY;
  if (special === '-inf' || special === '-infinity') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`invalid value ${JSON.stringify(text)}`);
  }
  return Number(text);
}
