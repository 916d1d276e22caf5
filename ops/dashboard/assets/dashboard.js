/**
 * The ops dashboard page. Loads the flow graph once from `api/topology`,
 * then every {@link POLL_MS} fetches `metrics` (Prometheus text, parsed
 * here) and `api/read-models`, and updates the page in place. Every number
 * on the page is a sum of `/metrics` samples named by the topology, so the
 * page shows exactly what the metrics endpoint reports.
 *
 * Type-checked against the DOM by `tsc -p ops/dashboard/assets`.
 */
import { matchingSamples, parsePrometheusText, sumSamples } from './prometheus-text.js';

/** @typedef {import('./prometheus-text.js').Sample} Sample */
/** @typedef {import('../dashboard.js').Topology} Topology */
/** @typedef {import('../dashboard.js').TopologyNode} TopologyNode */
/** @typedef {import('../dashboard.js').TopologyEdge} TopologyEdge */
/** @typedef {import('../dashboard.js').TopologyFigure} TopologyFigure */
/** @typedef {import('../dashboard.js').ReadModelsResponse} ReadModelsResponse */
/** @typedef {import('../dashboard.js').StockRow} StockRow */
/** @typedef {import('../dashboard.js').StalledOrderRow} StalledOrderRow */

const POLL_MS = 1500;

const COLUMNS = /** @type {const} */ ([
  ['table', 'ERP tables'],
  ['stage', 'Stages'],
  ['topic', 'Canonical topics'],
  ['read_model', 'Read models'],
]);

/** Throughput values of the previous refresh, for rates: figure element → value. */
let previous = /** @type {{ atMs: number, values: WeakMap<Element, number> } | undefined} */ (undefined);
let refreshes = 0;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`The page has no element #${id}`);
  return element;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/**
 * @param {string} path relative to the page, e.g. `metrics`
 * @returns {Promise<Response>}
 */
async function get(path) {
  const response = await fetch(path, { cache: 'no-store', headers: { accept: '*/*' } });
  if (!response.ok) {
    throw new Error(`GET /${path} answered ${response.status}: ${(await response.text()).trim()}`);
  }
  return response;
}

async function main() {
  /** @type {Topology} */
  const topology = await (await get('api/topology')).json();
  renderFlow(topology);
  renderEdgeTable(topology);
  renderFreshnessRows(topology);
  byId('role').textContent =
    topology.role === 'all'
      ? ''
      : `(this process runs the ${topology.role} role; the other's numbers come from its own ops server)`;
  byId('dead-letter-topic').textContent = `Dead-letter topic: ${topology.deadLetterTopic}`;
  new ResizeObserver(() => drawEdges(topology)).observe(byId('flow'));
  await poll(topology);
}

/** @param {Topology} topology */
async function poll(topology) {
  try {
    await refresh(topology);
    showProblem(undefined);
  } catch (error) {
    showProblem(error instanceof Error ? error.message : String(error));
  }
  setTimeout(() => void poll(topology), POLL_MS);
}

/** @param {string | undefined} message */
function showProblem(message) {
  const problem = byId('problem');
  problem.hidden = message === undefined;
  problem.textContent = message ?? '';
}

