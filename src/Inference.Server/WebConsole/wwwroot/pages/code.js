// @ts-check
// The code completion page: an editor (a textarea) whose text and cursor go to POST /ai/code/complete
// (cursor_position is a UTF-16 offset, which is what selectionStart counts); the completions come
// back as choices with their confidence, and choosing one inserts it at the cursor.
import { ApiError, getToken, send } from '../api.js';
import { formatSeconds, h, openTokenDialog, replace } from '../ui.js';
import { modelPicker } from './ai-model-picker.js';

/** @typedef {{ text: string, confidence?: number, finish_reason: string }} CodeChoice */
/** @typedef {{ model: string, mode: string, confidence: number, choices: CodeChoice[], prompt_eval_count: number,
 *   prompt_tokens_evaluated: number, eval_count: number, total_duration_ms: number }} CodeAnswer */

const languages = ['python', 'javascript', 'typescript', 'csharp', 'java', 'go', 'rust', 'c', 'cpp', 'sql', 'bash'];

// The editor's text and settings, kept while the console is open (not stored anywhere).
const draft = { code: '', cursor: 0, language: 'python', model: '', n: 3, maxTokens: 64 };

/** @param {HTMLElement} root */
export function mount(root) {
  const controller = new AbortController();
  const editor = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'code-editor', class: 'code', rows: 16, spellcheck: false,
    placeholder: 'def fibonacci(n):\n    ', autocapitalize: 'off', autocomplete: 'off' }));
  const language = /** @type {HTMLSelectElement} */ (h('select', { id: 'code-language' }, languages.map(l => h('option', { value: l }, l))));
  const model = modelPicker('code-model', 'code', draft.model, controller.signal, () => { /* the server chooses: "default" still works */ });
  const n = /** @type {HTMLInputElement} */ (h('input', { id: 'code-n', type: 'number', min: '1', max: '8', value: String(draft.n) }));
  const maxTokens = /** @type {HTMLInputElement} */ (h('input', { id: 'code-max-tokens', type: 'number', min: '1', max: '512', value: String(draft.maxTokens) }));
  const complete = h('button', { id: 'code-complete', class: 'primary', type: 'button' }, 'Complete');
  const status = h('p', { id: 'code-status', class: 'muted', role: 'status' });
  const choices = h('div', { id: 'code-choices', class: 'code-choices' });

  editor.value = draft.code;
  language.value = draft.language;
  const keep = () => Object.assign(draft, {
    code: editor.value, cursor: editor.selectionStart, language: language.value, model: model.value,
    n: Number(n.value) || draft.n, maxTokens: Number(maxTokens.value) || draft.maxTokens,
  });

  /** @type {AbortController | undefined} */
  let inFlight;
  async function run() {
    if (inFlight) return;
    keep();
    replace(choices);
    if (!getToken()) {
      replace(status, h('span', { class: 'error' }, 'Paste a token: /ai/code/complete needs a bearer token.'));
      openTokenDialog();
      return;
    }
    // Where the completion goes: the cursor when asked, in the text as it was then.
    const code = editor.value, cursor = editor.selectionStart;
    inFlight = new AbortController();
    const abort = () => inFlight?.abort();
    controller.signal.addEventListener('abort', abort);
    complete.setAttribute('disabled', '');
    replace(status, 'Completing…');
    try {
      const answer = /** @type {CodeAnswer} */ (await send('/ai/code/complete', 'POST', {
        code, cursor_position: cursor, language: language.value, model: model.value || undefined,
        n: Number(n.value) || undefined, max_tokens: Number(maxTokens.value) || undefined,
      }, inFlight.signal));
      replace(status, `${answer.choices.length} from ${answer.model} (${answer.mode === 'fim' ? 'fill-in-the-middle' : 'continuing the code before the cursor'}), `
        + `confidence ${percent(answer.confidence)}, ${formatSeconds(answer.total_duration_ms / 1000)}. Choose one to insert it (Esc closes).`);
      replace(choices, answer.choices.map((choice, i) => h('button', {
        type: 'button', class: 'code-choice', dataset: { test: 'choice', index: String(i) },
        onclick: () => insert(choice.text, code, cursor),
      },
      h('span', { class: 'code-confidence', title: 'geometric-mean token probability' }, percent(choice.confidence)),
      choice.text ? h('pre', {}, choice.text) : h('pre', { class: 'code-empty muted' }, '(empty: the model ended at once)'),
      choice.finish_reason === 'length' ? h('span', { class: 'muted' }, 'max tokens') : null)));
    } catch (e) {
      if (controller.signal.aborted) return;
      const refused = e instanceof ApiError && e.status === 401;
      replace(status, h('span', { class: 'error' }, refused ? `The token was refused: ${e.message}` : String(/** @type {any} */ (e).message ?? e)),
        refused ? [' ', h('button', { type: 'button', onclick: openTokenDialog }, 'Paste a token')] : null);
    } finally {
      controller.signal.removeEventListener('abort', abort);
      inFlight = undefined;
      complete.removeAttribute('disabled');
    }
  }

  /**
   * Inserts a completion at the cursor it was asked for; if the text changed meanwhile, at the cursor now.
   * @param {string} text @param {string} askedCode @param {number} askedCursor
   */
  function insert(text, askedCode, askedCursor) {
    const at = editor.value === askedCode ? askedCursor : editor.selectionStart;
    editor.setRangeText(text, at, editor.value === askedCode ? askedCursor : editor.selectionEnd, 'end');
    replace(choices);
    replace(status, 'Inserted.');
    editor.focus();
    keep();
  }

  editor.addEventListener('keydown', e => {
    if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); run(); }
    if (e.key === 'Escape' && choices.childElementCount) { e.preventDefault(); replace(choices); replace(status); }
  });
  editor.addEventListener('input', keep);
  complete.addEventListener('click', run);

  root.append(h('h1', {}, 'Code completion'),
    h('div', { class: 'card', id: 'code-form' },
      h('div', { class: 'row' },
        h('label', {}, 'Language', language),
        h('label', {}, 'Model', model),
        h('label', {}, 'Choices', n),
        h('label', {}, 'Max tokens', maxTokens)),
      h('label', {}, 'Code (the completion goes at the cursor)', editor),
      h('div', { class: 'row' }, complete, h('span', { class: 'hint' }, 'Ctrl+Space in the editor'))),
    status, choices);
  if (!getToken()) {
    replace(status, 'Paste a token to complete code: /ai routes need a bearer token. ',
      h('button', { type: 'button', id: 'code-paste-token', onclick: openTokenDialog }, 'Paste a token'));
  }
  // Back where the user left off: the same text, the cursor where it was.
  editor.setSelectionRange(draft.cursor, draft.cursor);
  return () => { keep(); controller.abort(); };
}

/** 0.8234 → "82%", 0.003 → "<1%" (a random-weight model's), absent (the model ended at once) → "–". @param {number | undefined | null} value */
function percent(value) {
  if (typeof value !== 'number') return '–';
  return value > 0 && value < 0.005 ? '<1%' : `${Math.round(value * 100)}%`;
}
