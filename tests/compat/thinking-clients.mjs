// Thinking through the unmodified `ollama` and `openai` npm clients; prints one JSON summary line.
// A grammar (llama-server's field, passed through by both clients) forces "<think>I plan.</think>Hello".
// Usage: OLLAMA_URL=http://127.0.0.1:PORT MODEL=thinker node thinking-clients.mjs
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.OLLAMA_URL;
const model = process.env.MODEL;
const grammar = 'root ::= "<think>I plan.</think>Hello"';
const messages = [{ role: 'user', content: 'Hi' }];
const ollama = new Ollama({ host: url });

const chat = await ollama.chat({ model, messages, think: true, grammar, options: { temperature: 0 }, stream: false });
let streamedThinking = '';
let streamedContent = '';
for await (const part of await ollama.chat({ model, messages, think: 'low', grammar, options: { temperature: 0 }, stream: true })) {
  streamedThinking += part.message.thinking ?? '';
  streamedContent += part.message.content;
}
const generated = await ollama.generate({ model, prompt: 'Hi', think: true, grammar, options: { temperature: 0 }, stream: false });

let refused = null;
try {
  await ollama.chat({ model: 'stories', messages, think: true, stream: false });
} catch (e) {
  refused = { message: e.message, status: e.status_code ?? null };
}

const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused' });
const completion = await openai.chat.completions.create({ model, messages, grammar, temperature: 0, reasoning_effort: 'low' });
let openaiReasoning = '';
let openaiContent = '';
for await (const chunk of await openai.chat.completions.create({ model, messages, grammar, temperature: 0, stream: true })) {
  const delta = chunk.choices[0]?.delta ?? {};
  openaiReasoning += delta.reasoning_content ?? '';
  openaiContent += delta.content ?? '';
}

console.log(JSON.stringify({
  chat: { thinking: chat.message.thinking, content: chat.message.content },
  streamed: { thinking: streamedThinking, content: streamedContent },
  generate: { thinking: generated.thinking, response: generated.response },
  refused,
  openai: { reasoning: completion.choices[0].message.reasoning_content, content: completion.choices[0].message.content },
  openaiStreamed: { reasoning: openaiReasoning, content: openaiContent },
}));
