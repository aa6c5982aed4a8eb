// @ts-check
// The dashboard: live charts from this server's own GET /metrics (scraped every 2 s and parsed here),
// the loaded models from /api/ps, and the components of GET /services/status. Only the last two
// minutes of numbers are kept, in this page's memory; leaving the page stops the scrapes.
import { getJson, getText } from '../api.js';
import { h, replace, formatBytes, formatSeconds } from '../ui.js';
import { parsePrometheus, total, byLabel, histogram, histogramDelta, quantile, perBucket, rate } from './dashboard/prometheus.js';
import { lineChart, barChart, colors } from './dashboard/charts.js';

/** @typedef {import('./dashboard/prometheus.js').Sample} Sample */
/** @typedef {import('./dashboard/prometheus.js').Bucket} Bucket */
/** @typedef {Record<string, number | null>} Point  one value per series name; null = nothing to show */

const refreshMs = 2000;
// /services/status probes every loaded model and the database: often enough to notice, not every scrape.
const servicesEveryMs = 6000;
const slots = 60;
const span = 'last 2 min';

/** Aligned columns of the last `slots` points, one per series; a series that appears later starts with gaps. */
export class History {
  /** @param {number} capacity */
  constructor(capacity) {
    this.capacity = capacity;
    this.length = 0;
    /** @type {Map<string, (number | null)[]>} */
    this.columns = new Map();
  }

  /** @param {Point} point */
  push(point) {
    for (const name of Object.keys(point))
      if (!this.columns.has(name)) this.columns.set(name, new Array(this.length).fill(null));
    this.length = Math.min(this.length + 1, this.capacity);
    for (const [name, column] of this.columns) {
      column.push(point[name] ?? null);
      if (column.length > this.capacity) column.shift();
      // A series gone from the point (an unloaded model) leaves once its last value scrolled out.
      if (!(name in point) && column.every(v => v === null)) this.columns.delete(name);
    }
  }

  series() { return [...this.columns].map(([label, values]) => ({ label, values })); }
}

/** @param {number} v */
const formatCount = v => (Number.isInteger(v) ? String(v) : v.toFixed(1));
/** @param {number} v */
const formatRate = v => (v >= 100 || v === 0 ? String(Math.round(v)) : v.toFixed(1));
/** @param {number} v */
const formatPercent = v => `${Math.round(v)}%`;

/** Per-second increase of a counter (summed over models) since the previous scrape. @param {string} name */
const counterRate = name => (/** @type {Sample[]} */ now, /** @type {Sample[] | null} */ before, /** @type {number} */ seconds) =>
  before ? rate(total(now, name), total(before, name), seconds) : null;

/**
 * p50 and p95 of the observations a histogram gained since the previous scrape.
 * @param {Sample[]} now @param {Sample[] | null} before @param {string} name @returns {Point}
 */
function percentiles(now, before, name) {
  const delta = before ? histogramDelta(histogram(now, name), histogram(before, name)) : null;
  return { p50: delta && quantile(delta, 0.5), p95: delta && quantile(delta, 0.95) };
}

/** Which models are loaded: the ones with memory (an unloaded model's gauges read 0). @param {Sample[]} samples */
function loadedModels(samples) {
  return Object.entries(byLabel(samples, 'inference_model_memory_bytes', 'model')).filter(([, bytes]) => bytes > 0);
}

/**
 * The line charts: what each one plots from a scrape and the one before it.
 * @type {{ id: string, title: string, format: (v: number) => string, max?: number, point: (now: Sample[], before: Sample[] | null, seconds: number) => Point }[]}
 */
const lineCharts = [
  {
    id: 'tokens', title: 'Generated tokens per second', format: formatRate,
    point: (now, before, seconds) => ({ 'tokens/s': counterRate('inference_generated_tokens_total')(now, before, seconds) }),
  },
  {
    id: 'ttft', title: 'Time to first token', format: formatSeconds,
    point: (now, before) => percentiles(now, before, 'inference_time_to_first_token_seconds'),
  },
  {
    id: 'inter-token', title: 'Time between tokens', format: formatSeconds,
    point: (now, before) => percentiles(now, before, 'inference_inter_token_seconds'),
  },
  {
    id: 'sequences', title: 'Sequences', format: formatCount,
    point: now => ({ active: total(now, 'inference_active_sequences'), queued: total(now, 'inference_queued_requests') }),
  },
  {
    id: 'prompt', title: 'Prompt tokens per second', format: formatRate,
    point: (now, before, seconds) => ({
      evaluated: counterRate('inference_prompt_tokens_evaluated_total')(now, before, seconds),
      'reused from cache': counterRate('inference_prompt_tokens_cached_total')(now, before, seconds),
    }),
  },
  {
    id: 'kv', title: 'KV cache used, per loaded model', format: formatPercent, max: 100,
    point: now => {
      const usage = byLabel(now, 'inference_kv_cache_usage_ratio', 'model');
      return Object.fromEntries(loadedModels(now).map(([model]) => [model, (usage[model] ?? 0) * 100]));
    },
  },
];

