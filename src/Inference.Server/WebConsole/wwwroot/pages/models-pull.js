// @ts-check
// The Models page's pull card: POST /api/pull streamed, one progress bar per layer (the stream's
// digest/total/completed), the latest status and the final one ("success" or the API's error).
import { streamNdjson } from '../api.js';
import { formatBytes, h, replace, showFailure } from '../ui.js';

/**
 * @param {AbortSignal} signal aborted when the user leaves the page (the pull stops; a later pull resumes it)
 * @param {() => void} onPulled called after a successful pull, to refresh the list
 */
export function pullCard(signal, onPulled) {
  const name = h('input', { id: 'models-pull-name', required: true, placeholder: 'llama3.2:1b', autocomplete: 'off', spellcheck: 'false' });
  const insecure = h('input', { id: 'models-pull-insecure', type: 'checkbox' });
  const button = h('button', { id: 'models-pull-button', type: 'submit', class: 'primary' }, 'Pull');
  const status = h('p', { id: 'models-pull-status', class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { id: 'models-pull-error', class: 'error', role: 'alert' });
  const layers = h('div', { id: 'models-pull-layers' });
  /** One bar per digest, in the order the stream names them. @type {Map<string, { bar: HTMLProgressElement, text: HTMLElement, label: HTMLElement }>} */
  const bars = new Map();

  /** @param {{ status: string, digest?: string, total?: number, completed?: number }} line */
  function show(line) {
    status.textContent = line.status;
    if (!line.digest || !line.total) return;
    let layer = bars.get(line.digest);
    if (!layer) {
      layer = {
        bar: /** @type {HTMLProgressElement} */ (h('progress', { max: line.total, value: 0 })),
        text: h('span', { class: 'muted', 'data-test': 'bytes' }),
        label: h('span', { 'data-test': 'label' }),
      };
      bars.set(line.digest, layer);
      layers.append(h('div', { class: 'models-layer', 'data-digest': line.digest, title: line.digest },
        h('div', { class: 'models-layer-head' }, layer.label, layer.text), layer.bar));
    }
    const completed = line.completed ?? 0;
    layer.label.textContent = line.status;
    layer.bar.max = line.total;
    layer.bar.value = completed;
    const percent = Math.floor((completed / line.total) * 100);
    layer.text.textContent = `${formatBytes(completed)} / ${formatBytes(line.total)} (${percent}%)`;
    /** @type {HTMLElement} */ (layer.bar.parentElement).dataset.percent = String(percent);
  }

  /** @param {SubmitEvent} e */
  async function pull(e) {
    e.preventDefault();
    const model = /** @type {HTMLInputElement} */ (name).value.trim();
    if (!model) return;
    button.setAttribute('disabled', '');
    error.textContent = '';
    status.dataset.final = '';
    bars.clear();
    replace(layers);
    status.textContent = `pulling ${model}…`;
    let last = '';
    try {
      await streamNdjson('/api/pull', { model, insecure: /** @type {HTMLInputElement} */ (insecure).checked },
        line => { show(line); last = line.status; }, signal);
      status.dataset.final = last;
      if (last === 'success') onPulled();
    } catch (err) {
      if (!signal.aborted) showFailure(status, error, err);
    } finally {
      button.removeAttribute('disabled');
    }
  }

  return h('section', { class: 'card' },
    h('h2', {}, 'Pull from a registry'),
    h('form', { class: 'row', onsubmit: pull },
      h('label', { class: 'models-grow' }, 'Model', name),
      h('label', { class: 'models-check', title: 'allow plain HTTP (a registry on your own network)' }, insecure, 'insecure'),
      button),
    status, error, layers);
}
