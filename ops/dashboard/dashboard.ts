import { readFile } from 'node:fs/promises';
import { type ServerResponse } from 'node:http';
import { type CanonicalEventType, EVENT_STREAM, type EventStream } from '../../core/canonical.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { runsSink, runsStage } from '../components.js';
import { type TableRef } from '../../core/envelope.js';
import { tableMatches } from '../../core/stage.js';
import { capturedTableRef } from '../../connectors/debezium/envelope.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { METRIC } from '../../core/observability/metrics.js';
import { type OpsRoutes } from '../../core/observability/ops-server.js';

/**
 * The ops dashboard: a page at `/` that polls `/metrics` and the two JSON
 * routes below and draws the flow from ERP tables through the stages and
 * canonical topics to the read models, with the numbers `/metrics` reports.
 * The page is plain HTML, CSS and ES modules in `dashboard/`, read from
 * beside this module (the build copies them to `dist/`).
 */

/**
 * Which Prometheus series a figure sums: one metric name and label matchers,
 * each a value or any of several values. Labels not named match anything.
 */
export type MetricSelector = {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string | readonly string[]>>;
};

/**
 * How the page shows a figure: `count` as an integer (with a rate per second
 * for throughput), `seconds` as a duration, `timestamp` (epoch seconds) as a
 * time, `label` as the value of the label `label` of the first matching
 * sample (an `_info` metric).
 */
export type FigureUnit = 'count' | 'seconds' | 'timestamp' | 'label';

/** One number on a node or an edge: the sum of the samples of its selectors, or "not reported" when none matches. */
export type TopologyFigure = {
  /** Stable within its node or edge: `throughput`, `lag`, `errors`, `in`, `out`, … */
  readonly key: string;
  readonly label: string;
  readonly unit: FigureUnit;
  readonly selectors: readonly MetricSelector[];
  /**
   * Show 0 when no sample matches: true for counters of the workers this
   * process runs (prom-client writes a labelled counter only once it moved);
   * false where "not reported" means unknown, e.g. the other role's counters.
   */
  readonly absentIsZero: boolean;
  /** For unit `label`: the label whose value is shown. */
  readonly labelName?: string;
};

export type TopologyNodeKind = 'table' | 'stage' | 'topic' | 'read_model';

/** A box of the flow graph. Ids are `<kind>:<name>`, e.g. `stage:stock_level`. */
export type TopologyNode = {
  readonly id: string;
  readonly kind: TopologyNodeKind;
  readonly label: string;
  readonly detail: string;
  readonly figures: readonly TopologyFigure[];
};

/**
 * An arrow of the flow graph. Its figures: `throughput`, the records that
 * travelled it; `lag`, the records waiting on it (consumer lag, only where a
 * consumer group reads); `errors`, the records dead-lettered on the way.
 */
export type TopologyEdge = {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly figures: readonly TopologyFigure[];
};

/** What this process runs; the other role's numbers are then not reported by its `/metrics`. */
export type DashboardRole = 'all' | 'transform' | 'sink';

/** The flow graph as `/api/topology` serves it: nodes in column order (tables, stages, topics, read models). */
export type Topology = {
  readonly role: DashboardRole;
  readonly groups: { readonly transform: string; readonly sink: string };
  readonly deadLetterTopic: string;
  /** The names of the metrics the page reads besides the figures': health and dead letters by reason. */
  readonly metrics: { readonly ready: string; readonly dependencyUp: string; readonly deadLetters: string };
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
};

/** What the topology needs of a transform definition (see `core/stage.ts`). */
export type TopologyTransform = {
  readonly summary: string;
  readonly input: { readonly tables: readonly string[] };
  readonly output: readonly CanonicalEventType[];
};

/** What the topology needs of a sink definition (see `sinks/mongo/definition.ts`). */
export type TopologySink = {
  readonly summary: string;
  readonly input: readonly CanonicalEventType[];
};

/** The inputs of {@link buildTopology}. */
export type TopologyInput = {
  readonly config: PipelineConfig;
  readonly role: DashboardRole;
  /** The transform registry (`transforms/index.ts`); stages the config does not list are left out. */
  readonly transforms: Readonly<Record<string, TopologyTransform>>;
  /** The sink registry (`sinks/index.ts`); entries the config disables are left out. */
  readonly sinks: Readonly<Record<string, TopologySink>>;
};