/** A card with a line chart and a legend that shows each series' latest value. */
class LineCard {
  /** @param {typeof lineCharts[number]} spec */
  constructor(spec) {
    this.spec = spec;
    this.history = new History(slots);
    this.chart = h('div');
    this.legend = h('div', { class: 'dash-legend' });
    this.element = h('section', { class: 'card dash-card', id: `dash-${spec.id}` }, h('h2', {}, spec.title), this.legend, this.chart);
  }

  /** @param {Sample[]} now @param {Sample[] | null} before @param {number} seconds */
  update(now, before, seconds) {
    this.history.push(this.spec.point(now, before, seconds));
    const series = this.history.series();
    replace(this.chart, lineChart(series, { slots, format: this.spec.format, span, max: this.spec.max }));
    replace(this.legend, ...series.map(({ label, values }, i) => {
      const latest = values[values.length - 1];
      return h('span', { dataset: { series: label, latest: latest === null ? '' : String(latest) } },
        h('i', { style: { background: colors[i % colors.length] } }), `${label} `,
        h('strong', {}, latest === null ? '–' : this.spec.format(latest)));
    }));
    const first = series[0]?.values;
    this.element.dataset.latest = first?.length && first[first.length - 1] !== null ? String(first[first.length - 1]) : '';
  }
}

/** "1", "2", "5–6", ">64": the batch sizes a bucket of inference_batch_sequences holds. @param {Bucket[]} buckets */
export function bucketLabels(buckets) {
  return buckets.map((b, i) => {
    const lower = i > 0 ? buckets[i - 1].le : 0;
    if (b.le === Infinity) return `>${lower}`;
    return b.le - lower <= 1 ? String(b.le) : `${lower + 1}–${b.le}`;
  });
}

/** Decode steps by how many sequences they decoded together, over the charts' window. */
class BatchCard {
  constructor() {
    /** @type {{ buckets: Bucket[], sum: number, count: number }[]} */
    this.window = [];
    this.summary = h('div', { class: 'dash-legend' });
    this.chart = h('div');
    this.element = h('section', { class: 'card dash-card', id: 'dash-batch' },
      h('h2', {}, 'Sequences per decode step'), this.summary, this.chart);
  }

  /** @param {Sample[]} now */
  update(now) {
    const name = 'inference_batch_sequences';
    const latest = { buckets: histogram(now, name), sum: total(now, `${name}_sum`), count: total(now, `${name}_count`) };
    this.window.push(latest);
    if (this.window.length > slots + 1) this.window.shift();
    let delta = histogramDelta(latest.buckets, this.window[0].buckets);
    if (!delta) { this.window = [latest]; delta = histogramDelta(latest.buckets, latest.buckets); } // restarted server
    const steps = latest.count - this.window[0].count;
    const mean = steps > 0 ? (latest.sum - this.window[0].sum) / steps : null;
    const counts = perBucket(delta ?? []);
    const labels = bucketLabels(counts);
    // Bars up to the largest batch seen, at least sizes 1–4.
    const shown = Math.max(4, counts.findLastIndex(b => b.count > 0) + 1);
    const bars = counts.slice(0, shown).map((b, i) => ({ label: labels[i], value: b.count }));
    replace(this.chart, barChart(bars, { format: formatCount }));
    const largest = Math.max(0, ...Object.values(byLabel(now, 'inference_max_batch_sequences', 'model')));
    replace(this.summary,
      h('span', { dataset: { steps: String(steps) } }, 'steps ', h('strong', {}, String(steps))),
      h('span', { dataset: { mean: mean === null ? '' : String(mean) } }, 'mean ', h('strong', {}, mean === null ? '–' : mean.toFixed(1))),
      h('span', {}, 'largest so far ', h('strong', {}, String(largest))),
      h('span', { class: 'muted' }, span));
  }
}

/** "in 4 min" until an ISO time; a keep_alive of forever reads "never". @param {string} iso */
function until(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds > 365 * 86400) return 'never';
  if (seconds < 60) return seconds <= 0 ? 'now' : `in ${Math.round(seconds)} s`;
  return seconds < 3600 ? `in ${Math.round(seconds / 60)} min` : `in ${(seconds / 3600).toFixed(1)} h`;
}

/** Memory of each loaded model (inference_model_memory_bytes), with where it runs and when it unloads from /api/ps. */
class MemoryCard {
  constructor() {
    this.body = h('div');
    this.element = h('section', { class: 'card dash-card', id: 'dash-memory' }, h('h2', {}, 'Memory per loaded model'), this.body);
  }

