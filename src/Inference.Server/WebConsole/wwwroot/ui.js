// @ts-check
// Small DOM helpers shared by the pages: no framework, so the console stays a few kilobytes.

/**
 * Creates an element: h('button', { class: 'x', onclick: f }, 'Label', child).
 * Props starting with "on" become listeners; `dataset`/`style` objects are merged; false/null children are skipped.
 * The result is typed by tag (h('dialog') is an HTMLDialogElement), so pages need no casts.
 * @template {string} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | number | false | null | undefined | Array<Node | string>)} children
 * @returns {K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset' || key === 'style') Object.assign(el[key], value);
    else if (key in el && typeof value !== 'string') /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return /** @type {any} */ (el);
}

/** @param {Element} el @param {any[]} children */
function append(el, children) {
  for (const child of children.flat()) {
    if (child === false || child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** 1536 → "1.5 KB" (powers of 1024, as Ollama's CLI prints sizes). @param {number} bytes */
export function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Seconds → "850 ms" / "2.4 s". @param {number} seconds */
export function formatSeconds(seconds) {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
}

/** Opens the shell's token dialog, for a page whose /ai call needs a token the user has not given (or that was refused). */
export function openTokenDialog() {
  document.getElementById('token-button')?.click();
}

/**
 * Marks a long operation (pull, create) as failed: its status line says so (data-final="error")
 * and the error line carries the API's message.
 * @param {HTMLElement} status @param {HTMLElement} error @param {unknown} err
 */
export function showFailure(status, error, err) {
  status.textContent = 'failed';
  status.dataset.final = 'error';
  error.textContent = err instanceof Error ? err.message : String(err);
}
