// Small DOM and formatting helpers shared by the pages. Every text from the server goes into
// the page through textContent (el's string children), never through innerHTML.

// el('a', {href: '#/runs', class: 'x'}, 'text', childNode...) — attributes starting with "on"
// are event listeners.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function shortCommit(sha) {
  return sha ? sha.slice(0, 10) : '';
}

// "1h 02m", "3m 07s", "4.2s", "120ms". A run still going counts up to now.
export function formatDuration(startedMs, finishedMs) {
  if (!startedMs) return '';
  const ms = Math.max(0, (finishedMs || Date.now()) - startedMs);
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${pad(Math.floor(seconds / 60) % 60)}m`;
}

export function formatSeconds(ms) {
  return ms === undefined || ms === null ? '' : `${(ms / 1000).toFixed(2)}s`;
}

// Local time, with the date only when it is not today.
export function formatTime(ms) {
  if (!ms) return '';
  const date = new Date(ms);
  const today = new Date();
  const time = date.toLocaleTimeString([], { hour12: false });
  return date.toDateString() === today.toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}

export const ACTIVE_STATUSES = new Set(['queued', 'running']);

export function statusBadge(status) {
  const known = ['queued', 'running', 'passed', 'succeeded', 'failed', 'errored', 'cancelled', 'skipped'];
  const kind = known.includes(status) ? status : 'other';
  return el('span', { class: `badge badge-${kind}`, 'data-status': status }, status || 'unknown');
}

export function errorBox(error) {
  return el('p', { class: 'error' }, error && error.message ? error.message : String(error));
}