  /** @param {Sample[]} now @param {{ value?: any, error?: Error }} ps */
  update(now, ps) {
    const models = loadedModels(now);
    const kv = byLabel(now, 'inference_kv_cache_usage_ratio', 'model');
    /** @type {Map<string, any>} */
    const details = new Map((ps.value?.models ?? []).map((/** @type {any} */ m) => [m.name, m]));
    const largest = Math.max(1, ...models.map(([, bytes]) => bytes));
    replace(this.body,
      models.length === 0 && h('p', { class: 'muted' }, 'No model is loaded.'),
      models.map(([model, bytes]) => {
        const detail = details.get(model);
        const facts = [`KV cache ${formatPercent((kv[model] ?? 0) * 100)}`];
        if (detail) {
          facts.push(detail.size_vram > 0 ? `${Math.round((100 * detail.size_vram) / detail.size)}% GPU` : 'CPU');
          const unloads = until(detail.expires_at);
          if (unloads) facts.push(`unloads ${unloads}`);
        }
        return h('div', { class: 'dash-model', dataset: { model, bytes: String(bytes) } },
          h('div', { class: 'dash-model-head' }, h('strong', {}, model), h('span', {}, formatBytes(bytes))),
          h('div', { class: 'dash-bar' }, h('span', { style: { width: `${(100 * bytes) / largest}%` } })),
          h('div', { class: 'muted' }, facts.join(' · ')));
      }),
      ps.error && h('p', { class: 'hint' }, `/api/ps: ${ps.error.message}`));
  }
}

/** The components GET /services/status probed, with their state. */
class ServicesCard {
  constructor() {
    this.checked = h('span', { class: 'muted' });
    this.body = h('div', { class: 'scroll' }, h('p', { class: 'muted' }, 'Checking…'));
    this.element = h('section', { class: 'card dash-card', id: 'dash-services' },
      h('h2', {}, 'Services ', this.checked), this.body);
  }

  /** @param {{ value?: any, error?: Error }} statuses */
  update(statuses) {
    this.checked.textContent = `checked ${new Date().toLocaleTimeString()}`;
    if (statuses.error) {
      replace(this.body, h('p', { class: 'error' }, `/services/status: ${statuses.error.message}`));
      return;
    }
    replace(this.body, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Component'), h('th', {}, 'State'), h('th', {}, 'Answered in'), h('th', {}, 'Detail'))),
      h('tbody', {}, (statuses.value ?? []).map((/** @type {any} */ s) =>
        h('tr', { dataset: { service: s.name, status: s.status } },
          h('td', {}, s.name),
          h('td', { class: s.status === 'up' ? 'dash-up' : 'dash-down' }, s.status),
          h('td', {}, `${s.response_time_ms} ms`),
          h('td', { class: 'dash-detail' }, s.detail ?? ''))))));
  }
}

/**
 * A promise's value or error, so that one failed route (e.g. /api/ps needing a token) leaves the others drawn.
 * @template T @param {Promise<T>} promise @returns {Promise<{ value?: T, error?: Error }>}
 */
const settle = promise => promise.then(value => ({ value }), error => ({ error }));

/** @param {HTMLElement} root */
export function mount(root) {
  const status = h('p', { id: 'dash-status', class: 'muted' }, 'Reading /metrics…');
  const lines = lineCharts.map(spec => new LineCard(spec));
  const batch = new BatchCard(), memory = new MemoryCard(), services = new ServicesCard();
  root.append(
    h('div', { class: 'dash-head' }, h('h1', {}, 'Dashboard'), status),
    h('div', { class: 'grid' }, ...lines.map(c => c.element), batch.element, memory.element),
    services.element);

  /** @type {{ time: number, samples: Sample[] } | null} */
  let previous = null;
  let servicesAt = -Infinity, stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {AbortController | undefined} */
  let inFlight;

  async function scrape() {
    inFlight = new AbortController();
    const signal = inFlight.signal;
    const checkServices = performance.now() - servicesAt >= servicesEveryMs;
    let text, ps, statuses;
    try {
      [text, ps, statuses] = await Promise.all([
        getText('/metrics', signal),
        settle(getJson('/api/ps', signal)),
        checkServices ? settle(getJson('/services/status', signal)) : undefined,
      ]);
    } catch (error) {
      if (signal.aborted) return;
      status.className = 'error';
      status.textContent = `Could not read /metrics: ${/** @type {Error} */ (error).message}`;
      timer = setTimeout(scrape, refreshMs);
      return;
    }
    if (signal.aborted) return;
    const now = { time: performance.now(), samples: parsePrometheus(text) };
    const seconds = previous ? (now.time - previous.time) / 1000 : 0;
    for (const card of lines) card.update(now.samples, previous?.samples ?? null, seconds);
    batch.update(now.samples);
    memory.update(now.samples, ps);
    if (statuses) { services.update(statuses); servicesAt = performance.now(); }
    previous = now;
    status.className = 'muted';
    status.textContent = `Updated ${new Date().toLocaleTimeString()}, every ${refreshMs / 1000} s`;
    if (!stopped) timer = setTimeout(scrape, refreshMs);
  }

  scrape();
  return () => {
    stopped = true;
    clearTimeout(timer);
    inFlight?.abort();
  };
}
