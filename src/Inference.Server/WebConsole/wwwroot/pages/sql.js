// @ts-check
// The SQL assistant page: POST /ai/sql/assist for one of the token's tenant schemas (GET /ai/sql/tenants).
// The answer's SQL is highlighted by sql-highlight.js; every text from the server goes into the
// page as text nodes, never as HTML.
import { ApiError, getJson, getToken, send } from '../api.js';
import { formatSeconds, h, openTokenDialog, replace } from '../ui.js';
import { modelPicker } from './ai-model-picker.js';
import { highlight } from './sql-highlight.js';

/** @typedef {{ columns: string[], rows: any[][], row_count: number, truncated: boolean }} SqlResult */
/** @typedef {{ sql: string, explanation: string, suggestions: string[], valid: boolean, validation_error?: string,
 *   tables_used: string[], model: string, plan?: string, result?: SqlResult }} SqlAnswer */

const actions = /** @type {const} */ ({
  generate: { label: 'Generate', input: 'Question', placeholder: 'Total of paid orders per country' },
  explain: { label: 'Explain', input: 'SQL statement', placeholder: 'SELECT ...' },
  optimize: { label: 'Optimize', input: 'SQL statement', placeholder: 'SELECT ...' },
  fix: { label: 'Fix', input: 'SQL statement', placeholder: 'SELECT ...' },
});

// What the user typed, kept while the console is open (not stored anywhere), so leaving the page loses nothing.
const draft = { schema: '', action: 'generate', model: '', execute: false, query: '', error: '' };

/** @param {HTMLElement} root */
export function mount(root) {
  const controller = new AbortController();
  const status = h('p', { id: 'sql-status', class: 'muted', role: 'status' });
  const answer = h('div', { id: 'sql-answer' });
  const showError = (/** @type {any} */ e) => {
    if (controller.signal.aborted) return;
    const refused = e instanceof ApiError && e.status === 401;
    replace(status, h('span', { class: 'error' }, refused ? `The token was refused: ${e.message}` : String(e.message ?? e)),
      refused ? [' ', h('button', { type: 'button', onclick: openTokenDialog }, 'Paste a token')] : null);
  };

  const schema = /** @type {HTMLSelectElement} */ (h('select', { id: 'sql-schema' }));
  const action = /** @type {HTMLSelectElement} */ (h('select', { id: 'sql-action' },
    Object.entries(actions).map(([value, a]) => h('option', { value }, a.label))));
  const model = modelPicker('sql-model', 'sql', draft.model, controller.signal, () => { /* the server chooses: "default" still works */ });
  const execute = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'sql-execute' }));
  const queryLabel = h('span');
  const query = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'sql-query', class: 'code', rows: 4, spellcheck: false }));
  const error = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'sql-error', class: 'code', rows: 2, spellcheck: false,
    placeholder: 'ERROR: column "nme" does not exist' }));
  const errorField = h('label', {}, 'Error the statement gave (optional)', error);
  const submit = h('button', { id: 'sql-submit', class: 'primary', type: 'submit' }, 'Ask');

  action.value = draft.action;
  execute.checked = draft.execute;
  query.value = draft.query;
  error.value = draft.error;
  const showAction = () => {
    const a = actions[/** @type {keyof typeof actions} */ (action.value)];
    queryLabel.textContent = a.input;
    query.placeholder = a.placeholder;
    errorField.hidden = action.value !== 'fix';
  };
  action.addEventListener('change', showAction);
  showAction();

  /** @type {AbortController | undefined} */
  let inFlight;
  async function ask() {
    if (inFlight) return;
    Object.assign(draft, { schema: schema.value, action: action.value, model: model.value, execute: execute.checked, query: query.value, error: error.value });
    if (!getToken()) {
      replace(status, h('span', { class: 'error' }, 'Paste a token: /ai/sql/assist needs a bearer token whose tenants claim lists your schemas.'));
      openTokenDialog();
      return;
    }
    if (!schema.value) return replace(status, h('span', { class: 'error' }, 'Choose a tenant schema.'));
    if (!query.value.trim()) return replace(status, h('span', { class: 'error' }, `${queryLabel.textContent} is empty.`));
    const body = {
      query: query.value, schema: schema.value, action: action.value, execute: execute.checked,
      model: model.value || undefined, error: action.value === 'fix' && error.value.trim() ? error.value : undefined,
    };
    inFlight = new AbortController();
    const abort = () => inFlight?.abort();
    controller.signal.addEventListener('abort', abort);
    submit.setAttribute('disabled', '');
    const started = performance.now();
    replace(status, 'Asking the model…');
    try {
      const result = /** @type {SqlAnswer} */ (await send('/ai/sql/assist', 'POST', body, inFlight.signal));
      replace(status, `Answered by ${result.model} in ${formatSeconds((performance.now() - started) / 1000)}.`);
      replace(answer, ...render(result, sql => {
        query.value = sql;
        if (action.value === 'generate') { action.value = 'explain'; showAction(); }
        query.focus();
      }));
    } catch (e) {
      showError(e);
    } finally {
      controller.signal.removeEventListener('abort', abort);
      inFlight = undefined;
      submit.removeAttribute('disabled');
    }
  }

  const form = h('form', { class: 'card', id: 'sql-form', onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); ask(); } },
    h('div', { class: 'row' },
      h('label', {}, 'Tenant schema', schema),
      h('label', {}, 'Action', action),
      h('label', {}, 'Model', model),
      h('label', { class: 'sql-check' }, h('span', {}, execute, ' Execute and show rows'))),
    h('label', {}, queryLabel, query),
    errorField,
    h('div', { class: 'row' }, submit, h('span', { class: 'hint' }, 'Ctrl+Enter')));
  query.addEventListener('keydown', e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); ask(); } });
  root.append(h('h1', {}, 'SQL assistant'), form, status, answer);

  if (!getToken()) {
    replace(schema, h('option', { value: '' }, 'no token'));
    replace(status, 'Paste a token to use the SQL assistant: its tenants claim lists the schemas you may query. ',
      h('button', { type: 'button', id: 'sql-paste-token', onclick: openTokenDialog }, 'Paste a token'));
  } else {
    getJson('/ai/sql/tenants', controller.signal).then((/** @type {{ tenants: string[] }} */ body) => {
      if (body.tenants.length === 0) {
        replace(schema, h('option', { value: '' }, 'none'));
        replace(status, h('span', { class: 'error' }, 'This token grants no tenant schemas (its tenants claim is empty).'));
        return;
      }
      replace(schema, body.tenants.map(t => h('option', { value: t }, t)));
      if (body.tenants.includes(draft.schema)) schema.value = draft.schema;
    }, showError);
  }
  return () => controller.abort();
}

