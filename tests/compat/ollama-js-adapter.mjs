// Creates and runs a LoRA adapter model with the unmodified `ollama` npm client and prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT BASE=stories ADAPTER=sha256:<hex> BAD_ADAPTER=sha256:<hex> node ollama-js-adapter.mjs
// (the adapter blobs are uploaded beforehand: ollama-js has no call for raw blob uploads)
import { Ollama } from 'ollama';

const client = new Ollama({ host: process.env.OLLAMA_URL });
const base = process.env.BASE;
const options = { temperature: 0, num_predict: 16 };

const created = await client.create({ model: 'js-lora', from: base, adapters: { 'adapter.gguf': process.env.ADAPTER }, stream: false });
const progress = [];
for await (const part of await client.create({ model: 'js-lora-streamed', from: base, adapters: { 'adapter.gguf': process.env.ADAPTER }, stream: true })) {
  progress.push(part.status);
}
const show = await client.show({ model: 'js-lora' });
const plain = await client.generate({ model: base, prompt: 'Once upon a time', options, stream: false });
const adapted = await client.generate({ model: 'js-lora', prompt: 'Once upon a time', options, stream: false });
const streamedModel = await client.generate({ model: 'js-lora-streamed', prompt: 'Once upon a time', options, stream: false });

let badError = null;
try {
  await client.create({ model: 'js-lora-bad', from: base, adapters: { 'adapter.gguf': process.env.BAD_ADAPTER }, stream: false });
} catch (e) {
  badError = { message: e.message, status: e.status_code ?? null };
}

console.log(JSON.stringify({
  created: created.status,
  progress,
  modelfile: show.modelfile,
  plain: plain.response,
  adapted: adapted.response,
  adaptedEvalCount: adapted.eval_count,
  streamedModel: streamedModel.response,
  badError,
}));
