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

// Tool calling, on a model whose template shows tools (TOOLS_MODEL): a required call, the same streamed through
// the client's own stream helper (which assembles tool_call deltas), then the result sent back as a tool message.
let tools = null;
if (process.env.TOOLS_MODEL) {
  const toolsModel = process.env.TOOLS_MODEL;
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather', description: 'Current weather in a city',
      parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', maxLength: 16 } } },
    },
  };
  const question = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const called = await client.chat.completions.create({
    model: toolsModel, messages: question, tools: [weather], tool_choice: 'required', parallel_tool_calls: false, seed: 1, max_tokens: 300,
  });
  const helper = client.chat.completions.stream({
    model: toolsModel, messages: question, tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false, seed: 2, max_tokens: 300,
  });
  const streamedCall = await helper.finalChatCompletion();
  const message = called.choices[0].message;
  const answer = await client.chat.completions.create({
    model: toolsModel, tools: [weather], max_tokens: 5,
    messages: [...question, message, { role: 'tool', tool_call_id: message.tool_calls[0].id, content: '18 degrees' }],
  });
  tools = {
    finish: called.choices[0].finish_reason, content: message.content, calls: message.tool_calls,
    streamed: { finish: streamedCall.choices[0].finish_reason, calls: streamedCall.choices[0].message.tool_calls },
    answer: { role: answer.choices[0].message.role, finish: answer.choices[0].finish_reason },
  };
}

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
  tools,
  missing,
}));