/**
 * Builds the flow graph from the config and the registries: each captured
 * table (`source.tables`) → the enabled stages whose `input.tables` patterns
 * name it (as the envelope reader names its changes) → the canonical topics their output event types go to
 * (`EVENT_STREAM`) → the enabled sinks whose input types travel on that
 * topic. Stages without a captured input table and topics no stage writes
 * are kept, without arrows; a table no stage reads is passed through by the
 * runner and has no arrow either.
 */
export function buildTopology(input: TopologyInput): Topology {
  const { config } = input;
  const groups = { transform: config.transform.groupId, sink: config.sink.groupId };
  const topicOf: Record<EventStream, string> = { inventory: config.topics.inventory, order: config.topics.order };
  const select = (metric: string, labels: MetricSelector['labels']): MetricSelector => ({ metric, labels });
  /** An arrow between two node ids; its id is `<from>-><to>`. */
  const edge = (from: string, to: string, figures: readonly TopologyFigure[]): TopologyEdge => ({
    id: `${from}->${to}`,
    from,
    to,
    figures,
  });
  const runsHere = (side: 'transform' | 'sink') => input.role === 'all' || input.role === side;
  /** A counter the workers of `side` report. */
  const counter =
    (side: 'transform' | 'sink') =>
    (key: string, label: string, selector: MetricSelector): TopologyFigure => ({
      key,
      label,
      unit: 'count',
      selectors: [selector],
      absentIsZero: runsHere(side),
    });
  const transformCount = counter('transform');
  const sinkCount = counter('sink');
  const gauge = (key: string, label: string, unit: FigureUnit, selector: MetricSelector): TopologyFigure => ({
    key,
    label,
    unit,
    selectors: [selector],
    absentIsZero: false,
  });
  const lag = (group: string, topic: string) =>
    gauge('lag', 'lag', 'count', select(METRIC.consumerLag, { group, topic }));

  const tables = config.source.tables.map((table) => ({
    table,
    topic: sourceTopic(config.source, table),
    ref: capturedTableRef(config.source, table),
  }));
  const reads = (stage: TopologyTransform, ref: TableRef) => stage.input.tables.some((p) => tableMatches(p, ref));
  const stages = Object.entries(input.transforms).filter(([name]) => runsStage(config, name));
  const sinks = Object.entries(input.sinks).filter(([name]) => runsSink(config, name));
  const streams = (['inventory', 'order'] as const).filter(
    (stream) =>
      stages.some(([, stage]) => stage.output.some((type) => EVENT_STREAM[type] === stream)) ||
      sinks.some(([, sink]) => sink.input.some((type) => EVENT_STREAM[type] === stream)),
  );

  const nodes: TopologyNode[] = [
    ...tables.map(({ table, topic }): TopologyNode => ({
      id: `table:${table}`,
      kind: 'table',
      label: table,
      detail: topic,
      figures: [
        transformCount('consumed', 'consumed', select(METRIC.sourceRecords, { role: 'transform', topic })),
        lag(groups.transform, topic),
      ],
    })),
    ...stages.map(([name, stage]): TopologyNode => ({
      id: `stage:${name}`,
      kind: 'stage',
      label: name,
      detail: stage.summary,
      figures: (['in', 'out', 'skipped', 'failed'] as const).map((outcome) =>
        transformCount(outcome, outcome, select(METRIC.stageRecords, { stage: name, outcome })),
      ),
    })),
    ...streams.map((stream): TopologyNode => ({
      id: `topic:${topicOf[stream]}`,
      kind: 'topic',
      label: `${stream} events`,
      detail: topicOf[stream],
      figures: [transformCount('published', 'published', select(METRIC.canonicalEvents, { topic: topicOf[stream] }))],
    })),
    ...sinks.map(([name, sink]): TopologyNode => ({
      id: `read_model:${name}`,
      kind: 'read_model',
      label: name,
      detail: sink.summary,
      figures: [
        sinkCount('in', 'in', select(METRIC.stageRecords, { stage: name, outcome: 'in' })),
        sinkCount('applied', 'applied', select(METRIC.stageRecords, { stage: name, outcome: 'out' })),
        sinkCount('stale', 'stale', select(METRIC.stageRecords, { stage: name, outcome: 'skipped' })),
        sinkCount('rejected', 'rejected', select(METRIC.stageRecords, { stage: name, outcome: 'failed' })),
        gauge('freshness', 'freshness', 'seconds', select(METRIC.readModelFreshnessSeconds, { read_model: name })),
        gauge('asOf', 'as of', 'timestamp', select(METRIC.readModelAsOfTimestampSeconds, { read_model: name })),
        {
          ...gauge('position', 'position', 'label', select(METRIC.readModelAsOfPositionInfo, { read_model: name })),
          labelName: 'position',
        },
      ],
    })),
  ];

  const edges: TopologyEdge[] = [];
  for (const { table, topic, ref } of tables) {
    for (const [name, stage] of stages) {
      if (!reads(stage, ref)) continue;
      edges.push(
        edge(`table:${table}`, `stage:${name}`, [
          transformCount('throughput', 'records', select(METRIC.sourceRecords, { role: 'transform', topic })),
          lag(groups.transform, topic),
          // Undecodable records never reach a stage: they are this arrow's losses.
          transformCount('errors', 'dead letters', select(METRIC.deadLetters, { topic, stage: 'decode' })),
        ]),
      );
    }
  }
  for (const [name, stage] of stages) {
    const inputTopics = tables.filter((t) => reads(stage, t.ref)).map((t) => t.topic);
    for (const stream of streams) {
      const types = stage.output.filter((type) => EVENT_STREAM[type] === stream);
      if (types.length === 0) continue;
      edges.push(
        edge(`stage:${name}`, `topic:${topicOf[stream]}`, [
          transformCount(
            'throughput',
            'events',
            select(METRIC.canonicalEvents, { topic: topicOf[stream], event_type: types }),
          ),
          // Records the stage rejected are dead-lettered instead of published.
          transformCount('errors', 'dead letters', select(METRIC.deadLetters, { topic: inputTopics, stage: name })),
        ]),
      );
    }
  }
  for (const stream of streams) {
    const topic = topicOf[stream];
    for (const [name, sink] of sinks) {
      if (!sink.input.some((type) => EVENT_STREAM[type] === stream)) continue;
      edges.push(
        edge(`topic:${topic}`, `read_model:${name}`, [
          sinkCount('throughput', 'records', select(METRIC.sourceRecords, { role: 'sink', topic })),
          lag(groups.sink, topic),
          sinkCount('errors', 'dead letters', select(METRIC.deadLetters, { topic, stage: ['decode', name] })),
        ]),
      );
    }
  }
  return {
    role: input.role,
    groups,
    deadLetterTopic: config.topics.deadLetter,
    metrics: { ready: METRIC.ready, dependencyUp: METRIC.dependencyUp, deadLetters: METRIC.deadLetters },
    nodes,
    edges,
  };
}

