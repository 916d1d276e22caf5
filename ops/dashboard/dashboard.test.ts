import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sinks } from '../../sinks/index.js';
import { SAMPLE_ERP_STAGES, transforms } from '../../transforms/index.js';
import { parsePipelineConfig } from '../pipeline-config.js';
import {
  sharedWithin,
  buildTopology,
  createDashboardRoutes,
  DASHBOARD_ASSET_DIR,
  type DashboardDeps,
  type ReadModelsReport,
  type Topology,
  type TopologyInput,
} from './dashboard.js';
import { type OpsServer, startOpsServer } from '../../core/observability/ops-server.js';

describe('buildTopology', () => {
  it('draws the sample ERP: tables → stages → canonical topics → read models', () => {
    const config = parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES }, 'the test', {});
    const topology = buildTopology({ config, role: 'all', transforms, sinks });

    expect(topology.role).toBe('all');
    expect(topology.groups).toEqual({ transform: 'cdc-sync-transform', sink: 'cdc-sync-sink' });
    expect(topology.deadLetterTopic).toBe('cdc-sync.dlq');
    expect(topology.metrics).toEqual({
      ready: 'cdc_sync_ready',
      dependencyUp: 'cdc_sync_dependency_up',
      deadLetters: 'cdc_sync_dead_letters_total',
    });
    expect(topology.nodes.map((node) => node.id)).toEqual([
      'table:dbo.InventoryBalance',
      'table:dbo.SalesOrderHeader',
      'table:dbo.SalesOrderLine',
      'table:dbo.PaymentTransaction',
      'table:dbo.Shipment',
      'table:dbo.ReturnAuthorization',
      'table:dbo.Refund',
      'stage:stock_level',
      'stage:order_header',
      'stage:order_line',
      'stage:payment_captured',
      'stage:shipment_dispatched',
      'stage:return_received',
      'stage:refund_completed',
      'topic:canonical.inventory.v1',
      'topic:canonical.order.v1',
      'read_model:inventory_availability',
      'read_model:order_view',
    ]);
    expect(topology.edges.map((edge) => `${edge.from} -> ${edge.to}`)).toEqual([
      'table:dbo.InventoryBalance -> stage:stock_level',
      'table:dbo.SalesOrderHeader -> stage:order_header',
      'table:dbo.SalesOrderLine -> stage:order_line',
      'table:dbo.PaymentTransaction -> stage:payment_captured',
      'table:dbo.Shipment -> stage:shipment_dispatched',
      'table:dbo.ReturnAuthorization -> stage:return_received',
      'table:dbo.Refund -> stage:refund_completed',
      'stage:stock_level -> topic:canonical.inventory.v1',
      'stage:order_header -> topic:canonical.order.v1',
      'stage:order_line -> topic:canonical.order.v1',
      'stage:payment_captured -> topic:canonical.order.v1',
      'stage:shipment_dispatched -> topic:canonical.order.v1',
      'stage:return_received -> topic:canonical.order.v1',
      'stage:refund_completed -> topic:canonical.order.v1',
      'topic:canonical.inventory.v1 -> read_model:inventory_availability',
      'topic:canonical.order.v1 -> read_model:order_view',
    ]);
  });

  it('names the series of each arrow and box by the metrics contract', () => {
    const config = parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES }, 'the test', {});
    const topology = buildTopology({ config, role: 'all', transforms, sinks });
    const edge = (id: string) => topology.edges.find((candidate) => candidate.id === id)!.figures;
    const node = (id: string) => topology.nodes.find((candidate) => candidate.id === id)!;
    const source = 'erp.ErpDemo.dbo.SalesOrderHeader';

    expect(edge(`table:dbo.SalesOrderHeader->stage:order_header`)).toEqual([
      figure('throughput', 'records', ['cdc_sync_source_records_total', { role: 'transform', topic: source }]),
      figure('lag', 'lag', ['cdc_sync_consumer_lag', { group: 'cdc-sync-transform', topic: source }]),
      figure('errors', 'dead letters', ['cdc_sync_dead_letters_total', { topic: source, stage: 'decode' }]),
    ]);
    expect(edge('stage:order_header->topic:canonical.order.v1')).toEqual([
      figure('throughput', 'events', [
        'cdc_sync_canonical_events_total',
        {
          topic: 'canonical.order.v1',
          event_type: ['OrderAccepted', 'OrderHeaderChanged', 'OrderStatusChanged', 'OrderCancelled', 'OrderDeleted'],
        },
      ]),
      figure('errors', 'dead letters', ['cdc_sync_dead_letters_total', { topic: [source], stage: 'order_header' }]),
    ]);
    expect(edge('topic:canonical.order.v1->read_model:order_view')).toEqual([
      figure('throughput', 'records', ['cdc_sync_source_records_total', { role: 'sink', topic: 'canonical.order.v1' }]),
      figure('lag', 'lag', ['cdc_sync_consumer_lag', { group: 'cdc-sync-sink', topic: 'canonical.order.v1' }]),
      figure('errors', 'dead letters', [
        'cdc_sync_dead_letters_total',
        { topic: 'canonical.order.v1', stage: ['decode', 'order_view'] },
      ]),
    ]);
    expect(node('stage:stock_level').figures.map((f) => [f.key, f.selectors])).toEqual(
      ['in', 'out', 'skipped', 'failed'].map((outcome) => [
        outcome,
        [{ metric: 'cdc_sync_stage_records_total', labels: { stage: 'stock_level', outcome } }],
      ]),
    );
    expect(node('topic:canonical.inventory.v1')).toMatchObject({
      label: 'inventory events',
      detail: 'canonical.inventory.v1',
      figures: [
        figure('published', 'published', ['cdc_sync_canonical_events_total', { topic: 'canonical.inventory.v1' }]),
      ],
    });
    expect(node('read_model:order_view').figures.map((f) => [f.key, f.unit, f.selectors[0]])).toEqual([
      ['in', 'count', { metric: 'cdc_sync_stage_records_total', labels: { stage: 'order_view', outcome: 'in' } }],
      ['applied', 'count', { metric: 'cdc_sync_stage_records_total', labels: { stage: 'order_view', outcome: 'out' } }],
      [
        'stale',
        'count',
        { metric: 'cdc_sync_stage_records_total', labels: { stage: 'order_view', outcome: 'skipped' } },
      ],
      [
        'rejected',
        'count',
        { metric: 'cdc_sync_stage_records_total', labels: { stage: 'order_view', outcome: 'failed' } },
      ],
      [
        'freshness',
        'seconds',
        { metric: 'cdc_sync_read_model_freshness_seconds', labels: { read_model: 'order_view' } },
      ],
      [
        'asOf',
        'timestamp',
        { metric: 'cdc_sync_read_model_as_of_timestamp_seconds', labels: { read_model: 'order_view' } },
      ],
      [
        'position',
        'label',
        { metric: 'cdc_sync_read_model_as_of_position_info', labels: { read_model: 'order_view' } },
      ],
    ]);
  });

  it('follows the config: renamed PostgreSQL tables and schemas, scoped table patterns, only the listed stages, disabled sinks, shared tables and topics', () => {
    const input: TopologyInput = {
      config: parsePipelineConfig(
        {
          source: {
            connector: 'postgresql',
            topicPrefix: 'shop',
            tables: ['public.item', 'public.sales_order'],
            schemas: { public: 'dbo' },
          },
          topics: { inventory: 'inv', order: 'ord' },
          transforms: { both: {}, off: false, elsewhere: {} },
          sinks: { orders_off: false },
        },
        'the test',
        {},
      ),
      role: 'transform',
      transforms: {
        both: {
          summary: 'Reads both tables',
          input: { tables: ['dbo.Item', 'shop.ErpDemo.dbo.SalesOrder'] },
          output: ['StockLevelChanged', 'OrderAccepted'],
        },
        off: { summary: 'Disabled', input: { tables: ['dbo.Item'] }, output: ['OrderLineChanged'] },
        elsewhere: {
          summary: 'Reads an uncaptured table',
          input: { tables: ['dbo.Refund'] },
          output: ['RefundCompleted'],
        },
        unlisted: { summary: 'Not in the config', input: { tables: ['dbo.Item'] }, output: ['StockLevelChanged'] },
      },
      sinks: {
        stock: { summary: 'Stock', input: ['StockLevelChanged'] },
        orders_off: { summary: 'Disabled', input: ['OrderAccepted'] },
      },
    };
    const topology = buildTopology(input);

    expect(topology.role).toBe('transform');
    expect(topology.nodes.map((node) => [node.id, node.detail])).toEqual([
      ['table:public.item', 'shop.public.item'],
      ['table:public.sales_order', 'shop.public.sales_order'],
      ['stage:both', 'Reads both tables'],
      ['stage:elsewhere', 'Reads an uncaptured table'],
      ['topic:inv', 'inv'],
      ['topic:ord', 'ord'],
      ['read_model:stock', 'Stock'],
    ]);
    expect(topology.edges.map((edge) => edge.id)).toEqual([
      'table:public.item->stage:both',
      'table:public.sales_order->stage:both',
      'stage:both->topic:inv',
      'stage:both->topic:ord',
      'stage:elsewhere->topic:ord',
      'topic:inv->read_model:stock',
    ]);
    // A stage reading two tables loses records of either on its way to each topic.
    expect(topology.edges[3]!.figures[1]!.selectors).toEqual([
      {
        metric: 'cdc_sync_dead_letters_total',
        labels: { topic: ['shop.public.item', 'shop.public.sales_order'], stage: 'both' },
      },
    ]);
    // This process runs the transform role: its counters read 0 before their first sample, the sinks' are unknown.
    const absentIsZero = (id: string) =>
      [...topology.nodes, ...topology.edges]
        .find((owner) => owner.id === id)!
        .figures.map((f) => [f.key, f.absentIsZero]);
    expect(absentIsZero('stage:both')).toEqual([
      ['in', true],
      ['out', true],
      ['skipped', true],
      ['failed', true],
    ]);
    expect(absentIsZero('read_model:stock')).toEqual([
      ['in', false],
      ['applied', false],
      ['stale', false],
      ['rejected', false],
      ['freshness', false],
      ['asOf', false],
      ['position', false],
    ]);
    expect(absentIsZero('topic:inv->read_model:stock')).toEqual([
      ['throughput', false],
      ['lag', false],
      ['errors', false],
    ]);
    expect(topology.edges[3]!.figures[0]!.selectors).toEqual([
      { metric: 'cdc_sync_canonical_events_total', labels: { topic: 'ord', event_type: ['OrderAccepted'] } },
    ]);
  });
});

