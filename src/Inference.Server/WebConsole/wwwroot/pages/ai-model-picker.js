// @ts-check
// The model picker of the /ai pages (SQL, code): installed models from GET /ai/models, the one the
// server would choose for the task first ("default"), loaded ones marked.
import { getJson, getToken } from '../api.js';
import { h, replace } from '../ui.js';

/**
 * A select whose value is the model to send ('' = let the server choose for the task). It fills
 * itself when /ai/models answers; on an error it keeps the "default" choice and calls onError.
 * @param {string} id @param {'sql' | 'code'} task @param {string} initial the model chosen before, kept when still installed
 * @param {AbortSignal} signal @param {(e: any) => void} onError
 */
export function modelPicker(id, task, initial, signal, onError) {
  const select = /** @type {HTMLSelectElement} */ (h('select', { id }, h('option', { value: '' }, 'default')));
  // /ai/* needs a token: without one, asking would only answer 401 and pop the token dialog over the
  // page before the user did anything; the page itself asks for a token when the user sends.
  if (!getToken()) return select;
  getJson('/ai/models', signal).then(
    (/** @type {{ models: Array<{ name: string, loaded: boolean, default_for: string[] }> }} */ body) => {
      const chosen = body.models.find(m => m.default_for.includes(task));
      replace(select,
        h('option', { value: '' }, chosen ? `default (${chosen.name})` : 'default'),
        body.models.map(m => h('option', { value: m.name }, m.loaded ? `${m.name} · loaded` : m.name)));
      if (body.models.some(m => m.name === initial)) select.value = initial;
    },
    e => { if (!signal.aborted) onError(e); });
  return select;
}