/** A location's stock as the dashboard lists it; quantities are decimal strings. */
export type StockRow = {
  readonly sku: string;
  readonly location: string;
  readonly onHand: string;
  readonly reserved: string;
  readonly safetyStock: string;
  readonly available: string;
};

/** An order waiting longer than its state's threshold. */
export type StalledOrderRow = {
  readonly orderNumber: string;
  /** What it waits for, e.g. `awaitingPayment`. */
  readonly state: string;
  /** The ERP business timestamp the wait began at, as the order view holds it. */
  readonly since: string;
  readonly ageMs: number;
  readonly thresholdMs: number;
  /** What waits: a payment id, an RMA number, or null. */
  readonly ref: string | null;
};

/**
 * What the read models say, for `/api/read-models`. A section is absent when
 * its sink is disabled. Lists are capped; the counts are not.
 */
export type ReadModelsReport = {
  /** ISO time of the query. */
  readonly asOf: string;
  readonly inventory?: {
    readonly collection: string;
    readonly documents: number;
    readonly lowStockCount: number;
    readonly oversoldCount: number;
    readonly lowStock: readonly StockRow[];
    readonly oversold: readonly StockRow[];
  };
  readonly orders?: {
    readonly collection: string;
    readonly documents: number;
    /** Oldest wait first, at most `stalledLimit`. */
    readonly stalled: readonly StalledOrderRow[];
    readonly stalledLimit: number;
  };
};