describe('createDashboardRoutes', () => {
  const config = parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES }, 'the test', {});
  const topology = buildTopology({ config, role: 'all', transforms, sinks });
  let server: OpsServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(deps: Partial<DashboardDeps>, assetDir?: URL): Promise<string> {
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      routes: createDashboardRoutes({ topology, readModels: undefined, ...deps }, assetDir),
      logger: pino({ level: 'silent' }),
    });
    return server.url;
  }

  it.each([
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/dashboard/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
    ['/dashboard/prometheus-text.js', 'prometheus-text.js', 'text/javascript; charset=utf-8'],
    ['/dashboard/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
  ])('serves %s from dashboard/%s as %s, uncached', async (path, file, type) => {
    const url = await serve({});
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'self'; img-src 'self' data:");
    expect(await response.text()).toBe(await readFile(new URL(file, DASHBOARD_ASSET_DIR), 'utf8'));
  });

  it('links the page to its assets and the routes it polls by paths the server serves', async () => {
    const html = await readFile(new URL('index.html', DASHBOARD_ASSET_DIR), 'utf8');
    const script = await readFile(new URL('dashboard.js', DASHBOARD_ASSET_DIR), 'utf8');
    expect(html).toContain('<script type="module" src="dashboard/dashboard.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="dashboard/dashboard.css" />');
    expect(script).toContain("from './prometheus-text.js'");
    for (const path of ["get('api/topology')", "get('metrics')", "fetch('api/read-models'"]) {
      expect(script).toContain(path);
    }
  });

  it('serves the topology as JSON', async () => {
    const url = await serve({});
    const response = await fetch(`${url}/api/topology`);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await response.json()) as Topology).toEqual(topology);
  });

  it('serves the read models, and says why when there are none', async () => {
    const report: ReadModelsReport = {
      asOf: '2025-12-01T10:00:00.000Z',
      inventory: {
        collection: 'inventory_availability',
        documents: 2,
        lowStockCount: 1,
        oversoldCount: 0,
        lowStock: [
          { sku: 'A', location: 'L', onHand: '1.000', reserved: '1.000', safetyStock: '0.000', available: '0.000' },
        ],
        oversold: [],
      },
    };
    const read = async (deps: Partial<DashboardDeps>) => {
      const url = await serve(deps);
      const response = await fetch(`${url}/api/read-models`);
      const body: unknown = await response.json();
      await server?.close();
      server = undefined;
      return [response.status, body];
    };

    expect(await read({ readModels: async () => report })).toEqual([200, { available: true, ...report }]);
    expect(await read({ topology: { ...topology, role: 'transform' } })).toEqual([
      200,
      {
        available: false,
        reason: 'Read models are not available in this role (transform): it does not connect to MongoDB',
      },
    ]);
    expect(await read({ readModels: async () => undefined })).toEqual([
      200,
      { available: false, reason: 'Read models are not available yet: MongoDB is not connected' },
    ]);
    expect(
      await read({
        readModels: () =>
          Promise.reject(new Error('MongoDB unreachable during find on order_view: connection refused')),
      }),
    ).toEqual([
      503,
      {
        available: false,
        reason:
          'MongoDB did not answer the read-model queries: MongoDB unreachable during find on order_view: connection refused',
      },
    ]);
  });

  it('answers 500 naming a dashboard file that is missing', async () => {
    const url = await serve({}, new URL('file:///nonexistent/dashboard/'));
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe(
      "Cannot read dashboard file /nonexistent/dashboard/index.html: ENOENT: no such file or directory, open '/nonexistent/dashboard/index.html'\n",
    );
  });
});

