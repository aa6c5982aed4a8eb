// Drives the server's /v1/responses with the unmodified `openai` npm client and prints one JSON summary line:
// responses.create (plain and with stream: true), text.format json_schema through responses.parse with
// zodTextFormat, a forced function call sent back as function_call_output, the same call through the client's
// responses.stream helper, and the error previous_response_id gives (the server is stateless).
// Usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 MODEL=stories TOOLS_MODEL=qwen-tools node openai-responses.mjs
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'unused' });
const model = process.env.MODEL ?? 'stories';
const toolsModel = process.env.TOOLS_MODEL ?? 'qwen-tools';

const response = await client.responses.create({ model, instructions: 'Tell a story.', input: 'Once upon a time', max_output_tokens: 12, temperature: 0 });

const raw = await client.responses.create({ model, instructions: 'Tell a story.', input: 'Once upon a time', max_output_tokens: 12, temperature: 0, stream: true });
const types = [];
const sequence = [];
let streamed = '';
let last = null;
for await (const event of raw) {
  types.push(event.type);
  sequence.push(event.sequence_number);
  if (event.type === 'response.output_text.delta') streamed += event.delta;
  if (event.response) last = event.response;
}

const person = z.object({ name: z.string().max(12), age: z.number().int().min(0).max(120) });
const parsed = await client.responses.parse({
  model, input: 'Tom is 31. Give his name and age.', max_output_tokens: 200, text: { format: zodTextFormat(person, 'person') },
});

const weather = {
  type: 'function', name: 'get_weather', description: 'Current weather in a city', strict: true,
  parameters: { type: 'object', required: ['city'], additionalProperties: false, properties: { city: { type: 'string', maxLength: 16 } } },
};
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];
const called = await client.responses.create({ model: toolsModel, input: question, tools: [weather], tool_choice: 'required', parallel_tool_calls: false, max_output_tokens: 300 });
const call = called.output.find(item => item.type === 'function_call');
// The client's stream helper on a forced call: it assembles function_call_arguments deltas into the final response.
let helperArguments = '';
const helper = client.responses.stream({ model: toolsModel, input: question, tools: [weather], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false, max_output_tokens: 300 });
helper.on('response.function_call_arguments.delta', (event) => { helperArguments += event.delta; });
const final = await helper.finalResponse();
const answer = await client.responses.create({
  model: toolsModel, tools: [weather], max_output_tokens: 5,
  input: [...question, call, { type: 'function_call_output', call_id: call.call_id, output: '18 degrees' }],
});

let stateful = null;
try {
  await client.responses.create({ model, input: 'And then?', previous_response_id: response.id });
} catch (e) {
  stateful = { status: e.status, message: e.error?.message ?? e.message, param: e.param ?? null, name: e.constructor.name };
}

console.log(JSON.stringify({
  response: { id: response.id, object: response.object, status: response.status, output_text: response.output_text, incomplete: response.incomplete_details, usage: response.usage },
  stream: { types, sequence, text: streamed, status: last?.status ?? null, usage: last?.usage ?? null },
  helper: { arguments: helperArguments, status: final.status, output: final.output },
  parsed: { value: parsed.output_parsed, status: parsed.status, text: parsed.output_text },
  tools: { status: called.status, output: called.output, answer: { status: answer.status, output_types: answer.output.map(o => o.type) } },
  stateful,
}));
