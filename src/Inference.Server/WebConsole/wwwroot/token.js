// @ts-check
// The token dialog: the bearer token the console sends with every call (api.js), the prompt shown
// when the server answers 401, and the development token helper when the server offers one.
import { getToken, setToken, send, unauthorizedEvent, ApiError } from './api.js';
import { h, replace } from './ui.js';

/** Where the server offers development tokens (404 unless Platform:DevelopmentTokens:Enabled). */
const devTokenPath = '/ui/dev-token';

/**
 * Wires the Token button and dialog. `onChange` runs after the user saves or clears a token (the shell
 * re-mounts the page so it calls the server again with the new token).
 * @param {() => void} onChange
 */
export function tokenDialog(onChange) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('token-dialog'));
  const input = /** @type {HTMLTextAreaElement} */ (document.getElementById('token-input'));
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('token-button'));
  const reason = /** @type {HTMLElement} */ (document.getElementById('token-reason'));
  const dev = /** @type {HTMLElement} */ (document.getElementById('dev-token'));
  // A dialog the user dismissed is not forced open again by the next 401 (the dashboard polls);
  // the Token button stays marked until a token is saved.
  let dismissed = false;

  const show = () => button.classList.toggle('set', getToken() !== '');
  const open = () => {
    input.value = getToken();
    if (!dialog.open) dialog.showModal();
    offerDevTokens(dev, input).catch(e => replace(dev, h('p', { class: 'error' }, String(e.message ?? e))));
  };
  button.addEventListener('click', () => { dismissed = false; open(); });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'save' && dialog.returnValue !== 'clear') { dismissed = true; return; }
    setToken(dialog.returnValue === 'save' ? input.value.trim() : '');
    dismissed = false;
    reason.hidden = true;
    button.classList.remove('needed');
    show();
    onChange();
  });
  window.addEventListener(unauthorizedEvent, e => {
    const message = String(/** @type {CustomEvent} */ (e).detail ?? 'unauthorized');
    reason.textContent = getToken() ? `The server refused the token: ${message}.` : `This server needs a token: ${message}.`;
    reason.hidden = false;
    button.classList.add('needed');
    if (!dismissed) open();
  });
  show();
}

/**
 * Asks whether the server mints development tokens; if it does, shows its tenants as checkboxes and a
 * button that puts a fresh token in the text box (the user still saves it). Absent route: nothing shown.
 * @param {HTMLElement} section @param {HTMLTextAreaElement} input
 */
async function offerDevTokens(section, input) {
  /** @type {{ tenants: string[], subject: string, lifetime_seconds: number }} */
  let info;
  try {
    info = await send(devTokenPath);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { section.hidden = true; return; }
    throw e;
  }
  const boxes = info.tenants.map(tenant => h('input', { type: 'checkbox', value: tenant, checked: true, 'data-tenant': tenant }));
  const status = h('span', { id: 'dev-token-status', class: 'hint' });
  const get = h('button', {
    id: 'dev-token-get', type: 'button',
    onclick: async () => {
      const tenants = boxes.filter(b => /** @type {HTMLInputElement} */ (b).checked).map(b => /** @type {HTMLInputElement} */ (b).value);
      try {
        const minted = await send(devTokenPath, 'POST', { tenants });
        input.value = minted.token;
        status.className = 'hint';
        status.textContent = `Token for ${minted.subject}, valid until ${new Date(minted.expires_at).toLocaleTimeString()}: press Save.`;
      } catch (e) {
        status.className = 'error';
        status.textContent = String(/** @type {Error} */ (e).message);
      }
    },
  }, 'Get development token');
  replace(section,
    h('legend', {}, 'Development token'),
    h('p', { class: 'hint' }, `This server mints ${Math.round(info.lifetime_seconds / 60)}-minute tokens for testing (Platform:DevelopmentTokens).`),
    info.tenants.length ? h('div', { class: 'row' }, boxes.map((box, i) => h('label', { class: 'check' }, box, info.tenants[i]))) : null,
    h('div', { class: 'row' }, get, status));
  section.hidden = false;
}
