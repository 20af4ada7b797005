// The API client: JSON under /api/v1 with the token from localStorage as a Bearer header.
// A 401 raises AuthError, which the app answers with the token prompt; no token is sent when
// none is stored, so a server that allows anonymous reads needs no prompt at all.

const TOKEN_KEY = 'slipway.token';

export class AuthError extends Error {
  constructor(message) {
    super(message || 'This server needs an API token.');
    this.name = 'AuthError';
  }
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export function storedToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function storeToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const token = storedToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) message = body.error;
  } catch { /* not JSON: keep the status line */ }
  if (response.status === 401) return new AuthError(message);
  if (response.status === 403) return new ApiError(403, `Not allowed with this token: ${message}`);
  return new ApiError(response.status, message);
}

export async function apiGet(path, { signal } = {}) {
  const response = await fetch(`/api/v1${path}`, { headers: headers({ Accept: 'application/json' }), signal });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function apiPost(path, body = undefined) {
  const response = await fetch(`/api/v1${path}`, {
    method: 'POST',
    headers: headers({ Accept: 'application/json', 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Follows a Server-Sent Events stream with fetch() rather than EventSource, because
// EventSource cannot send the Authorization header and a token in the URL would end up in
// logs. Calls onEvent(name, data) per event; resolves when the stream ends or `signal` aborts.
export async function followEvents(path, onEvent, signal) {
  const response = await fetch(`/api/v1${path}`, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      // Events are separated by a blank line; keep an incomplete one for the next read.
      let end;
      while ((end = eventBoundary(buffer)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^(\r?\n){2}/, '');
        const event = parseEvent(block);
        if (event && onEvent(event.name, event.data) === false) return;
      }
    }
  } catch (error) {
    if (error.name !== 'AbortError') throw error;
  } finally {
    reader.releaseLock();
  }
}

function eventBoundary(buffer) {
  const match = /\r?\n\r?\n/.exec(buffer);
  return match ? match.index : -1;
}

function parseEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;  // a comment: the server's keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && name === 'message') return null;
  return { name, data: data.join('\n') };
}
