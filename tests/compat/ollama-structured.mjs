// Structured output through the unmodified `ollama` client, as the ollama docs write it: `format` is
// zod-to-json-schema's output for a zod schema and the reply is checked with the same schema; then with num_predict
// too small for the answer (done_reason "length"). Prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT MODEL=stories node ollama-structured.mjs
import { Ollama } from 'ollama';
import { z } from 'zod3';
import { zodToJsonSchema } from 'zod-to-json-schema';

const client = new Ollama({ host: process.env.OLLAMA_URL });
const model = process.env.MODEL ?? 'stories';
const person = z.object({ name: z.string(), age: z.number().int() });
const messages = [{ role: 'user', content: 'Tom is 31. Give his name and age.' }];

async function run(seed, numPredict) {
  const response = await client.chat({ model, messages, format: zodToJsonSchema(person), options: { seed, num_predict: numPredict }, stream: false });
  const content = response.message.content;
  try {
    const value = person.parse(JSON.parse(content));
    return { ok: true, value, types: { name: typeof value.name, age: Number.isInteger(value.age) ? 'integer' : typeof value.age }, done_reason: response.done_reason };
  } catch (e) {
    return { ok: false, error: e.message.slice(0, 500), content: content.slice(0, 500), done_reason: response.done_reason };
  }
}

console.log(JSON.stringify({ full: await run(1, 300), small: await run(2, 6) }));
