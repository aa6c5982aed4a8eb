// Pushes a model with the unmodified `ollama` npm client, streamed and not, and prints one JSON summary line.
// Usage: OLLAMA_URL=http://127.0.0.1:PORT MODEL=127.0.0.1:PORT/ns/model:tag node ollama-push.mjs
import { Ollama } from 'ollama';

const client = new Ollama({ host: process.env.OLLAMA_URL });
const model = process.env.MODEL;

const streamed = [];
for await (const part of await client.push({ model, insecure: true, stream: true })) {
  streamed.push({ status: part.status, digest: part.digest ?? null, total: part.total ?? null, completed: part.completed ?? null });
}
const single = await client.push({ model, insecure: true });

let missingError = null;
try {
  await client.push({ model: '127.0.0.1:9/tests/no-such-model:v1', insecure: true });
} catch (e) {
  missingError = { message: e.message, status: e.status_code ?? null };
}

console.log(JSON.stringify({ streamed, single, missingError }));
