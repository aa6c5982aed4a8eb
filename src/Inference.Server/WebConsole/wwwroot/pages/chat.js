// @ts-check
// Chat page: streams POST /api/chat into the conversation as it arrives. The conversation and the
// settings live in this browser's localStorage only; the server keeps nothing of them.
import { ApiError, getJson, streamNdjson } from '../api.js';
import { h, replace } from '../ui.js';

const storageKey = 'inference.console.chat';

/**
 * @typedef {{ prompt_eval_count?: number, eval_count?: number, eval_duration?: number, done_reason?: string }} Stats
 * @typedef {{ role: 'user' | 'assistant', content: string, thinking?: string, stats?: Stats, stopped?: boolean }} Message
 * @typedef {{ temperature: string, top_p: string, seed: string, num_ctx: string, num_predict: string }} OptionFields
 * @typedef {{ model: string, system: string, format: string, options: OptionFields, messages: Message[] }} Saved
 */

/** The numeric options the page offers, in Ollama's names; an empty field is left to the server's default. */
const optionFields = /** @type {const} */ ([
  ['temperature', 'Temperature', 'default', 'any'],
  ['top_p', 'top_p', 'default', 'any'],
  ['seed', 'Seed', 'random', '1'],
  ['num_ctx', 'num_ctx', 'default', '1'],
  ['num_predict', 'num_predict', 'default', '1'],
]);

/** @returns {Saved} */
function load() {
  /** @type {Saved} */
  const empty = { model: '', system: '', format: '', options: { temperature: '', top_p: '', seed: '', num_ctx: '', num_predict: '' }, messages: [] };
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
    if (!saved || !Array.isArray(saved.messages)) return empty;
    return { ...empty, ...saved, options: { ...empty.options, ...saved.options } };
  } catch { return empty; }
}

/** @param {Saved} state */
function save(state) { localStorage.setItem(storageKey, JSON.stringify(state)); }

/** Tokens per second of an answer: eval_count over eval_duration (nanoseconds). @param {Stats} stats */
export function tokensPerSecond(stats) {
  return stats.eval_count && stats.eval_duration ? stats.eval_count / (stats.eval_duration / 1e9) : undefined;
}

/**
 * The `format` to send: nothing, "json", or the pasted schema as an object. Text that is not JSON is refused
 * here with the parser's message; a schema the server cannot use is refused by the server (its message shown).
 * @param {string} text
 */
function formatOf(text) {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (trimmed === 'json') return 'json';
  try { return JSON.parse(trimmed); } catch (e) { throw new Error(`The schema is not JSON: ${/** @type {Error} */ (e).message}`); }
}

