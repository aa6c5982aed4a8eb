// Truncate, shift and context with the unmodified `ollama` npm client; prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT node ollama-overflow.mjs
import { Ollama } from 'ollama';

const client = new Ollama({ host: process.env.OLLAMA_URL });
const long = 'Once upon a time ' + 'the cat sat on the mat and the dog ran to the park. '.repeat(12) + 'Then the girl';

// truncate (default true): the long prompt is cut to fit num_ctx 128.
const truncated = await client.generate({ model: 'stories', prompt: long, options: { temperature: 0, num_predict: 4, num_ctx: 128 }, stream: false });
let refused = null;
try {
  await client.generate({ model: 'stories', prompt: long, truncate: false, options: { num_ctx: 128 }, stream: false });
} catch (e) {
  refused = { message: e.message, status: e.status_code ?? null };
}

// shift (default true) goes past a full context; shift: false stops there.
const shifted = await client.generate({ model: 'tiny', prompt: 'Hello there', options: { temperature: 0, num_predict: 100, num_ctx: 32 }, stream: false });
const stopped = await client.generate({ model: 'tiny', prompt: 'Hello there', shift: false, options: { temperature: 0, num_predict: 100, num_ctx: 32 }, stream: false });

// context: an answer's token ids sent back continue the text.
const first = await client.generate({ model: 'stories', prompt: 'Lily had a red ball', options: { temperature: 0, num_predict: 6 }, stream: false });
const second = await client.generate({ model: 'stories', prompt: 'She threw it', context: first.context, options: { temperature: 0, num_predict: 6 }, stream: false });

const summary = (r) => ({ prompt_eval_count: r.prompt_eval_count, eval_count: r.eval_count, done_reason: r.done_reason,
  truncated_tokens: r.truncated_tokens ?? null, context_shifts: r.context_shifts ?? null, context_length: r.context?.length ?? null });
console.log(JSON.stringify({
  truncated: summary(truncated), refused, shifted: summary(shifted), stopped: summary(stopped),
  first: { ...summary(first), context: first.context }, second: { ...summary(second), context: second.context },
}));
