// Structured output through the unmodified `openai` client: chat.completions.parse with zodResponseFormat, the
// way OpenAI's guide writes it, with a zod 4 and a zod 3 schema; then the same response_format with a max_tokens
// cap too small for the answer (parse() refuses any finish_reason "length" by design, so that one goes through
// create() and the content is parsed by hand). Prints one JSON summary line.
// parse() throws LengthFinishReasonError whenever finish_reason is "length", even for a complete document, so the
// parse() calls leave room for the model to end the document itself (random weights end a free string late).
// Usage: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 MODEL=stories node openai-structured.mjs
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z as z4 } from 'zod';
import { z as z3 } from 'zod3';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'unused' });
const model = process.env.MODEL ?? 'stories';
const messages = [{ role: 'user', content: 'Tom is 31. Give his name and age.' }];
const person4 = z4.object({ name: z4.string(), age: z4.number().int() });
const person3 = z3.object({ name: z3.string(), age: z3.number().int() });

// What the caller gets: the parsed object and its field types, or the error the client threw.
async function parsed(schema, seed) {
  try {
    const completion = await client.chat.completions.parse({
      model, messages, seed, max_tokens: 2000, response_format: zodResponseFormat(schema, 'person'),
    });
    const value = completion.choices[0].message.parsed;
    return { ok: true, value, types: { name: typeof value.name, age: Number.isInteger(value.age) ? 'integer' : typeof value.age }, finish: completion.choices[0].finish_reason };
  } catch (e) {
    return { ok: false, error: `${e.constructor.name}: ${e.message}`, status: e.status ?? null };
  }
}

async function capped(schema, seed, maxTokens) {
  try {
    const completion = await client.chat.completions.create({
      model, messages, seed, max_tokens: maxTokens, response_format: zodResponseFormat(schema, 'person'),
    });
    const content = completion.choices[0].message.content;
    let value = null;
    let error = null;
    try { value = schema.parse(JSON.parse(content)); } catch (e) { error = e.message; }
    // The JSON Schema sent, so the test can work out the shortest valid document and its tokens (the bound for a cap below it).
    const sent = zodResponseFormat(schema, 'person').json_schema.schema;
    return { ok: value !== null, value, error, content, finish: completion.choices[0].finish_reason, tokens: completion.usage.completion_tokens, schema: sent };
  } catch (e) {
    return { ok: false, error: `${e.constructor.name}: ${e.message}`, status: e.status ?? null };
  }
}

console.log(JSON.stringify({
  zod4: await parsed(person4, 1),
  zod3: await parsed(person3, 2),
  small: await capped(person4, 3, 6),
}));