describe('the browser modules', () => {
  it('type-check against the DOM and the topology types', { timeout: 60_000 }, async () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    const project = new URL('./assets/', import.meta.url).pathname;
    await expect(promisify(execFile)(process.execPath, [tsc, '-p', project])).resolves.toEqual({
      stdout: '',
      stderr: '',
    });
  });
});

function figure(key: string, label: string, ...selectors: [string, Record<string, unknown>][]) {
  return {
    key,
    label,
    unit: 'count',
    selectors: selectors.map(([metric, labels]) => ({ metric, labels })),
    // Counters of workers the process runs read 0 before their first sample; lag is a gauge and unknown until read.
    absentIsZero: key !== 'lag',
  };
}

describe('sharedWithin', () => {
  it('shares one answer among calls within the window, then queries again; a failure is not shared on', async () => {
    let clock = 0;
    let calls = 0;
    let fail = false;
    const shared = sharedWithin(
      1_000,
      async () => {
        calls++;
        if (fail) throw new Error(`query ${calls} failed`);
        return calls;
      },
      () => clock,
    );
    expect([await shared(), await shared()]).toEqual([1, 1]);
    clock = 999;
    expect(await shared()).toBe(1);
    clock = 1_000;
    expect(await shared()).toBe(2);
    fail = true;
    clock = 2_000;
    await expect(shared()).rejects.toThrow('query 3 failed');
    await expect(shared()).rejects.toThrow('query 4 failed');
    expect(calls).toBe(4);
  });
});
