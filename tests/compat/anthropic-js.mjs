// Drives the server's /v1/messages with the unmodified `@anthropic-ai/sdk` npm client and prints one JSON summary line:
// messages.create (plain and with stream: true), the client's messages.stream helper, stop_sequences, a forced tool
// call sent back as a tool_result, the same call through the stream helper (which assembles input_json_delta), and
// the error a missing model gives.
// Usage: ANTHROPIC_BASE_URL=http://127.0.0.1:PORT MODEL=stories TOOLS_MODEL=qwen-tools node anthropic-js.mjs
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: process.env.ANTHROPIC_BASE_URL, apiKey: 'unused' });
const model = process.env.MODEL ?? 'stories';
const toolsModel = process.env.TOOLS_MODEL ?? 'qwen-tools';
const messages = [{ role: 'user', content: 'Once upon a time' }];

const message = await client.messages.create({ model, max_tokens: 12, temperature: 0, system: 'Tell a story.', messages });

// The raw events, as the SDK yields them.
const raw = await client.messages.create({ model, max_tokens: 12, temperature: 0, system: 'Tell a story.', messages, stream: true });
const types = [];
let streamed = '';
let delta = null;
for await (const event of raw) {
  types.push(event.type);
  if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') streamed += event.delta.text;
  if (event.type === 'message_delta') delta = { stop_reason: event.delta.stop_reason, usage: event.usage };
}

// The SDK's stream helper: text events and the accumulated final message.
let helperText = '';
const helper = client.messages.stream({ model, max_tokens: 12, temperature: 0, system: 'Tell a story.', messages });
helper.on('text', (text) => { helperText += text; });
const final = await helper.finalMessage();

const stopAt = message.content[0].text.slice(8, 12);
const stopped = await client.messages.create({ model, max_tokens: 12, temperature: 0, system: 'Tell a story.', messages, stop_sequences: [stopAt] });

const weather = {
  name: 'get_weather', description: 'Current weather in a city',
  input_schema: { type: 'object', required: ['city'], properties: { city: { type: 'string', maxLength: 16 } } },
};
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];
const called = await client.messages.create({
  model: toolsModel, max_tokens: 300, messages: question, tools: [weather], tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
});
const use = called.content.find(b => b.type === 'tool_use');
const answer = await client.messages.create({
  model: toolsModel, max_tokens: 5, tools: [weather],
  messages: [...question, { role: 'assistant', content: called.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 degrees' }] }],
});
const streamedCall = await client.messages.stream({
  model: toolsModel, max_tokens: 300, messages: question, tools: [weather], tool_choice: { type: 'any', disable_parallel_tool_use: true },
}).finalMessage();

let missing = null;
try {
  await client.messages.create({ model: 'no-such-model', max_tokens: 5, messages });
} catch (e) {
  missing = { status: e.status, type: e.error?.error?.type ?? null, message: e.error?.error?.message ?? e.message, name: e.constructor.name };
}

console.log(JSON.stringify({
  message: { id: message.id, type: message.type, role: message.role, content: message.content, stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, usage: message.usage },
  stream: { types, text: streamed, delta },
  helper: { text: helperText, content: final.content, stop_reason: final.stop_reason, usage: final.usage },
  stop: { at: stopAt, text: stopped.content[0]?.text ?? null, stop_reason: stopped.stop_reason, stop_sequence: stopped.stop_sequence },
  tools: {
    stop_reason: called.stop_reason, content: called.content,
    answer: { role: answer.role, stop_reason: answer.stop_reason },
    streamed: { stop_reason: streamedCall.stop_reason, content: streamedCall.content },
  },
  missing,
}));
