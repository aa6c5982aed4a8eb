// @ts-check
// The console's shell: a hash router (#/chat, #/sql, ...) that loads one page module at a time,
// and the token dialog. Each page is pages/<name>.js exporting mount(root) → optional cleanup.
import { getJson } from './api.js';
import { tokenDialog } from './token.js';
import { replace } from './ui.js';

const pages = ['chat', 'sql', 'code', 'models', 'dashboard'];

// Uncaught errors are kept (and shown) so that the browser tests can assert a page ran cleanly.
/** @type {string[]} */
const errors = (/** @type {any} */ (window).__consoleErrors = []);
window.addEventListener('error', e => errors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => errors.push(String(e.reason?.message ?? e.reason)));

/** @type {(() => void) | undefined} */
let cleanup;
let generation = 0;

async function route() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || 'chat';
  const page = pages.includes(name) ? name : 'chat';
  const root = /** @type {HTMLElement} */ (document.getElementById('page'));
  for (const link of document.querySelectorAll('#nav a')) {
    if (/** @type {HTMLElement} */ (link).dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup?.();
  cleanup = undefined;
  const mine = ++generation;
  replace(root);
  root.dataset.page = page;
  const module = await import(`./pages/${page}.js`);
  if (mine !== generation) return; // the user moved on while the module loaded
  cleanup = module.mount(root) ?? undefined;
  document.title = `${page[0].toUpperCase()}${page.slice(1)} · Inference console`;
}

/**
 * One cheap call on load: when the server requires a token (Platform:RequireAuthOnCompatibleRoutes)
 * and none or a stale one is stored, its 401 opens the token dialog at once rather than on the page's first call.
 */
function checkAccess() {
  getJson('/api/ps').catch(() => { /* a 401 is shown by the token dialog; other failures are the pages' to show */ });
}

tokenDialog(() => { checkAccess(); route(); });
checkAccess();
window.addEventListener('hashchange', route);
route().catch(e => errors.push(String(e)));

