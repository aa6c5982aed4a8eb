// Drives the server's /v1 API with the unmodified `openai` npm client and prints one JSON summary line.
// Usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 MODEL=stories node openai-js.mjs
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'unused' });
const model = process.env.MODEL ?? 'stories';
const messages = [{ role: 'user', content: 'Once upon a time' }];

const models = await client.models.list();
const one = await client.models.retrieve(`${model}:latest`);
const chat = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 12, seed: 1 });

let streamed = '';
let chunks = 0;
let finish = null;
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, temperature: 0, max_tokens: 12, seed: 1, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}

const completion = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 40, temperature: 0, stop: ['.'] });

const embeddings = await client.embeddings.create({ model, input: ['hello there', 'general kenobi'] });

let missing = null;
try {
  await client.chat.completions.create({ model: 'no-such-model', messages });
} catch (e) {
  missing = { status: e.status, message: e.error?.message ?? e.message, code: e.code ?? null };
}

console.log(JSON.stringify({
  models: models.data.map(m => m.id),
  retrieved: one.id,
  chat: { content: chat.choices[0].message.content, role: chat.choices[0].message.role, finish: chat.choices[0].finish_reason, usage: chat.usage, object: chat.object },
  stream: { text: streamed, chunks, finish, usage },
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason, usage: completion.usage, object: completion.object },
  embeddings: { count: embeddings.data.length, length: embeddings.data[0].embedding.length, usage: embeddings.usage },
  missing,
}));