/** What {@link createDashboardRoutes} serves from. */
export type DashboardDeps = {
  readonly topology: Topology;
  /**
   * Queries the read models now; undefined in a role without MongoDB. May
   * resolve undefined while MongoDB is not connected yet.
   */
  readonly readModels: (() => Promise<ReadModelsReport | undefined>) | undefined;
};

/** The body of `/api/read-models`: the report, or why there is none. */
export type ReadModelsResponse =
  ({ readonly available: true } & ReadModelsReport) | { readonly available: false; readonly reason: string };

/** The page's files, by the path the ops server serves them at. */
const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/prometheus-text.js': { file: 'prometheus-text.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
} as const;

/** Where the page's files are: `dashboard/` beside this module, under `tsx` and in `dist/` alike. */
export const DASHBOARD_ASSET_DIR = new URL('./assets/', import.meta.url);

/**
 * The dashboard's ops routes: `/` and its assets, `/api/topology` (the
 * {@link Topology}) and `/api/read-models` (a {@link ReadModelsResponse};
 * 503 with the error message when MongoDB fails to answer). Assets are read
 * on each request, so a missing file answers 500 naming it rather than
 * stopping the pipeline.
 */
export function createDashboardRoutes(deps: DashboardDeps, assetDir: URL = DASHBOARD_ASSET_DIR): OpsRoutes {
  const topologyBody = JSON.stringify(deps.topology);
  const assetRoutes = Object.fromEntries(
    Object.entries(ASSETS).map(([path, asset]) => [
      path,
      async (_request: unknown, response: ServerResponse) => {
        const location = new URL(asset.file, assetDir);
        let body: Buffer;
        try {
          body = await readFile(location);
        } catch (error: unknown) {
          throw new Error(
            `Cannot read dashboard file ${location.pathname}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
        response.writeHead(200, { ...commonHeaders, 'content-type': asset.type }).end(body);
      },
    ]),
  );
  const readModels = deps.readModels === undefined ? undefined : sharedWithin(READ_MODELS_SHARED_MS, deps.readModels);
  return {
    ...assetRoutes,
    '/api/topology': (_request, response) => sendJson(response, 200, topologyBody),
    '/api/read-models': async (_request, response) => {
      if (readModels === undefined) {
        const body: ReadModelsResponse = {
          available: false,
          reason: `Read models are not available in this role (${deps.topology.role}): it does not connect to MongoDB`,
        };
        sendJson(response, 200, JSON.stringify(body));
        return;
      }
      let report: ReadModelsReport | undefined;
      try {
        report = await readModels();
      } catch (error: unknown) {
        const body: ReadModelsResponse = {
          available: false,
          reason: `MongoDB did not answer the read-model queries: ${error instanceof Error ? error.message : String(error)}`,
        };
        sendJson(response, 503, JSON.stringify(body));
        return;
      }
      const body: ReadModelsResponse =
        report === undefined
          ? { available: false, reason: 'Read models are not available yet: MongoDB is not connected' }
          : { available: true, ...report };
      sendJson(response, 200, JSON.stringify(body));
    },
  };
}

/**
 * Every open dashboard polls the read models; queries started within this
 * long of each other share one answer, so several tabs cost one query set.
 */
const READ_MODELS_SHARED_MS = 1_000;

/** `query`, with calls within `ms` of a started one sharing its promise; a failed answer is not shared on. */
export function sharedWithin<T>(ms: number, query: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { readonly at: number; readonly answer: Promise<T> } | undefined;
  return () => {
    if (last !== undefined && now() - last.at < ms) return last.answer;
    const answer = query();
    const entry = { at: now(), answer };
    last = entry;
    answer.catch(() => {
      if (last === entry) last = undefined;
    });
    return answer;
  };
}

const commonHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // The page loads only its own files and talks only to this server.
  'content-security-policy': "default-src 'self'; img-src 'self' data:",
} as const;

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { ...commonHeaders, 'content-type': 'application/json; charset=utf-8' }).end(body);
}
