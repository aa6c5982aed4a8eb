// Drives n > 1 and the legacy completion logprobs with the unmodified `openai` npm client; prints one JSON summary line.
// Usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 MODEL=stories node openai-choices.mjs
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'unused' });
const model = process.env.MODEL ?? 'stories';
const messages = [{ role: 'user', content: 'Compat 4e1b: a little bird' }];

const chat = await client.chat.completions.create({ model, messages, n: 3, seed: 7, temperature: 1, max_tokens: 6 });

// The client's stream: each chunk names its choice.
const streamed = {};
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, n: 3, seed: 7, temperature: 1, max_tokens: 6, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) streamed[choice.index] = (streamed[choice.index] ?? '') + (choice.delta?.content ?? '');
}

const completion = await client.completions.create({ model, prompt: 'Compat 4e1b: a little bird', n: 2, seed: 3, temperature: 1, max_tokens: 4, logprobs: 2 });

let tooMany = null;
try {
  await client.chat.completions.create({ model, messages, n: 9 });
} catch (e) {
  tooMany = { status: e.status, message: e.error?.message ?? e.message, param: e.param ?? null };
}

console.log(JSON.stringify({
  chat: { choices: chat.choices.map(c => ({ index: c.index, content: c.message.content, finish: c.finish_reason })), usage: chat.usage },
  stream: { texts: streamed, usage },
  completion: { choices: completion.choices.map(c => ({ index: c.index, text: c.text, logprobs: c.logprobs })), usage: completion.usage },
  tooMany,
}));
