// @ts-check
// The Models page's create card: the browser has the GGUF file, so it computes the file's SHA-256,
// uploads it as a blob (POST /api/blobs/sha256:<hex>, skipped when HEAD says the server has it) with
// upload progress, then POST /api/create {"files": {name: digest}} streamed for its status.
import { ApiError, send, streamNdjson, upload } from '../api.js';
import { formatBytes, h, replace, showFailure } from '../ui.js';

/**
 * @param {AbortSignal} signal aborted when the user leaves the page
 * @param {() => void} onCreated called after a successful create, to refresh the list
 */
export function createCard(signal, onCreated) {
  const name = /** @type {HTMLInputElement} */ (h('input', { id: 'models-create-name', required: true, placeholder: 'my-model:latest', autocomplete: 'off', spellcheck: 'false' }));
  const file = /** @type {HTMLInputElement} */ (h('input', { id: 'models-create-file', type: 'file', accept: '.gguf', required: true }));
  const button = h('button', { id: 'models-create-button', type: 'submit', class: 'primary' }, 'Create');
  const bar = /** @type {HTMLProgressElement} */ (h('progress', { id: 'models-upload-progress', max: 1, value: 0, hidden: true }));
  const bytes = h('span', { id: 'models-upload-bytes', class: 'muted' });
  const status = h('p', { id: 'models-create-status', class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { id: 'models-create-error', class: 'error', role: 'alert' });
  const secure = window.isSecureContext && !!crypto.subtle;

  /** @param {number} sent @param {number} total */
  function progress(sent, total) {
    bar.hidden = false;
    bar.max = total;
    bar.value = sent;
    const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
    bar.dataset.percent = String(percent);
    bytes.textContent = `${formatBytes(sent)} / ${formatBytes(total)} (${percent}%)`;
  }

  /** @param {SubmitEvent} e */
  async function create(e) {
    e.preventDefault();
    const chosen = file.files?.[0];
    const model = name.value.trim();
    if (!chosen || !model) return;
    button.setAttribute('disabled', '');
    error.textContent = '';
    status.dataset.final = '';
    bar.hidden = true;
    replace(bytes);
    try {
      status.textContent = `computing the SHA-256 of ${chosen.name} (${formatBytes(chosen.size)})…`;
      const digest = await sha256(chosen);
      if (signal.aborted) return;
      if (await hasBlob(digest, signal)) {
        progress(chosen.size, chosen.size);
        status.textContent = 'the server has this file already: nothing to upload';
      } else {
        status.textContent = `uploading ${chosen.name}…`;
        progress(0, chosen.size);
        await upload(`/api/blobs/${digest}`, chosen, progress, signal);
      }
      // /api/create takes exactly one file whose name ends in .gguf; the digest is what identifies it.
      const fileName = chosen.name.toLowerCase().endsWith('.gguf') ? chosen.name : 'model.gguf';
      let last = '';
      await streamNdjson('/api/create', { model, files: { [fileName]: digest } },
        line => { last = line.status; status.textContent = line.status; }, signal);
      status.dataset.final = last;
      if (last === 'success') onCreated();
    } catch (err) {
      if (!signal.aborted) showFailure(status, error, err);
    } finally {
      button.removeAttribute('disabled');
    }
  }

  return h('section', { class: 'card' },
    h('h2', {}, 'Create from a GGUF file'),
    secure
      ? h('form', { class: 'row', onsubmit: create },
        h('label', { class: 'models-grow' }, 'Name', name),
        h('label', { class: 'models-grow' }, 'GGUF file', file),
        button)
      : h('p', { id: 'models-create-insecure', class: 'error' },
        'Creating from a file needs the browser\'s SHA-256 (crypto.subtle), which it offers only in a secure context: '
        + 'open this console at 127.0.0.1 or localhost (e.g. through an SSH tunnel), or over HTTPS.'),
    h('div', { class: 'models-upload' }, bar, bytes),
    status, error,
    h('p', { class: 'hint' }, 'The file is hashed in this browser (it is read into memory once), uploaded as a blob and checked by the server.'));
}

/** "sha256:<64 hex>" of a file, as the blob route names it. @param {Blob} blob */
async function sha256(blob) {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return 'sha256:' + Array.from(hash, b => b.toString(16).padStart(2, '0')).join('');
}

/** HEAD /api/blobs/<digest>: 200 when stored, 404 when not. @param {string} digest @param {AbortSignal} signal */
async function hasBlob(digest, signal) {
  try {
    await send(`/api/blobs/${digest}`, 'HEAD', undefined, signal);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}
