// @ts-check
// Calls to this server's own routes (same origin). The bearer token, when the user gave one, lives
// in this browser's localStorage and is sent with every call; nothing else is stored outside the page.

const tokenKey = 'inference.console.token';

export function getToken() { return localStorage.getItem(tokenKey) ?? ''; }
/** @param {string} token */
export function setToken(token) {
  if (token) localStorage.setItem(tokenKey, token); else localStorage.removeItem(tokenKey);
}

/** An error answer from the server, with its status and the message from the API's own error shape. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) { super(message); this.status = status; }
}

/** @param {HeadersInit} [extra] */
function headers(extra) {
  const result = new Headers(extra);
  const token = getToken();
  if (token) result.set('Authorization', `Bearer ${token}`);
  return result;
}

/**
 * Fired on window (a CustomEvent whose detail is the server's message) whenever a call answers 401:
 * the shell (token.js) says so and opens the token dialog, so pages need not handle missing tokens.
 */
export const unauthorizedEvent = 'console:unauthorized';

/** The ApiError of a failed answer; a 401 also raises unauthorizedEvent. @param {Response} response */
async function errorOf(response) {
  const error = await messageOf(response);
  if (response.status === 401) window.dispatchEvent(new CustomEvent(unauthorizedEvent, { detail: error.message }));
  return error;
}

/** Reads the message of Ollama's {"error": "..."}, OpenAI's {"error": {"message"}} or a problem's "detail". @param {Response} response */
async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    const message = typeof body.error === 'string' ? body.error : body.error?.message ?? body.detail ?? body.title;
    if (message) return new ApiError(response.status, message);
  } catch { /* not JSON: fall through */ }
  return new ApiError(response.status, text || `${response.status} ${response.statusText}`);
}

/**
 * A JSON call: getJson('/api/tags'), send('/api/copy', 'POST', {...}). Throws ApiError on a non-2xx answer.
 * @param {string} path @param {string} [method] @param {any} [body] @param {AbortSignal} [signal]
 */
export async function send(path, method = 'GET', body = undefined, signal = undefined) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? undefined : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await errorOf(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** @param {string} path @param {AbortSignal} [signal] */
export const getJson = (path, signal) => send(path, 'GET', undefined, signal);

/** @param {string} path @param {AbortSignal} [signal] */
export async function getText(path, signal) {
  const response = await fetch(path, { headers: headers(), signal });
  if (!response.ok) throw await errorOf(response);
  return response.text();
}

/**
 * POSTs a body and calls onLine with each parsed line of an NDJSON answer (Ollama's streams) as it
 * arrives; aborting `signal` cancels the request, which the server sees as the client going away.
 * A line carrying {"error"} (an error after the stream began) is thrown as ApiError.
 * @param {string} path @param {any} body @param {(line: any) => void} onLine @param {AbortSignal} [signal]
 */
export async function streamNdjson(path, body, onLine, signal) {
  const response = await fetch(path, {
    method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body), signal,
  });
  if (!response.ok || !response.body) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line) continue;
      const parsed = JSON.parse(line);
      if (typeof parsed.error === 'string') throw new ApiError(response.status, parsed.error);
      onLine(parsed);
    }
  }
  if (pending.trim()) onLine(JSON.parse(pending));
}

/**
 * POSTs a file (or any blob) as the raw body and reports upload progress, which fetch cannot do:
 * XMLHttpRequest's upload.onprogress gives the bytes sent. Aborting `signal` cancels the upload.
 * Throws ApiError with the API's message on a non-2xx answer.
 * @param {string} path @param {Blob} blob @param {(sent: number, total: number) => void} onProgress @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function upload(path, blob, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    headers().forEach((value, name) => xhr.setRequestHeader(name, value));
    xhr.upload.onprogress = e => onProgress(e.loaded, e.lengthComputable ? e.total : blob.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) { onProgress(blob.size, blob.size); resolve(); return; }
      errorOf(new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText })).then(reject, reject);
    };
    xhr.onerror = () => reject(new Error('the upload failed: the connection to the server was lost'));
    xhr.onabort = () => reject(new DOMException('the upload was cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(blob);
  });
}