/** The answer's cards: SQL with validity, explanation, suggestions, plan, rows. @param {SqlAnswer} a @param {(sql: string) => void} reuse */
function render(a, reuse) {
  return [
    h('section', { class: 'card' },
      h('div', { class: 'sql-head' },
        h('h2', {}, 'SQL'),
        h('span', { id: 'sql-validity', class: a.valid ? 'sql-valid' : 'sql-invalid' }, a.valid ? 'valid' : 'not valid'),
        h('button', { type: 'button', id: 'sql-reuse', onclick: () => reuse(a.sql) }, 'Edit this SQL')),
      h('pre', { id: 'sql-code', class: 'sql-code' }, h('code', {}, highlight(a.sql))),
      a.validation_error ? h('p', { id: 'sql-validation-error', class: 'error' }, a.validation_error) : null,
      h('p', { class: 'muted' }, a.tables_used.length ? `Tables: ${a.tables_used.join(', ')}` : 'No tables')),
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Explanation'),
        h('p', { id: 'sql-explanation', class: 'sql-prose' }, a.explanation || '(none)')),
      h('section', { class: 'card' }, h('h2', {}, 'Suggestions'),
        a.suggestions.length
          ? h('ul', { id: 'sql-suggestions' }, a.suggestions.map(s => h('li', {}, s)))
          : h('p', { id: 'sql-suggestions', class: 'muted' }, 'None: the plan shows nothing to improve.'))),
    h('section', { class: 'card' }, h('h2', {}, 'Plan'),
      a.plan ? h('pre', { id: 'sql-plan', class: 'sql-code' }, a.plan)
        : h('p', { id: 'sql-plan', class: 'muted' }, 'No plan: PostgreSQL did not plan this statement.')),
    a.result ? resultTable(a.result) : null,
  ];
}

/** @param {SqlResult} r */
function resultTable(r) {
  const rows = `${r.row_count} ${r.row_count === 1 ? 'row' : 'rows'}`;
  return h('section', { class: 'card', id: 'sql-result' },
    h('h2', {}, 'Result'),
    h('p', { id: 'sql-result-summary', class: r.truncated ? 'sql-truncated' : 'muted' },
      r.truncated ? `${rows} shown: truncated at the server's row limit, the statement returns more.` : rows),
    h('div', { class: 'scroll' },
      h('table', {},
        h('thead', {}, h('tr', {}, r.columns.map(c => h('th', {}, c)))),
        h('tbody', {}, r.rows.map(row => h('tr', {}, row.map(cell)))))));
}

/** A result value: NULL marked, JSON and arrays as JSON text, anything else as its text. @param {any} value */
function cell(value) {
  if (value === null || value === undefined) return h('td', { class: 'sql-null' }, 'NULL');
  return h('td', {}, typeof value === 'object' ? JSON.stringify(value) : String(value));
}