/** @param {OptionFields} fields */
function optionsOf(fields) {
  /** @type {Record<string, number>} */
  const options = {};
  for (const [name, label] of optionFields) {
    const text = fields[name].trim();
    if (!text) continue;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${label} must be a number`);
    options[name] = value;
  }
  return options;
}

/** @param {HTMLElement} root */
export function mount(root) {
  const state = load();
  /** @type {AbortController | undefined} */
  let running;

  const modelSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'chat-model', onchange: () => { state.model = modelSelect.value; save(state); } }));
  const system = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    id: 'chat-system', rows: 2, placeholder: 'You are a helpful assistant.',
    oninput: () => { state.system = system.value; save(state); },
  }));
  const format = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    id: 'chat-format', class: 'code', rows: 2, spellcheck: 'false',
    placeholder: 'json, or a JSON schema: {"type":"object","properties":{...}}',
    oninput: () => { state.format = format.value; save(state); },
  }));
  // A textarea's text is its value, not an attribute.
  system.value = state.system;
  format.value = state.format;
  const options = optionFields.map(([name, label, placeholder, step]) => h('label', {}, label, h('input', {
    id: `chat-${name.replace('_', '-')}`, type: 'number', step, placeholder, value: state.options[name],
    oninput: (/** @type {Event} */ e) => { state.options[name] = /** @type {HTMLInputElement} */ (e.target).value; save(state); },
  })));

  const list = h('div', { id: 'chat-messages', class: 'chat-messages' });
  const error = h('p', { id: 'chat-error', class: 'error', role: 'alert' });
  const input = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    id: 'chat-input', rows: 3, placeholder: 'Message (Enter sends, Shift+Enter for a new line)',
    onkeydown: (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); sendMessage(); } },
  }));
  const sendButton = /** @type {HTMLButtonElement} */ (h('button', { id: 'chat-send', class: 'primary', type: 'button', onclick: () => sendMessage() }, 'Send'));
  const stopButton = /** @type {HTMLButtonElement} */ (h('button', { id: 'chat-stop', type: 'button', disabled: true, onclick: () => running?.abort() }, 'Stop'));
  const newButton = h('button', { id: 'chat-new', type: 'button', onclick: newChat }, 'New chat');

  root.append(
    h('section', { class: 'card chat-settings' },
      h('div', { class: 'row' }, h('label', { class: 'chat-model' }, 'Model', modelSelect), newButton),
      h('label', {}, 'System prompt', system),
      h('div', { class: 'chat-options' }, options),
      h('label', {}, 'JSON mode: "json" or a JSON schema (sent as format)', format)),
    h('section', { class: 'card chat-conversation' }, list,
      h('div', { class: 'chat-compose' }, input, h('div', { class: 'chat-buttons' }, sendButton, stopButton)),
      error),
  );
  for (const message of state.messages) list.append(messageView(message).el);
  loadModels();

  async function loadModels() {
    try {
      const [tags, ps] = await Promise.all([getJson('/api/tags'), getJson('/api/ps')]);
      const loaded = new Set((ps?.models ?? []).map((/** @type {{name: string}} */ m) => m.name));
      const names = (tags?.models ?? []).map((/** @type {{name: string}} */ m) => m.name);
      replace(modelSelect, names.map((/** @type {string} */ name) =>
        h('option', { value: name, dataset: { loaded: String(loaded.has(name)) } }, loaded.has(name) ? `${name} ● loaded` : name)));
      if (names.length === 0) error.textContent = 'No models installed: pull one on the Models page.';
      if (names.includes(state.model)) modelSelect.value = state.model;
      else state.model = modelSelect.value;
    } catch (e) {
      error.textContent = `Could not list the models: ${/** @type {Error} */ (e).message}`;
    }
  }

  function newChat() {
    running?.abort();
    state.messages = [];
    save(state);
    replace(list);
    error.textContent = '';
  }

  async function sendMessage() {
    const text = input.value;
    if (running || !text.trim()) return;
    error.textContent = '';
    let body;
    try {
      if (!modelSelect.value) throw new Error('Choose a model first.');
      body = {
        model: modelSelect.value,
        messages: [
          ...(system.value.trim() ? [{ role: 'system', content: system.value }] : []),
          ...state.messages.map(m => ({ role: m.role, content: m.content })),
          { role: 'user', content: text },
        ],
        format: formatOf(format.value),
        options: optionsOf(state.options),
        stream: true,
      };
    } catch (e) {
      error.textContent = /** @type {Error} */ (e).message;
      return;
    }

    /** @type {Message} */
    const question = { role: 'user', content: text };
    /** @type {Message} */
    const answer = { role: 'assistant', content: '' };
    state.messages.push(question, answer);
    list.append(messageView(question).el);
    const view = messageView(answer);
    list.append(view.el);
    view.el.scrollIntoView({ block: 'end' });
    input.value = '';
    const controller = running = new AbortController();
    setRunning(true);
    // A fast model sends thousands of lines a second: draw at most once a frame, so the page stays responsive.
    let frame = 0;
    const draw = () => {
      frame = 0;
      // Follow the answer as it grows, unless the reader scrolled up to read something else.
      const following = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      view.update();
      if (following) list.scrollTop = list.scrollHeight;
    };
    try {
      await streamNdjson('/api/chat', body, line => {
        if (line.message?.content) answer.content += line.message.content;
        if (line.message?.thinking) answer.thinking = (answer.thinking ?? '') + line.message.thinking;
        if (line.done) answer.stats = pick(line);
        frame ||= requestAnimationFrame(draw);
      }, controller.signal);
    } catch (e) {
      if (controller.signal.aborted) {
        answer.stopped = true;
      } else {
        error.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
        // Nothing came back: take the question back into the box to edit and send again.
        if (!answer.content && !answer.thinking && state.messages.includes(question)) {
          state.messages.splice(state.messages.indexOf(question), 2);
          view.el.previousElementSibling?.remove();
          view.el.remove();
          input.value = text;
        }
      }
    } finally {
      cancelAnimationFrame(frame);
      draw();
      if (running === controller) { running = undefined; setRunning(false); }
      save(state);
    }
    loadModels(); // the model may have been loaded by this answer: refresh the marks
  }

  /** @param {boolean} busy */
  function setRunning(busy) {
    sendButton.disabled = busy;
    stopButton.disabled = !busy;
    root.querySelector('.chat-conversation')?.setAttribute('aria-busy', String(busy));
  }

  // Leaving the page stops a running answer (the server cancels the sequence); what came is kept.
  return () => running?.abort();
}

/** The final line's counts, as the server sent them. @param {any} line @returns {Stats} */
function pick(line) {
  return { prompt_eval_count: line.prompt_eval_count, eval_count: line.eval_count, eval_duration: line.eval_duration, done_reason: line.done_reason };
}

/** One message's element, and update() to redraw it while its text streams in. @param {Message} message */
function messageView(message) {
  const content = h('div', { class: 'chat-content' });
  const thinking = h('details', { class: 'chat-thinking' }, h('summary', {}, 'Thinking'), h('div', {}));
  const stats = h('div', { class: 'chat-stats muted' });
  const el = h('article', { class: 'chat-message', dataset: { role: message.role } }, thinking, content, stats);
  function update() {
    content.textContent = message.content;
    thinking.hidden = !message.thinking;
    /** @type {HTMLElement} */ (thinking.lastChild).textContent = message.thinking ?? '';
    const s = message.stats;
    if (s) {
      const rate = tokensPerSecond(s);
      Object.assign(stats.dataset, {
        promptEvalCount: String(s.prompt_eval_count ?? ''), evalCount: String(s.eval_count ?? ''),
        tokensPerSecond: rate === undefined ? '' : rate.toFixed(1), doneReason: s.done_reason ?? '',
      });
      stats.textContent = [
        `${s.prompt_eval_count ?? 0} prompt tokens`, `${s.eval_count ?? 0} tokens`,
        rate === undefined ? '' : `${rate.toFixed(1)} tokens/s`, s.done_reason ? `(${s.done_reason})` : '',
      ].filter(Boolean).join(' · ');
    } else stats.textContent = message.stopped ? 'stopped' : '';
    if (message.stopped) el.dataset.stopped = 'true';
  }
  update();
  return { el, update };
}