/** @param {Topology} topology */
async function refresh(topology) {
  const [metricsText, readModels] = await Promise.all([
    get('metrics').then((response) => response.text()),
    // A 503 still carries the JSON saying why; only a failed request has no answer at all.
    fetch('api/read-models', { cache: 'no-store' })
      .then((response) => /** @type {Promise<ReadModelsResponse>} */ (response.json()))
      .catch(
        (/** @type {unknown} */ error) =>
          /** @type {ReadModelsResponse} */ ({
            available: false,
            reason: error instanceof Error ? error.message : String(error),
          }),
      ),
  ]);
  const { samples } = parsePrometheusText(metricsText);
  const atMs = performance.now();
  /** @type {WeakMap<Element, number>} */
  const values = new WeakMap();
  for (const element of document.querySelectorAll('[data-figure-id]')) {
    const figure = figureById.get(element.getAttribute('data-figure-id') ?? '');
    if (figure === undefined) continue;
    const value = showFigure(element, figure, samples, atMs);
    if (typeof value === 'number') values.set(element, value);
  }
  previous = { atMs, values };
  for (const edge of topology.edges) markEdge(edge, samples);
  drawEdges(topology);
  renderHealth(topology, samples);
  renderDeadLetters(topology, samples);
  renderReadModels(readModels);
  refreshes += 1;
  document.body.dataset['refreshes'] = String(refreshes);
  byId('refreshed').textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

/** Figures by the id their elements carry; a figure may be shown in several places. */
const figureById = /** @type {Map<string, TopologyFigure>} */ (new Map());

/**
 * A figure's element: `[data-figure=<key>]` holding a label, the value
 * (`.figure-value`, raw number in `data-value`) and, for throughput, a rate.
 *
 * @param {string} ownerId node or edge id
 * @param {TopologyFigure} figure
 * @returns {HTMLElement}
 */
function figureElement(ownerId, figure) {
  const id = `${ownerId}#${figure.key}`;
  figureById.set(id, figure);
  return h('span', { class: 'figure', 'data-figure': figure.key, 'data-figure-id': id }, [
    h('span', { class: 'figure-label' }, [figure.label]),
    ' ',
    h('span', { class: 'figure-value' }, ['–']),
    ...(figure.key === 'throughput' ? [' ', h('span', { class: 'figure-rate' }, [])] : []),
  ]);
}

/**
 * Sets a figure element from the samples; answers the value it showed.
 *
 * @param {Element} element
 * @param {TopologyFigure} figure
 * @param {readonly Sample[]} samples
 * @param {number} atMs
 * @returns {number | string | undefined}
 */
function showFigure(element, figure, samples, atMs) {
  const value = figureValue(figure, samples) ?? (figure.absentIsZero ? 0 : undefined);
  const valueElement = element.querySelector('.figure-value');
  if (valueElement !== null) {
    valueElement.textContent = formatFigure(figure, value);
    if (value === undefined) valueElement.removeAttribute('data-value');
    else valueElement.setAttribute('data-value', String(value));
  }
  element.classList.toggle(
    'alert',
    figure.key === 'errors' || figure.key === 'failed' || figure.key === 'rejected' ? Number(value) > 0 : false,
  );
  element.classList.toggle('warn', figure.key === 'lag' ? Number(value) > 0 : false);
  const rateElement = element.querySelector('.figure-rate');
  if (rateElement !== null) {
    const before = previous?.values.get(element);
    const seconds = previous === undefined ? 0 : (atMs - previous.atMs) / 1000;
    rateElement.textContent =
      typeof value === 'number' && before !== undefined && seconds > 0
        ? `${formatRate((value - before) / seconds)}/s`
        : '';
  }
  return value;
}

/**
 * @param {TopologyFigure} figure
 * @param {readonly Sample[]} samples
 * @returns {number | string | undefined} the sum of the matching samples, a label value for unit `label`, or
 *   undefined when no sample matches
 */
function figureValue(figure, samples) {
  if (figure.unit === 'label') {
    const first = figure.selectors.flatMap((selector) => matchingSamples(samples, selector.metric, selector.labels))[0];
    return first === undefined || figure.labelName === undefined ? undefined : first.labels[figure.labelName];
  }
  /** @type {number | undefined} */
  let total;
  for (const selector of figure.selectors) {
    const sum = sumSamples(samples, selector.metric, selector.labels);
    if (sum !== undefined) total = (total ?? 0) + sum;
  }
  return total;
}

/**
 * @param {TopologyFigure} figure
 * @param {number | string | undefined} value
 * @returns {string}
 */
function formatFigure(figure, value) {
  if (value === undefined) return '–';
  if (typeof value === 'string') return value;
  switch (figure.unit) {
    case 'seconds':
      return formatSeconds(value);
    case 'timestamp':
      return formatTime(value * 1000);
    default:
      return formatCount(value);
  }
}

/** @param {number} value */
function formatCount(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** @param {number} perSecond */
function formatRate(perSecond) {
  return perSecond === 0 ? '0' : perSecond.toFixed(perSecond < 10 ? 1 : 0);
}

/** @param {number} seconds */
function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return String(seconds);
  const abs = Math.abs(seconds);
  if (abs < 1) return `${Math.round(seconds * 1000)} ms`;
  if (abs < 60) return `${seconds.toFixed(1)} s`;
  if (abs < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (abs < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** @param {number} epochMs */
function formatTime(epochMs) {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? '–' : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** @param {Topology} topology */
function renderFlow(topology) {
  const flow = byId('flow');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.classList.add('edges');
  svg.setAttribute('aria-hidden', 'true');
  flow.replaceChildren(svg);
  for (const [kind, title] of COLUMNS) {
    const nodes = topology.nodes.filter((node) => node.kind === kind);
    flow.append(
      h('div', { class: `column column-${kind}`, 'data-column': kind }, [
        h('h3', {}, [title]),
        h('div', { class: 'column-nodes' }, nodes.map(nodeElement)),
      ]),
    );
  }
  const labels = h('div', { class: 'edge-labels' });
  for (const edge of topology.edges) {
    labels.append(
      h(
        'div',
        { class: 'edge-label', 'data-edge': edge.id, title: `${edge.from} → ${edge.to}` },
        edge.figures.map((figure) => figureElement(edge.id, figure)),
      ),
    );
  }
  flow.append(labels);
}

/**
 * @param {TopologyNode} node
 * @returns {HTMLElement}
 */
function nodeElement(node) {
  // Freshness, time and position have their own table; the box keeps to counts.
  const counts = node.figures.filter((figure) => figure.unit === 'count');
  return h('article', { class: `node node-${node.kind}`, 'data-node': node.id, title: node.detail }, [
    h('div', { class: 'node-label' }, [node.label]),
    h('div', { class: 'node-detail' }, [node.detail]),
    h(
      'div',
      { class: 'figures' },
      counts.map((figure) => figureElement(node.id, figure)),
    ),
  ]);
}

/** @param {Topology} topology */
function renderEdgeTable(topology) {
  const label = (/** @type {string} */ id) => topology.nodes.find((node) => node.id === id)?.label ?? id;
  const body = byId('edges').querySelector('tbody');
  body?.replaceChildren(
    ...topology.edges.map((edge) => {
      const cell = (/** @type {string} */ key) => {
        const figure = edge.figures.find((candidate) => candidate.key === key);
        return h('td', { class: 'num' }, figure === undefined ? ['–'] : [figureElement(`${edge.id}@table`, figure)]);
      };
      return h('tr', { 'data-edge': edge.id }, [
        h('td', {}, [label(edge.from)]),
        h('td', {}, [label(edge.to)]),
        cell('throughput'),
        cell('lag'),
        cell('errors'),
      ]);
    }),
  );
}

/** @param {Topology} topology */
function renderFreshnessRows(topology) {
  const body = byId('freshness').querySelector('tbody');
  body?.replaceChildren(
    ...topology.nodes
      .filter((node) => node.kind === 'read_model')
      .map((node) => {
        const cell = (/** @type {string} */ key, /** @type {string} */ className) => {
          const figure = node.figures.find((candidate) => candidate.key === key);
          return h(
            'td',
            { class: className },
            figure === undefined ? ['–'] : [figureElement(`${node.id}@freshness`, figure)],
          );
        };
        return h('tr', { 'data-read-model': node.label }, [
          h('td', {}, [node.label]),
          cell('freshness', 'num'),
          cell('asOf', 'nowrap'),
          cell('position', 'mono'),
          cell('applied', 'num'),
        ]);
      }),
  );
}

/**
 * Marks an arrow that lost records or has a lag, and the rate on it.
 *
 * @param {TopologyEdge} edge
 * @param {readonly Sample[]} samples
 */
function markEdge(edge, samples) {
  const path = document.querySelector(`path[data-edge="${CSS.escape(edge.id)}"]`);
  if (path === null) return;
  const value = (/** @type {string} */ key) => {
    const figure = edge.figures.find((candidate) => candidate.key === key);
    return figure === undefined ? 0 : Number(figureValue(figure, samples) ?? 0);
  };
  path.classList.toggle('alert', value('errors') > 0);
  path.classList.toggle('warn', value('lag') > 0);
}

/**
 * Draws the arrows between the boxes and places their labels; runs whenever
 * the flow's size changes and after each refresh. A label sits in the middle
 * of its arrow, unless arrows converge (then beside the box they leave) or
 * fan out (then beside the box they reach), stacked where they share a box.
 *
 * @param {Topology} topology
 */
function drawEdges(topology) {
  const flow = byId('flow');
  const svg = flow.querySelector('svg.edges');
  if (svg === null) return;
  const base = flow.getBoundingClientRect();
  svg.setAttribute('width', String(flow.scrollWidth));
  svg.setAttribute('height', String(flow.scrollHeight));
  const existing = new Map([...svg.querySelectorAll('path')].map((path) => [path.getAttribute('data-edge'), path]));
  const fanIn = (/** @type {string} */ id) => topology.edges.filter((edge) => edge.to === id).length;
  const fanOut = (/** @type {string} */ id) => topology.edges.filter((edge) => edge.from === id).length;
  /** @type {Map<string, number>} labels placed beside each box so far */
  const stacked = new Map();
  for (const edge of topology.edges) {
    const from = flow.querySelector(`[data-node="${CSS.escape(edge.from)}"]`);
    const to = flow.querySelector(`[data-node="${CSS.escape(edge.to)}"]`);
    const label = flow.querySelector(`.edge-label[data-edge="${CSS.escape(edge.id)}"]`);
    if (from === null || to === null || !(label instanceof HTMLElement)) continue;
    const a = from.getBoundingClientRect();
    const b = to.getBoundingClientRect();
    const x0 = a.right - base.left;
    const y0 = a.top + a.height / 2 - base.top;
    const x1 = b.left - base.left;
    const y1 = b.top + b.height / 2 - base.top;
    const bend = (x1 - x0) / 2;
    let path = existing.get(edge.id);
    if (path === undefined) {
      path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      path.setAttribute('data-edge', edge.id);
      svg.append(path);
    }
    path.setAttribute('d', `M ${x0} ${y0} C ${x0 + bend} ${y0}, ${x1 - bend} ${y1}, ${x1} ${y1}`);

    const incoming = fanIn(edge.to);
    const outgoing = fanOut(edge.from);
    const anchor = incoming > 1 && incoming >= outgoing ? 'source' : outgoing > 1 ? 'target' : 'middle';
    label.dataset['anchor'] = anchor;
    if (anchor === 'middle') {
      // A cubic with these control points passes through the middle of both ends at t = 0.5.
      label.style.left = `${(x0 + x1) / 2}px`;
      label.style.top = `${(y0 + y1) / 2}px`;
      continue;
    }
    const box = anchor === 'source' ? edge.from : edge.to;
    const share = anchor === 'source' ? outgoing : incoming;
    const index = stacked.get(box) ?? 0;
    stacked.set(box, index + 1);
    const offset = (index - (share - 1) / 2) * (label.offsetHeight + 4);
    label.style.left = `${anchor === 'source' ? x0 + 6 : x1 - 6}px`;
    label.style.top = `${(anchor === 'source' ? y0 : y1) + offset}px`;
  }
}

/**
 * @param {Topology} topology
 * @param {readonly Sample[]} samples
 */
function renderHealth(topology, samples) {
  const ready = sumSamples(samples, topology.metrics.ready);
  const pills = [
    pill(
      ready === undefined ? 'unknown' : ready > 0 ? 'ok' : 'bad',
      ready === undefined ? 'readiness unknown' : ready > 0 ? 'ready' : 'not ready',
      'ready',
    ),
    ...matchingSamples(samples, topology.metrics.dependencyUp).map((sample) => {
      const name = sample.labels['dependency'] ?? '?';
      return pill(
        sample.value > 0 ? 'ok' : 'bad',
        `${name.replace(/_/g, ' ')} ${sample.value > 0 ? 'up' : 'down'}`,
        name,
      );
    }),
  ];
  byId('health').replaceChildren(...pills);
}

/**
 * @param {'ok' | 'bad' | 'unknown'} state
 * @param {string} text
 * @param {string} name
 */
function pill(state, text, name) {
  return h('span', { class: `pill pill-${state}`, 'data-health': name, 'data-state': state }, [text]);
}

/**
 * @param {Topology} topology
 * @param {readonly Sample[]} samples
 */
function renderDeadLetters(topology, samples) {
  /** @type {Map<string, { total: number, where: string[] }>} */
  const byReason = new Map();
  for (const sample of matchingSamples(samples, topology.metrics.deadLetters)) {
    const reason = sample.labels['reason'] ?? '(no reason)';
    const entry = byReason.get(reason) ?? { total: 0, where: [] };
    entry.total += sample.value;
    entry.where.push(`${sample.value} × ${sample.labels['stage'] ?? '?'} on ${sample.labels['topic'] ?? '?'}`);
    byReason.set(reason, entry);
  }
  const rows = [...byReason.entries()].sort(([a, x], [b, y]) => y.total - x.total || a.localeCompare(b));
  const total = rows.reduce((sum, [, entry]) => sum + entry.total, 0);
  byId('dead-letter-total').textContent = String(total);
  byId('dead-letters')
    .querySelector('tbody')
    ?.replaceChildren(
      ...(rows.length === 0
        ? [h('tr', {}, [h('td', { colspan: '3', class: 'empty' }, ['No dead letters'])])]
        : rows.map(([reason, entry]) =>
            h('tr', { 'data-reason': reason }, [
              h('td', {}, [reason]),
              h('td', { class: 'num', 'data-value': String(entry.total) }, [formatCount(entry.total)]),
              h('td', { class: 'where' }, [entry.where.join('; ')]),
            ]),
          )),
    );
}

/** @param {ReadModelsResponse} report */
function renderReadModels(report) {
  const sections = ['stalled', 'low-stock', 'oversold'];
  for (const id of sections) {
    const section = byId(id).closest('section');
    const note = section?.querySelector('[data-unavailable]');
    if (note instanceof HTMLElement) {
      note.hidden = report.available;
      note.textContent = report.available ? '' : report.reason;
    }
    byId(id).hidden = !report.available;
  }
  if (!report.available) {
    for (const id of ['stalled-count', 'low-stock-count', 'oversold-count']) byId(id).textContent = '';
    byId('documents').textContent = '';
    return;
  }
  const { inventory, orders } = report;
  renderRows(
    'stalled',
    orders?.stalled ?? [],
    (row) => [
      row.orderNumber,
      waitingFor(row),
      row.since,
      formatSeconds(row.ageMs / 1000),
      formatSeconds(row.thresholdMs / 1000),
    ],
    (row) => row.orderNumber,
    orders === undefined ? 'The order view is disabled' : 'No stalled orders',
  );
  byId('stalled-count').textContent =
    orders === undefined ? '' : `${orders.stalled.length}${orders.stalled.length >= orders.stalledLimit ? '+' : ''}`;
  /** @param {StockRow} row */
  const stockCells = (row) => [row.sku, row.location, row.available, row.onHand, row.reserved, row.safetyStock];
  /** @param {StockRow} row */
  const stockKey = (row) => `${row.sku}@${row.location}`;
  const disabled = 'Inventory availability is disabled';
  renderRows(
    'low-stock',
    inventory?.lowStock ?? [],
    stockCells,
    stockKey,
    inventory === undefined ? disabled : 'No low stock',
  );
  renderRows(
    'oversold',
    inventory?.oversold ?? [],
    stockCells,
    stockKey,
    inventory === undefined ? disabled : 'Nothing oversold',
  );
  byId('low-stock-count').textContent = inventory === undefined ? '' : String(inventory.lowStockCount);
  byId('oversold-count').textContent = inventory === undefined ? '' : String(inventory.oversoldCount);
  byId('documents').textContent = [
    ...(inventory === undefined ? [] : [`${inventory.collection}: ${inventory.documents} documents`]),
    ...(orders === undefined ? [] : [`${orders.collection}: ${orders.documents} documents`]),
    `as of ${formatTime(Date.parse(report.asOf))}`,
  ].join(' · ');
}

/**
 * `payment`, `shipment of payment 42`, `refund of RMA-1`.
 *
 * @param {StalledOrderRow} row
 */
function waitingFor(row) {
  const what = row.state.replace(/^awaiting/, '').toLowerCase();
  if (row.ref === null) return what;
  return row.state === 'awaitingShipment' ? `${what} of payment ${row.ref}` : `${what} of ${row.ref}`;
}

/**
 * @template T
 * @param {string} tableId
 * @param {readonly T[]} rows
 * @param {(row: T) => string[]} cells
 * @param {(row: T) => string} key
 * @param {string} empty
 */
function renderRows(tableId, rows, cells, key, empty) {
  const table = byId(tableId);
  const columns = table.querySelectorAll('thead th');
  table.querySelector('tbody')?.replaceChildren(
    ...(rows.length === 0
      ? [h('tr', {}, [h('td', { colspan: String(columns.length), class: 'empty' }, [empty])])]
      : rows.map((row) =>
          h(
            'tr',
            { 'data-key': key(row) },
            cells(row).map((text, index) => h('td', { class: columns[index]?.className ?? '' }, [text])),
          ),
        )),
  );
}

main().catch((/** @type {unknown} */ error) => {
  showProblem(`The dashboard could not start: ${error instanceof Error ? error.message : String(error)}`);
});
