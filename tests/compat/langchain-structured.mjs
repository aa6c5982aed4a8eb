// Structured output through the unmodified LangChain client: ChatOllama.withStructuredOutput with a zod schema and
// with a plain JSON Schema (method "jsonSchema", which sends it as Ollama's `format`), then the zod one again with
// numPredict too small for the answer. Prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT MODEL=stories node langchain-structured.mjs
import { ChatOllama } from '@langchain/ollama';
import { z } from 'zod';

const baseUrl = process.env.OLLAMA_URL;
const model = process.env.MODEL ?? 'stories';
const question = 'Tom is 31. Give his name and age.';
const person = z.object({ name: z.string(), age: z.number().int() });
const personJson = {
  type: 'object', title: 'person',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'], additionalProperties: false,
};

async function run(schema, options, config) {
  try {
    const llm = new ChatOllama({ baseUrl, model, ...options }).withStructuredOutput(schema, config);
    const value = await llm.invoke(question);
    return { ok: true, value, types: { name: typeof value.name, age: Number.isInteger(value.age) ? 'integer' : typeof value.age } };
  } catch (e) {
    return { ok: false, error: `${e.constructor.name}: ${e.message}`.slice(0, 500) };
  }
}

console.log(JSON.stringify({
  zod: await run(person, { seed: 1, numPredict: 300 }),
  jsonSchema: await run(personJson, { seed: 2, numPredict: 300 }, { method: 'jsonSchema' }),
  small: await run(person, { seed: 3, numPredict: 6 }),
}));
