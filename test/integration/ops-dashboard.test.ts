import { existsSync, mkdirSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { type Topology, type TopologyFigure } from '../../ops/dashboard/dashboard.js';
import { matchingSamples, parsePrometheusText, type Sample } from '../../ops/dashboard/assets/prometheus-text.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { type ProduceResult } from '../../devtools/fixtures/producer.js';
import {
  ERP_FIXTURES,
  isolatedPipelineConfig,
  kafkaFor,
  orderHeaderCreated,
  produceFixtures,
  waitPipelineCaughtUp,
} from './pipeline-harness.js';
import { CHROMIUM } from './prerequisites.js';

/**
 * The ops dashboard in a real browser, against a real pipeline: the page at
 * `/` must show what `/metrics` and the read models say, and follow them
 * live as more ERP changes arrive.
 */

const SCREENSHOT = 'test-artifacts/ops-dashboard.png';

/** An `InventoryBalance` row of the sample ERP. */
function balance(sku: string, location: string, onHand: string, allocated: string, safety: string) {
  return {
    Sku: sku,
    LocationCode: location,
    QtyOnHand: onHand,
    QtyAllocated: allocated,
    SafetyStock: safety,
    LastCountedAt: null,
    ModifiedAt: '2025-11-28T08:00:00.000000000',
  };
}

/**
 * A location into its safety stock (available 0: low stock), one oversold
 * (available −2), one order accepted long ago and never paid (stalled), and
 * an order in a status the ERP map lacks (dead-lettered by order_header).
 */
const firstChanges = {
  name: 'the dashboard fixture',
  raw: {
    server: 'erp',
    database: 'ErpDemo',
    startLsn: '00000040:00000100:0001',
    changes: [
      {
        table: 'dbo.InventoryBalance',
        op: 'c',
        after: balance('CHALK-BAG-S', 'ST-DOWNTOWN', '5.000', '1.000', '4.000'),
      },
      {
        table: 'dbo.InventoryBalance',
        op: 'c',
        after: balance('HELMET-CLIMB-L', 'WH-EAST', '2.000', '3.000', '1.000'),
      },
      orderHeaderCreated({ OrderNumber: 'SO-STALLED-1', RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C3401' }),
      orderHeaderCreated({
        OrderNumber: 'SO-BAD-1',
        StatusCode: 'ZZ',
        RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C3402',
      }),
    ],
  },
};

/** Later: the chalk bags restocked, a carabiner oversold, and bytes that are not Avro. */
const laterChanges = {
  name: 'the later dashboard fixture',
  raw: {
    server: 'erp',
    database: 'ErpDemo',
    startLsn: '00000050:00000100:0001',
    changes: [
      {
        table: 'dbo.InventoryBalance',
        op: 'u',
        before: balance('CHALK-BAG-S', 'ST-DOWNTOWN', '5.000', '1.000', '4.000'),
        after: balance('CHALK-BAG-S', 'ST-DOWNTOWN', '45.000', '1.000', '4.000'),
      },
      { table: 'dbo.InventoryBalance', op: 'c', after: balance('CARABINER-HMS', 'WH-EAST', '1.000', '5.000', '0.000') },
      { table: 'dbo.InventoryBalance', rawValueBase64: Buffer.from('not avro').toString('base64') },
    ],
  },
};

const config = isolatedPipelineConfig();
const kafka = kafkaFor(config);
const inventoryTopic = sourceTopic(config.source, 'dbo.InventoryBalance');
const headerTopic = sourceTopic(config.source, 'dbo.SalesOrderHeader');
const produced: ProduceResult[] = [];
let pipeline: RunningPipeline | undefined;
let browser: Browser | undefined;
let page: Page;

describe('the ops dashboard in a headless browser', () => {
  beforeAll(async () => {
    produced.push(
      ...(await produceFixtures(config, [ERP_FIXTURES.orderLifecycle, ERP_FIXTURES.inventoryBurst, firstChanges])),
    );
    pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }));
    await waitPipelineCaughtUp(kafka, config);
    browser = await chromium.launch({
      // The global setup has checked that it is there (test/integration/prerequisites.ts).
      executablePath: CHROMIUM.command,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.goto(`${pipeline.opsUrl!}/`);
    // A marker that survives only as long as the document does: a reload would lose it.
    await page.evaluate('window.loadedOnce = true');
  });

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    const mongo = await new MongoClient(config.mongodb.uri).connect();
    await mongo.db(config.mongodb.database).dropDatabase();
    await mongo.close();
  });

  it('draws the flow from the ERP tables through the stages and canonical topics to the read models', async () => {
    const nodes = await page
      .locator('[data-node]')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-node')));
    expect(nodes).toEqual([
      ...config.source.tables.map((table) => `table:${table}`),
      ...[
        'stock_level',
        'order_header',
        'order_line',
        'payment_captured',
        'shipment_dispatched',
        'return_received',
        'refund_completed',
      ].map((stage) => `stage:${stage}`),
      `topic:${config.topics.inventory}`,
      `topic:${config.topics.order}`,
      'read_model:inventory_availability',
      'read_model:order_view',
    ]);
    expect(await page.locator(`[data-node="table:dbo.Refund"] .node-detail`).textContent()).toBe(
      sourceTopic(config.source, 'dbo.Refund'),
    );
    // One arrow per table → stage, stage → topic and topic → read model, each drawn.
    expect(await page.locator('svg.edges path').count()).toBe(16);
    expect(await page.locator('.edge-label').count()).toBe(16);
  });

  it('shows the numbers /metrics reports', async () => {
    const metrics = await expectMetrics({
      stockOut: 24,
      inventoryRecords: producedTo(inventoryTopic),
      headerRecords: producedTo(headerTopic),
      decodeDeadLetters: 0,
      transformDeadLetters: 1,
    });
    await nextRefreshes(2);

    const shown = await figuresOnPage();
    expect(shown['stage:stock_level#in']).toBe(
      String(metric(metrics, 'cdc_sync_stage_records_total', { stage: 'stock_level', outcome: 'in' })),
    );
    expect(shown['stage:stock_level#out']).toBe('24');
    expect(shown['stage:order_header#failed']).toBe('1');
    expect(shown[`table:dbo.InventoryBalance->stage:stock_level#throughput`]).toBe(String(producedTo(inventoryTopic)));
    expect(shown[`table:dbo.SalesOrderHeader->stage:order_header#throughput`]).toBe(String(producedTo(headerTopic)));
    expect(shown[`stage:order_header->topic:${config.topics.order}#errors`]).toBe('1');
    expect(shown[`topic:${config.topics.inventory}#published`]).toBe('24');
    // Every figure on the page is the sum of its /metrics samples: none differs, none is made up.
    expect(shown).toEqual(await expectedFigures(metrics));

    // Dead letters by reason.
    expect(await page.locator('[data-reason="TransformError"] td.num').getAttribute('data-value')).toBe('1');
    expect(await page.locator('[data-reason]').count()).toBe(1);
    expect(await page.locator('[data-testid="dead-letter-total"]').textContent()).toBe('1');

    // Freshness per read model: present on /metrics, the same on the page.
    for (const readModel of ['inventory_availability', 'order_view']) {
      const freshness = metric(metrics, 'cdc_sync_read_model_freshness_seconds', { read_model: readModel });
      expect(freshness).toBeGreaterThan(0);
      const cell = page.locator(`[data-read-model="${readModel}"] [data-figure="freshness"] .figure-value`);
      expect(Number(await cell.getAttribute('data-value'))).toBe(freshness);
      const position = matchingSamples(metrics, 'cdc_sync_read_model_as_of_position_info', { read_model: readModel });
      expect(position).toHaveLength(1);
      expect(
        await page.locator(`[data-read-model="${readModel}"] [data-figure="position"] .figure-value`).textContent(),
      ).toBe(position[0]!.labels['position']);
    }
    expect(await page.locator('[data-health="ready"]').getAttribute('data-state')).toBe('ok');
  });

  it('lists the low-stock and oversold locations and the stalled orders of the read models', async () => {
    expect(await rows('low-stock')).toEqual([
      ['CHALK-BAG-S', 'ST-DOWNTOWN', '0.000', '5.000', '1.000', '4.000'],
      ['HELMET-CLIMB-L', 'WH-EAST', '-2.000', '2.000', '3.000', '1.000'],
    ]);
    expect(await rows('oversold')).toEqual([['HELMET-CLIMB-L', 'WH-EAST', '-2.000', '2.000', '3.000', '1.000']]);
    expect(await page.locator('[data-testid="low-stock-count"]').textContent()).toBe('2');
    expect(await page.locator('[data-testid="oversold-count"]').textContent()).toBe('1');
    // Placed 2025-11-27 09:00 +01:00 and never paid: far beyond the 24 h default.
    const stalled = await rows('stalled');
    expect(stalled.map((cells) => cells.slice(0, 3))).toEqual([
      ['SO-STALLED-1', 'payment', '2025-11-27T09:00:00.0000000+01:00'],
    ]);
    expect(stalled[0]![4]).toBe('1.0 d');
    expect(await page.locator('[data-testid="documents"]').textContent()).toMatch(
      /^inventory_availability: 8 documents · order_view: 2 documents · as of /,
    );
  });

  it('follows new ERP changes live, without a reload', async () => {
    produced.push(...(await produceFixtures(config, [laterChanges])));
    await waitPipelineCaughtUp(kafka, config);
    const metrics = await expectMetrics({
      stockOut: 26,
      inventoryRecords: producedTo(inventoryTopic),
      headerRecords: producedTo(headerTopic),
      decodeDeadLetters: 1,
      transformDeadLetters: 1,
    });

    await expect.poll(async () => (await figuresOnPage())['stage:stock_level#out'], { timeout: 15_000 }).toBe('26');
    await nextRefreshes(1);
    expect(await figuresOnPage()).toEqual(await expectedFigures(metrics));
    expect(await page.locator('[data-reason="DecodeError"] td.num').getAttribute('data-value')).toBe('1');
    expect(await page.locator('[data-testid="dead-letter-total"]').textContent()).toBe('2');
    expect(await rows('low-stock')).toEqual([
      ['CARABINER-HMS', 'WH-EAST', '-4.000', '1.000', '5.000', '0.000'],
      ['HELMET-CLIMB-L', 'WH-EAST', '-2.000', '2.000', '3.000', '1.000'],
    ]);
    expect((await rows('oversold')).map((cells) => cells[0])).toEqual(['CARABINER-HMS', 'HELMET-CLIMB-L']);
    expect(await page.evaluate('window.loadedOnce')).toBe(true);

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

/** Records produced to a topic so far. */
function producedTo(topic: string): number {
  return produced
    .flatMap((result) => result.topics)
    .filter((entry) => entry.topic === topic)
    .reduce((sum, entry) => sum + entry.records, 0);
}

async function scrape(): Promise<readonly Sample[]> {
  const response = await fetch(`${pipeline!.opsUrl!}/metrics`);
  return parsePrometheusText(await response.text()).samples;
}

function metric(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const matching = matchingSamples(samples, name, labels);
  return matching.length === 0 ? undefined : matching.reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Waits until /metrics reports the expected exact counts (the runners report
 * a batch's numbers right after committing it), then answers the scrape.
 */
async function expectMetrics(expected: {
  stockOut: number;
  inventoryRecords: number;
  headerRecords: number;
  decodeDeadLetters: number;
  transformDeadLetters: number;
}): Promise<readonly Sample[]> {
  const read = (samples: readonly Sample[]) => ({
    stockOut: metric(samples, 'cdc_sync_stage_records_total', { stage: 'stock_level', outcome: 'out' }),
    inventoryRecords: metric(samples, 'cdc_sync_source_records_total', { role: 'transform', topic: inventoryTopic }),
    headerRecords: metric(samples, 'cdc_sync_source_records_total', { role: 'transform', topic: headerTopic }),
    decodeDeadLetters: metric(samples, 'cdc_sync_dead_letters_total', { stage: 'decode' }) ?? 0,
    transformDeadLetters: metric(samples, 'cdc_sync_dead_letters_total', { reason: 'TransformError' }) ?? 0,
  });
  await expect.poll(async () => read(await scrape()), { timeout: 20_000 }).toEqual(expected);
  return scrape();
}

/** Waits until the page has finished `count` more refreshes. */
async function nextRefreshes(count: number): Promise<void> {
  // These functions run in the page, so they name nothing from here; PageGlobals types what they read there.
  const now = await page.evaluate(() =>
    Number((globalThis as unknown as PageGlobals).document.body.dataset['refreshes'] ?? '0'),
  );
  await page.waitForFunction(
    (target) => Number((globalThis as unknown as PageGlobals).document.body.dataset['refreshes'] ?? '0') >= target,
    now + count,
    {
      timeout: 15_000,
    },
  );
}

/** What the page functions above read, typed by hand: this project's TypeScript has no DOM library. */
type PageGlobals = { document: { body: { dataset: Record<string, string | undefined> } } };

/** Every count on the flow's boxes and arrows, by `<node or edge id>#<figure>`, as its value attribute says. */
async function figuresOnPage(): Promise<Record<string, string | null>> {
  return page
    .locator('#flow [data-figure-id]')
    .evaluateAll((elements) =>
      Object.fromEntries(
        elements.map((element) => [
          element.getAttribute('data-figure-id'),
          element.querySelector('.figure-value')?.getAttribute('data-value') ?? null,
        ]),
      ),
    );
}

/**
 * What the flow's counts must be for a scrape: each figure of the topology
 * summed over its selectors' samples, computed here from the served topology
 * rather than by the page's code.
 */
async function expectedFigures(samples: readonly Sample[]): Promise<Record<string, string | null>> {
  const topology = (await (await fetch(`${pipeline!.opsUrl!}/api/topology`)).json()) as Topology;
  const value = (figure: TopologyFigure) => {
    const matching = figure.selectors.flatMap((selector) => matchingSamples(samples, selector.metric, selector.labels));
    if (matching.length === 0) return figure.absentIsZero ? '0' : null;
    return String(matching.reduce((sum, sample) => sum + sample.value, 0));
  };
  return Object.fromEntries(
    [...topology.nodes, ...topology.edges].flatMap((owner) =>
      owner.figures
        .filter((figure) => figure.unit === 'count')
        .map((figure) => [`${owner.id}#${figure.key}`, value(figure)]),
    ),
  );
}

/** The text of each cell of a table's body rows. */
async function rows(testId: string): Promise<string[][]> {
  return page
    .locator(`[data-testid="${testId}"] tbody tr[data-key]`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
}
