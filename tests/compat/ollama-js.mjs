// Drives the server with the unmodified `ollama` npm client and prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT MODEL=stories node ollama-js.mjs
import { Ollama } from 'ollama';

const client = new Ollama({ host: process.env.OLLAMA_URL });
const model = process.env.MODEL ?? 'stories';
const options = { temperature: 0, num_predict: 16 };

const list = await client.list();
const show = await client.show({ model });
const generated = await client.generate({ model, prompt: 'Once upon a time', options, stream: false });

let streamedText = '';
let streamedChunks = 0;
let streamedFinal = null;
for await (const part of await client.generate({ model, prompt: 'Once upon a time', options, stream: true })) {
  streamedText += part.response;
  streamedChunks++;
  if (part.done) streamedFinal = part;
}

const chat = await client.chat({ model, messages: [{ role: 'user', content: 'Once upon a time' }], options, stream: false });
let chatStreamed = '';
for await (const part of await client.chat({ model, messages: [{ role: 'user', content: 'Once upon a time' }], options, stream: true })) {
  chatStreamed += part.message.content;
}

let missingError = null;
try {
  await client.generate({ model: 'no-such-model', prompt: 'x', stream: false });
} catch (e) {
  missingError = { message: e.message, status: e.status_code ?? null };
}

console.log(JSON.stringify({
  models: list.models.map(m => ({ name: m.name, size: m.size, digest: m.digest, family: m.details.family })),
  show: { family: show.details.family, parameter_size: show.details.parameter_size, template: show.template },
  generate: { response: generated.response, eval_count: generated.eval_count, done_reason: generated.done_reason },
  stream: { text: streamedText, chunks: streamedChunks, eval_count: streamedFinal?.eval_count, done: streamedFinal?.done },
  chat: { role: chat.message.role, content: chat.message.content, eval_count: chat.eval_count },
  chatStreamed,
  missingError,
}));
