// Writes the zod part of the schema corpus (tests/schemas/zod*/): the same models written with zod 3 and zod 4,
// each turned into JSON Schema the way the unmodified clients do it:
//   openai     openai's zodResponseFormat(...).json_schema.schema (what chat.completions.parse sends)
//   langchain  @langchain/core's toJsonSchema (what ChatOllama.withStructuredOutput sends as `format`)
//   ollama     zod-to-json-schema (what the ollama docs pass as `format`; zod 3 only, it does not read zod 4)
// Deterministic: the same packages give the same bytes. Usage (in tests/compat): node generate-zod-schemas.mjs [DIR]
// (DIR defaults to tests/schemas; the xunit suite writes to a temporary one and compares the bytes).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zod3 from 'zod3';
import * as zod4 from 'zod';
import { zodResponseFormat } from 'openai/helpers/zod';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import { zodToJsonSchema } from 'zod-to-json-schema';

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

// Models people write for structured output; only APIs both zod versions share, unless noted.
function models(z) {
  const Address = z.object({ street: z.string(), city: z.string(), zip: z.string().regex(/^[0-9]{5}$/), country: z.string().length(2) });
  const Node = z.lazy(() => z.object({ value: z.number().int(), children: z.array(Node) }));
  const Comment = z.lazy(() => z.object({ author: z.string(), text: z.string().max(200), replies: z.array(Comment).max(3) }));
  return {
    person: z.object({ name: z.string(), age: z.number().int() }),
    'person-described': z.object({ name: z.string().describe('Full name'), age: z.number().int().describe('Age in years') }).describe('A person'),
    'calendar-event': z.object({ name: z.string(), date: z.string(), participants: z.array(z.string()) }),
    'math-steps': z.object({ steps: z.array(z.object({ explanation: z.string(), output: z.string() })), final_answer: z.string() }),
    'country': z.object({ name: z.string(), capital: z.string(), languages: z.array(z.string()) }),
    'pet-list': z.object({ pets: z.array(z.object({ name: z.string(), animal: z.string(), age: z.number().int(), color: z.string().nullable(), favorite_toy: z.string().nullable() })) }),
    'color-enum': z.object({ name: z.string(), color: z.enum(['red', 'green', 'blue']) }),
    'literal-status': z.object({ status: z.literal('ok'), code: z.number().int().min(100).max(599) }),
    'bounded-numbers': z.object({ rating: z.number().min(1).max(5), count: z.number().int().nonnegative(), ratio: z.number().positive().lt(1) }),
    'string-lengths': z.object({ code: z.string().min(3).max(8), title: z.string().max(60), tags: z.array(z.string().min(1)).min(1).max(5) }),
    'formats': z.object({ id: z.string().uuid(), email: z.string().email(), created: z.string().datetime(), site: z.string().url() }),
    'nullable-fields': z.object({ title: z.string(), subtitle: z.string().nullable(), pages: z.number().int().nullable() }),
    'optional-fields': z.object({ title: z.string(), subtitle: z.string().optional(), pages: z.number().int().optional() }),
    'with-defaults': z.object({ query: z.string(), limit: z.number().int().min(1).max(100).default(10), exact: z.boolean().default(false) }),
    'union': z.object({ value: z.union([z.string(), z.number(), z.boolean()]) }),
    'discriminated-shape': z.object({
      shape: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('circle'), radius: z.number().positive() }),
        z.object({ kind: z.literal('square'), side: z.number().positive() }),
      ]),
    }),
    'nested-address': z.object({ name: z.string(), home: Address, work: Address.nullable() }),
    'record': z.object({ scores: z.record(z.string(), z.number().int()) }),
    'tuple': z.object({ point: z.tuple([z.number(), z.number()]), label: z.string() }),
    'tree': z.object({ root: Node }),
    'comments': z.object({ thread: z.array(Comment).max(5) }),
    'sentiment': z.object({ sentiment: z.enum(['positive', 'negative', 'neutral']), confidence: z.number().min(0).max(1), keywords: z.array(z.string()).max(10) }),
    'extraction': z.object({
      people: z.array(z.object({ name: z.string(), role: z.string().nullable() })),
      organizations: z.array(z.string()),
      dates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)),
    }),
    'invoice': z.object({
      number: z.string().regex(/^INV-[0-9]{4,8}$/),
      customer: z.object({ name: z.string(), email: z.string().email() }),
      lines: z.array(z.object({ sku: z.string(), quantity: z.number().int().min(1), unit_price: z.number().nonnegative() })).min(1),
      currency: z.enum(['USD', 'EUR', 'GBP']),
      paid: z.boolean(),
    }),
    'array-root-wrapped': z.object({ items: z.array(z.number().int().min(0).max(9)).length(3) }),
  };
}

// The three conversions, as the clients call them. A client that throws for a model is recorded, not hidden.
const routes = {
  openai: (schema, name) => zodResponseFormat(schema, name.replace(/[^a-zA-Z0-9_-]/g, '_')).json_schema.schema,
  langchain: (schema) => toJsonSchema(schema),
  ollama: (schema) => zodToJsonSchema(schema),
};

const written = [];
const refused = [];
for (const [version, z] of [['zod3', zod3.z], ['zod4', zod4.z]]) {
  for (const [route, convert] of Object.entries(routes)) {
    if (route === 'ollama' && version === 'zod4') continue; // zod-to-json-schema reads zod 3 schemas only
    const dir = join(root, `${version}-${route}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, schema] of Object.entries(models(z))) {
      let json;
      try {
        json = convert(schema, name);
      } catch (e) {
        refused.push(`${version}-${route}/${name}: ${e.message.split('\n')[0]}`);
        continue;
      }
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
      written.push(`${version}-${route}/${name}`);
    }
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
}
console.log(`${written.length} schemas written`);
for (const line of refused) console.log(`refused by the client: ${line}`);
