// Reads a thinking model's reasoning with the unmodified `@anthropic-ai/sdk` and `openai` npm clients and prints one
// JSON summary line: Anthropic messages.create with thinking enabled, the same through the messages.stream helper
// (its 'thinking' events and the assembled final message), and the error for a model that cannot think; OpenAI
// responses.create with reasoning.effort, the raw stream's reasoning summary events, and the responses.stream
// helper's final response.
// Usage: BASE_URL=http://127.0.0.1:PORT MODEL=reasoner PLAIN_MODEL=stories MAX_TOKENS=40 node reasoning-clients.mjs
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const anthropic = new Anthropic({ baseURL: process.env.BASE_URL, apiKey: 'unused' });
const openai = new OpenAI({ baseURL: `${process.env.BASE_URL}/v1`, apiKey: 'unused' });
const model = process.env.MODEL ?? 'reasoner';
const plain = process.env.PLAIN_MODEL ?? 'stories';
const max = Number(process.env.MAX_TOKENS ?? 40);
const messages = [{ role: 'user', content: 'Hi' }];
const thinking = { type: 'enabled', budget_tokens: 1024 };

const message = await anthropic.messages.create({ model, max_tokens: max, temperature: 0, messages, thinking });
let helperThinking = '';
const helper = anthropic.messages.stream({ model, max_tokens: max, temperature: 0, messages, thinking });
helper.on('thinking', (delta) => { helperThinking += delta; });
const final = await helper.finalMessage();

let refused = null;
try {
  await anthropic.messages.create({ model: plain, max_tokens: 5, messages, thinking });
} catch (e) {
  refused = { status: e.status, type: e.error?.error?.type ?? null, message: e.error?.error?.message ?? e.message, name: e.constructor.name };
}

const response = await openai.responses.create({ model, input: 'Hi', max_output_tokens: max, temperature: 0, reasoning: { effort: 'low' } });
const raw = await openai.responses.create({ model, input: 'Hi', max_output_tokens: max, temperature: 0, reasoning: { effort: 'low' }, stream: true });
const types = [];
let summary = '';
for await (const event of raw) {
  types.push(event.type);
  if (event.type === 'response.reasoning_summary_text.delta') summary += event.delta;
}
// The helper assembles text deltas but not summary deltas; its summaries come whole only with response.completed.
let helperSummary = '';
const stream = openai.responses.stream({ model, input: 'Hi', max_output_tokens: max, temperature: 0, reasoning: { effort: 'low' } });
stream.on('response.reasoning_summary_text.delta', (event) => { helperSummary += event.delta; });
const streamed = await stream.finalResponse();

console.log(JSON.stringify({
  anthropic: {
    content: message.content, stop_reason: message.stop_reason, usage: message.usage,
    helper: { thinking: helperThinking, content: final.content },
    refused,
  },
  openai: {
    output: response.output, output_text: response.output_text, reasoning: response.reasoning,
    stream: { types, summary },
    helper: { output: streamed.output, output_text: streamed.output_text, summary: helperSummary, status: streamed.status },
  },
}));
