// @ts-check
// Reading the server's own GET /metrics (Prometheus text format 0.0.4) and the arithmetic the
// dashboard needs between two scrapes: counter rates and histogram percentiles from bucket deltas,
// computed the way Prometheus' rate() and histogram_quantile() do.

/** @typedef {{ name: string, labels: Record<string, string>, value: number }} Sample */
/** @typedef {{ le: number, count: number }} Bucket  cumulative count of observations <= le */

// name{labels} value [timestamp]; the label block is parsed separately because values may hold "}" or ",".
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/**
 * Every sample of an exposition; comments (# HELP, # TYPE) and malformed lines are skipped.
 * @param {string} text
 * @returns {Sample[]}
 */
export function parsePrometheus(text) {
  /** @type {Sample[]} */
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match) continue;
    const labels = match[2] ? parseLabels(match[2].slice(1, -1)) : {};
    const value = parseValue(match[3]);
    if (!labels || (Number.isNaN(value) && match[3] !== 'NaN')) continue;
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** @param {string} block the text between { and } @returns {Record<string, string> | null} */
function parseLabels(block) {
  /** @type {Record<string, string>} */
  const labels = {};
  labelPair.lastIndex = 0;
  while (labelPair.lastIndex < block.length) {
    const start = labelPair.lastIndex;
    const match = labelPair.exec(block);
    if (!match) return block.slice(start).trim() === '' ? labels : null;
    labels[match[1]] = match[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** @param {string} text */
function parseValue(text) {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text); // NaN stays NaN
}

/**
 * Sum of every series of one metric, optionally only those whose labels match.
 * @param {Sample[]} samples @param {string} name @param {Record<string, string>} [match]
 */
export function total(samples, name, match = {}) {
  let sum = 0;
  for (const s of samples) if (s.name === name && matches(s, match)) sum += s.value;
  return sum;
}

/**
 * One value per value of a label: byLabel(samples, 'inference_model_memory_bytes', 'model') → { "stories:latest": 11656960 }.
 * @param {Sample[]} samples @param {string} name @param {string} label
 * @returns {Record<string, number>}
 */
export function byLabel(samples, name, label) {
  /** @type {Record<string, number>} */
  const result = {};
  for (const s of samples) {
    if (s.name !== name || !(label in s.labels)) continue;
    result[s.labels[label]] = (result[s.labels[label]] ?? 0) + s.value;
  }
  return result;
}

/** @param {Sample} sample @param {Record<string, string>} match */
function matches(sample, match) {
  for (const [key, value] of Object.entries(match)) if (sample.labels[key] !== value) return false;
  return true;
}

/**
 * The cumulative buckets of a histogram, summed over its series (every model), sorted by bound.
 * @param {Sample[]} samples @param {string} name the histogram's name, without _bucket
 * @param {Record<string, string>} [match]
 * @returns {Bucket[]}
 */
export function histogram(samples, name, match = {}) {
  /** @type {Map<number, number>} */
  const counts = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, match)) continue;
    const le = parseValue(s.labels.le ?? '');
    if (Number.isNaN(le)) continue;
    counts.set(le, (counts.get(le) ?? 0) + s.value);
  }
  return [...counts].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The observations made between two scrapes of a histogram (now − before, bucket by bucket).
 * Null when a count went down: the server restarted, so the interval has no meaning.
 * @param {Bucket[]} now @param {Bucket[]} before
 * @returns {Bucket[] | null}
 */
export function histogramDelta(now, before) {
  const previous = new Map(before.map(b => [b.le, b.count]));
  const delta = now.map(b => ({ le: b.le, count: b.count - (previous.get(b.le) ?? 0) }));
  return delta.some(b => b.count < 0) ? null : delta;
}

/**
 * The q-quantile (0..1) of the observations in cumulative buckets, as Prometheus' histogram_quantile:
 * linear interpolation inside the bucket that holds the rank, from the previous bound (0 for the
 * first bucket); a rank in the +Inf bucket answers the highest finite bound. Null with no observations.
 * @param {Bucket[]} buckets @param {number} q
 * @returns {number | null}
 */
export function quantile(buckets, q) {
  if (buckets.length === 0) return null;
  const observed = buckets[buckets.length - 1].count;
  if (!(observed > 0)) return null;
  const rank = q * observed;
  let lowerBound = 0, lowerCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/**
 * How many observations fell in each bucket on its own (not cumulative), for a bar chart:
 * [{ le: 1, count: 3 }, { le: 2, count: 5 }] means 3 were ≤ 1 and 5 were in (1, 2].
 * @param {Bucket[]} buckets
 * @returns {Bucket[]}
 */
export function perBucket(buckets) {
  return buckets.map((b, i) => ({ le: b.le, count: b.count - (i > 0 ? buckets[i - 1].count : 0) }));
}

/**
 * Per-second increase of a counter between two scrapes; null when it went down (a restart) or no time passed.
 * @param {number} now @param {number} before @param {number} seconds
 * @returns {number | null}
 */
export function rate(now, before, seconds) {
  if (!(seconds > 0) || now < before) return null;
  return (now - before) / seconds;
}
