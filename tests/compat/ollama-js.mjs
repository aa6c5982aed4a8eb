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

// Tool calling on a model whose template shows tools (TOOLS_MODEL): Ollama reads calls out of the output,
// here shaped by a format that spells a get_weather call; the result then goes back as a tool message.
let tools = null;
if (process.env.TOOLS_MODEL) {
  const toolsModel = process.env.TOOLS_MODEL;
  const city = { type: 'object', required: ['city'], properties: { city: { type: 'string', maxLength: 16 } } };
  const weather = { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: city } };
  const format = { type: 'object', required: ['name', 'parameters'], properties: { name: { const: 'get_weather' }, parameters: city } };
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const called = await client.chat({ model: toolsModel, messages, tools: [weather], format, options: { seed: 1, num_predict: 300 }, stream: false });
  const answer = await client.chat({
    model: toolsModel, tools: [weather], options: { num_predict: 4 }, stream: false,
    messages: [...messages, called.message, { role: 'tool', tool_name: 'get_weather', content: '18 degrees' }],
  });
  tools = { calls: called.message.tool_calls, content: called.message.content, answer: { role: answer.message.role, done: answer.done } };
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
  tools,
  missingError,
}));
