// Shared by the annotator page and the dashboard: JSON requests with the server's one error format, an SSE reader for
// fetch bodies (EventSource cannot POST or send headers), and ids for idempotent retries.

/** An HTTP failure carrying the server's {"error", "detail"} body when it sent one. */
export class ApiError extends Error {
  constructor(status, error, detail, retryAfter) {
    super(error || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

// Accounts mode: the session's CSRF token (from POST /api/session or GET /api/me), sent with every state-changing
// request; the server refuses cookie-authenticated writes without it.
let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token ?? null;
}

/** The header a state-changing request needs in accounts mode (nothing otherwise). */
export function csrfHeaders() {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** fetch + JSON decode; non-2xx answers become ApiError (status 0 when the network itself failed). */
export async function call(url, { method = 'GET', body, headers = {} } = {}) {
  let res;
  if (method !== 'GET') headers = { ...csrfHeaders(), ...headers };
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network error', String(e));
  }
  if (!res.ok) {
    throw await errorOf(res);
  }
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function requestJson(url, options) {
  return (await call(url, options)).json;
}

export async function errorOf(res) {
  let error = res.statusText;
  let detail;
  try {
    const j = await res.json();
    error = j.error ?? error;
    detail = j.detail;
  } catch {
    // Not our JSON (a proxy's HTML page, say): the status line is all we can say.
  }
  const ra = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, error, detail, Number.isFinite(ra) && ra > 0 ? ra : undefined);
}

/** A human sentence for an error, without stack traces or raw JSON. */
export function describe(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  if (err.status === 0) return 'Cannot reach the server.';
  const detail = typeof err.detail === 'string' ? err.detail : '';
  return detail && detail !== err.message ? `${err.message}: ${detail}` : err.message;
}

/**
 * Reads a text/event-stream body and calls onEvent({event, data, id}) per event. data is JSON-decoded when it parses.
 * Resolves when the stream ends.
 */
export async function readSse(res, onEvent) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    // Events end with a blank line; the spec allows \r\n, \n or \r line ends.
    buf = buf.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const ev = parseSseBlock(block);
      if (ev) onEvent(ev);
    }
  }
  const tail = parseSseBlock(buf);
  if (tail) onEvent(tail);
}

function parseSseBlock(block) {
  let event = 'message';
  let id;
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return null;
  return { event, id, data: parseMaybeJson(data.join('\n')) };
}

export function parseMaybeJson(s) {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * A random UUID. crypto.randomUUID exists only in secure contexts (https, localhost); an annotator on plain http over
 * a LAN still needs a key, and getRandomValues works everywhere.
 */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Exponential backoff with jitter, capped, so many waiting pages do not retry in lockstep. */
export function backoffMs(attempt, retryAfterSeconds) {
  if (retryAfterSeconds) return retryAfterSeconds * 1000;
  const base = Math.min(8000, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}
