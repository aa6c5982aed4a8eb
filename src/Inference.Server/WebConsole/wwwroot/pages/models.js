// @ts-check
// Models page: the installed models (GET /api/tags, capabilities from POST /api/show), which of them
// are loaded (GET /api/ps, polled while the page is open), copy and delete; pulling and creating
// live in models-pull.js and models-create.js and call back here when a model was added.
import { ApiError, getJson, send } from '../api.js';
import { formatBytes, h, replace } from '../ui.js';
import { pullCard } from './models-pull.js';
import { createCard } from './models-create.js';

const psEveryMs = 3000;

/**
 * @typedef {{ name: string, size: number, digest: string, details?: { family?: string, parameter_size?: string, quantization_level?: string } }} Tag
 * @typedef {{ name: string, size: number, size_vram: number, expires_at: string, context_length?: number }} Running
 */

/** @param {HTMLElement} root */
export function mount(root) {
  const abort = new AbortController();
  const signal = abort.signal;
  /** Capabilities by digest: /api/show is asked once per model content, not on every refresh. @type {Map<string, string[]>} */
  const capabilities = new Map();
  /** The last /api/ps answer; null until the first arrives, so no model shows "not loaded" before it is known. @type {Running[] | null} */
  let running = null;

  const error = h('p', { id: 'models-error', class: 'error', role: 'alert' });
  const body = h('tbody');
  const table = h('table', { id: 'models-table' },
    h('thead', {}, h('tr', {}, ...['Name', 'Size', 'Family', 'Parameters', 'Quantization', 'Capabilities', 'Loaded', ''].map(t => h('th', {}, t)))),
    body);
  const empty = h('p', { class: 'muted', hidden: true }, 'No models installed yet: pull one or create one from a GGUF file below.');
  const copyDialog = copyDialogOf();
  const deleteDialog = deleteDialogOf();

  /** Shows an API error (or any failure) above the list; an aborted call (the user left) is not one. @param {unknown} e */
  const fail = e => {
    if (signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return;
    error.textContent = e instanceof Error ? e.message : String(e);
  };

  async function refreshTags() {
    /** @type {{ models: Tag[] }} */
    const tags = await getJson('/api/tags', signal);
    replace(body, ...tags.models.map(rowOf));
    empty.hidden = tags.models.length > 0;
    showLoaded();
    for (const tag of tags.models) if (!capabilities.has(tag.digest)) showCapabilities(tag);
  }

  /** @param {Tag} tag */
  function rowOf(tag) {
    const d = tag.details ?? {};
    const cell = (/** @type {string} */ label, /** @type {string} */ test, /** @type {any[]} */ ...content) =>
      h('td', { 'data-label': label, 'data-test': test }, ...content);
    return h('tr', { 'data-model': tag.name, 'data-digest': tag.digest },
      cell('Name', 'name', h('strong', {}, tag.name)),
      h('td', { 'data-label': 'Size', 'data-test': 'size', 'data-bytes': tag.size }, formatBytes(tag.size)),
      cell('Family', 'family', d.family || '—'),
      cell('Parameters', 'parameters', d.parameter_size || '—'),
      cell('Quantization', 'quantization', d.quantization_level || '—'),
      cell('Capabilities', 'capabilities', capabilities.get(tag.digest)?.join(', ') ?? '…'),
      cell('Loaded', 'loaded', '…'),
      h('td', { class: 'models-actions' },
        h('button', { type: 'button', 'data-test': 'copy', onclick: () => askCopy(tag.name) }, 'Copy'),
        h('button', { type: 'button', 'data-test': 'delete', onclick: () => askDelete(tag.name) }, 'Delete')));
  }

  /** @param {Tag} tag */
  async function showCapabilities(tag) {
    try {
      const shown = await send('/api/show', 'POST', { model: tag.name }, signal);
      capabilities.set(tag.digest, shown.capabilities ?? []);
    } catch (e) {
      if (signal.aborted) return;
      capabilities.set(tag.digest, [e instanceof ApiError ? `unreadable: ${e.message}` : 'unknown']);
    }
    for (const td of body.querySelectorAll(`tr[data-digest="${tag.digest}"] td[data-test=capabilities]`))
      td.textContent = capabilities.get(tag.digest)?.join(', ') || '—';
  }

  /** Fills each row's Loaded cell from the last /api/ps answer, in place, so buttons under the pointer stay put. */
  function showLoaded() {
    if (!running) return;
    for (const row of body.querySelectorAll('tr[data-model]')) {
      const model = running.find(r => r.name === /** @type {HTMLElement} */ (row).dataset.model);
      const td = /** @type {HTMLElement} */ (row.querySelector('td[data-test=loaded]'));
      td.dataset.loaded = model ? 'true' : 'false';
      if (!model) { replace(td, h('span', { class: 'muted' }, 'not loaded')); continue; }
      replace(td,
        h('span', { class: 'models-loaded' }, 'loaded'), ' ',
        h('span', { 'data-test': 'memory', title: 'memory (of which on the GPU)' },
          `${formatBytes(model.size)} (VRAM ${formatBytes(model.size_vram)})`), ' ',
        h('span', { class: 'muted', 'data-test': 'expires' }, expiryOf(model.expires_at)));
    }
  }

  async function refreshLoaded() {
    try {
      running = (await getJson('/api/ps', signal)).models ?? [];
      showLoaded();
    } catch (e) { fail(e); }
  }

  const refresh = () => refreshTags().catch(fail);

  /** @param {string} source */
  function askCopy(source) {
    const input = /** @type {HTMLInputElement} */ (copyDialog.querySelector('#models-copy-to'));
    replace(/** @type {HTMLElement} */ (copyDialog.querySelector('[data-test=source]')), source);
    input.value = '';
    copyDialog.onclose = async () => {
      if (copyDialog.returnValue !== 'copy' || !input.value.trim()) return;
      error.textContent = '';
      try {
        await send('/api/copy', 'POST', { source, destination: input.value.trim() }, signal);
        await refreshTags();
      } catch (e) { fail(e); }
    };
    copyDialog.returnValue = '';
    copyDialog.showModal();
  }

  /** @param {string} model */
  function askDelete(model) {
    replace(/** @type {HTMLElement} */ (deleteDialog.querySelector('#models-delete-name')), model);
    deleteDialog.onclose = async () => {
      if (deleteDialog.returnValue !== 'delete') return;
      error.textContent = '';
      try {
        await send('/api/delete', 'DELETE', { model }, signal);
        await refreshTags();
        await refreshLoaded();
      } catch (e) { fail(e); }
    };
    deleteDialog.returnValue = '';
    deleteDialog.showModal();
  }

  root.append(
    h('section', { class: 'card' },
      h('div', { class: 'models-head' }, h('h2', {}, 'Installed models'),
        h('button', { type: 'button', id: 'models-refresh', onclick: () => { error.textContent = ''; refresh(); refreshLoaded(); } }, 'Refresh')),
      error, table, empty,
      h('p', { class: 'hint' }, `Loaded state, memory and expiry refresh every ${psEveryMs / 1000} s.`)),
    h('div', { class: 'grid' }, pullCard(signal, refresh), createCard(signal, refresh)),
    copyDialog, deleteDialog);

  refresh().then(refreshLoaded);
  const timer = setInterval(refreshLoaded, psEveryMs);
  return () => { clearInterval(timer); abort.abort(); };
}

/** "in 4 min", "in 35 s", "never" (keep_alive -1 shows as a date centuries away), "now". @param {string} iso */
function expiryOf(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return '';
  if (seconds > 100 * 365 * 24 * 3600) return 'stays loaded';
  if (seconds <= 0) return 'unloading';
  if (seconds < 90) return `expires in ${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `expires in ${Math.round(seconds / 60)} min`;
  return `expires in ${(seconds / 3600).toFixed(1)} h`;
}

function copyDialogOf() {
  return h('dialog', { id: 'models-copy-dialog' },
    h('form', { method: 'dialog' },
      h('p', {}, 'Copy ', h('strong', { 'data-test': 'source' }), ' to a new name (the blobs are shared, nothing is duplicated).'),
      h('label', {}, 'New name', h('input', { id: 'models-copy-to', name: 'destination', required: true, placeholder: 'my-model:latest', autocomplete: 'off' })),
      h('menu', {},
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true, id: 'models-copy-cancel' }, 'Cancel'),
        h('button', { type: 'submit', value: 'copy', class: 'primary', id: 'models-copy-confirm' }, 'Copy'))));
}

function deleteDialogOf() {
  return h('dialog', { id: 'models-delete-dialog' },
    h('form', { method: 'dialog' },
      h('p', {}, 'Delete ', h('strong', { id: 'models-delete-name' }), '? Its blobs are removed unless another model uses them.'),
      h('menu', {},
        h('button', { type: 'submit', value: 'cancel', id: 'models-delete-cancel' }, 'Cancel'),
        h('button', { type: 'submit', value: 'delete', class: 'danger', id: 'models-delete-confirm' }, 'Delete'))));
}
