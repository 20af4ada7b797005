// The live log of one step (#/runs/ID/steps/STEP_ID). It must stay fast on a 100 MB log, so it
// never holds the whole log: it opens on the last 64 KiB (?tail=), follows new lines over SSE,
// and keeps a window of at most MAX_LINES line elements made of "pages" (byte ranges of the
// log). Scrolling to the top fetches the range before the first page and drops pages at the
// bottom; scrolling back down fetches forward again until the window reaches the live end,
// where following resumes. Byte offsets come from the server (`offset`, `next_offset`).
import { apiGet, followEvents } from './api.js';
import { appendAnsi } from './ansi.js';
import { el, errorBox, statusBadge } from './format.js';

const TAIL_BYTES = 65536;
const PAGE_BYTES = 65536;   // one range read; the server's own limit is 8 MiB
const PAGE_LINES = 1000;   // a live page closes here, so it can be dropped as a unit later
const MAX_LINES = 5000;    // the DOM bound, whatever the log's size
const EDGE_PX = 300;       // this close to the top or bottom, the next range is fetched

export async function renderStepLog(main, { params }) {
  const run = await apiGet(`/runs/${params.run}`);
  const job = (run.jobs || []).find((candidate) => (candidate.steps || []).some((step) => String(step.id) === params.step));
  const step = job ? job.steps.find((candidate) => String(candidate.id) === params.step) : null;
  const crumbs = el('nav', { class: 'crumbs' }, el('a', { href: `#/runs/${run.id}` }, `Run #${run.id}`), ` · ${run.repository}`);
  if (!step) {
    // An address naming another run's step (or none) must not show that step's log here.
    main.replaceChildren(crumbs, el('h1', {}, 'No such step'),
      errorBox(`Run #${run.id} has no step ${params.step}: open the run to pick one of its steps.`));
    return () => {};
  }
  const view = new LogView(params.step);
  main.replaceChildren(crumbs,
    el('h1', {}, `${job.name} › ${step.name}`, ' ', statusBadge(step.status)),
    step.command ? el('pre', { class: 'command' }, step.command) : null,
    view.root);
  await view.open();
  return () => view.close();
}

class LogView {
  constructor(stepId) {
    this.stepId = stepId;
    this.pages = [];           // {offset, end (null: unknown), element, count}
    this.atEnd = true;         // the last page reaches the end of the log as last read
    this.complete = false;     // the step has finished writing
    this.busy = false;         // a range fetch is in flight
    this.follower = null;      // AbortController of the SSE stream

    this.state = el('span', { class: 'log-state' });
    this.earlier = el('button', { type: 'button', class: 'link load-earlier', hidden: true, onclick: () => this.loadEarlier() }, 'Load earlier lines');
    this.later = el('button', { type: 'button', class: 'link load-later', hidden: true, onclick: () => this.loadLater() }, 'Load later lines');
    this.lines = el('div', { class: 'log-lines' });
    this.scroller = el('div', { class: 'log-scroller', tabindex: 0 }, this.earlier, this.lines, this.later);
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.root = el('section', { class: 'log-view' },
      el('div', { class: 'log-toolbar' }, this.state,
        el('button', { type: 'button', class: 'link', onclick: () => this.jumpToEnd() }, 'Jump to end')),
      this.scroller);
  }

  // (Re)opens at the tail, dropping whatever window was shown.
  async open() {
    this.stopFollowing();
    const data = await apiGet(`/steps/${this.stepId}/log?tail=${TAIL_BYTES}`);
    this.pages.forEach((page) => page.element.remove());
    this.pages = [];
    this.addPage(data, 'append');
    this.atEnd = true;
    this.complete = data.complete;
    this.updateChrome(data.size);
    this.scrollToBottom();
    if (!this.complete) this.follow(data.next_offset);
  }

  close() {
    this.closed = true;
    this.stopFollowing();
  }

  // ---- following the live end

  follow(offset) {
    this.stopFollowing();
    const controller = new AbortController();
    this.follower = controller;
    this.state.textContent = 'following live output…';
    followEvents(`/steps/${this.stepId}/log/follow?offset=${offset}`, (name, data) => {
      if (name === 'line') this.appendLive(JSON.parse(data));
      else if (name === 'end') {
        this.complete = true;
        this.updateChrome();
        return false;
      }
      return true;
    }, controller.signal).then(() => this.followEnded(controller), (error) => this.followEnded(controller, error));
  }

  followEnded(controller, error) {
    if (this.follower !== controller) return;  // replaced or stopped on purpose
    this.follower = null;
    if (this.complete || this.closed) return;
    // The stream broke (server restart, proxy timeout): carry on from the last known end.
    this.state.replaceChildren(error ? errorBox(error) : 'reconnecting…');
    setTimeout(() => {
      if (this.closed || this.follower) return;
      const last = this.pages.at(-1);
      if (this.atEnd && last && last.end !== null) this.follow(last.end);
      else this.open().catch((failure) => this.state.replaceChildren(errorBox(failure)));
    }, 1000);
  }

  stopFollowing() {
    if (this.follower) this.follower.abort();
    this.follower = null;
  }

  appendLive(line) {
    if (!this.atEnd) return;
    let last = this.pages.at(-1);
    if (last.count >= PAGE_LINES) {
      if (last.end === null) {
        // Without offsets on the streamed lines this page cannot be split at a known byte:
        // start over from the tail, which always has them.
        this.open().catch((error) => this.state.replaceChildren(errorBox(error)));
        return;
      }
      last = this.addPage({ offset: last.end, next_offset: last.end, lines: [] }, 'append');
    }
    const stick = this.nearBottom();
    last.element.append(lineElement(line));
    last.count++;
    last.end = typeof line.next_offset === 'number' ? line.next_offset : null;
    this.trim('top');
    this.updateChrome();
    if (stick) this.scrollToBottom();
  }

  // ---- ranges before and after the window

  async loadEarlier() {
    const first = this.pages[0];
    if (this.busy || !first || first.offset <= 0) return;
    this.busy = true;
    try {
      // A single record can be larger than a page (a cut 64 KiB line): widen until one fits.
      const from = Math.max(0, first.offset - PAGE_BYTES);
      const data = await apiGet(`/steps/${this.stepId}/log?offset=${from}&limit=${first.offset - from}`);
      // The server moves `offset` back to the start of its record and reads `limit` bytes of
      // whole records, so the answer can stop short of the window: read on up to it.
      while (data.next_offset < first.offset && !this.closed) {
        const more = await apiGet(`/steps/${this.stepId}/log?offset=${data.next_offset}&limit=${first.offset - data.next_offset}`);
        if (more.next_offset <= data.next_offset) break;
        data.lines.push(...more.lines);
        data.next_offset = more.next_offset;
      }
      if (this.closed || data.lines.length === 0) return;
      const before = this.scroller.scrollHeight;
      this.addPage({ ...data, next_offset: first.offset }, 'prepend');
      this.scroller.scrollTop += this.scroller.scrollHeight - before;  // keep the reader's place
      if (this.trim('bottom')) {
        this.atEnd = false;
        this.stopFollowing();
      }
      this.updateChrome();
    } finally {
      this.busy = false;
    }
  }

  async loadLater() {
    const last = this.pages.at(-1);
    if (this.busy || this.atEnd || !last) return;
    if (last.end === null) return this.open();
    this.busy = true;
    try {
      const data = await apiGet(`/steps/${this.stepId}/log?offset=${last.end}&limit=${PAGE_BYTES}`);
      if (this.closed) return;
      if (data.lines.length) this.addPage(data, 'append');
      this.trim('top');
      if (data.next_offset >= data.size) {
        this.atEnd = true;
        this.complete = data.complete;
        if (!this.complete) this.follow(data.next_offset);
      }
      this.updateChrome(data.size);
    } finally {
      this.busy = false;
    }
  }

  jumpToEnd() {
    if (this.atEnd) this.scrollToBottom();
    else this.open().catch((error) => this.state.replaceChildren(errorBox(error)));
  }

  onScroll() {
    if (this.scroller.scrollTop < EDGE_PX && this.pages.length && this.pages[0].offset > 0) {
      this.loadEarlier().catch((error) => this.state.replaceChildren(errorBox(error)));
    } else if (!this.atEnd && this.nearBottom(EDGE_PX)) {
      this.loadLater().catch((error) => this.state.replaceChildren(errorBox(error)));
    }
  }

  // ---- the window

  addPage(data, where) {
    const element = el('div', { class: 'log-page', 'data-offset': data.offset });
    const fragment = document.createDocumentFragment();
    for (const line of data.lines) fragment.append(lineElement(line));
    element.append(fragment);
    const page = { offset: data.offset, end: data.next_offset, element, count: data.lines.length };
    if (where === 'prepend') {
      this.lines.prepend(element);
      this.pages.unshift(page);
    } else {
      this.lines.append(element);
      this.pages.push(page);
    }
    return page;
  }

  // Drops whole pages from one side until the window is within MAX_LINES; true if any went.
  trim(side) {
    let dropped = false;
    while (this.pages.length > 1 && this.pages.reduce((sum, page) => sum + page.count, 0) > MAX_LINES) {
      if (side === 'top') {
        const height = this.pages[0].element.offsetHeight;
        this.pages.shift().element.remove();
        this.scroller.scrollTop -= height;
      } else {
        this.pages.pop().element.remove();
      }
      dropped = true;
    }
    if (dropped) this.updateChrome();
    return dropped;
  }

  updateChrome(size) {
    if (size !== undefined) this.size = size;
    this.earlier.hidden = !(this.pages.length && this.pages[0].offset > 0);
    this.later.hidden = this.atEnd;
    const lineCount = this.pages.reduce((sum, page) => sum + page.count, 0);
    const where = this.complete ? 'complete' : (this.atEnd && this.follower ? 'following live output…' : 'in progress');
    this.state.textContent = `${lineCount} lines shown · ${formatBytes(this.size)} · ${where}`;
  }

  nearBottom(margin = 40) {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < margin;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

// One record: time, then the text coloured by its stream (stdout, stderr, or Slipway's own
// "system" lines); `continued` marks a piece of a longer line that goes on in the next record.
// The one-letter forms of the log files (o/e/s, O/E for a piece) are understood too.
const STREAMS = { stdout: 'o', stderr: 'e', system: 's', o: 'o', e: 'e', s: 's', O: 'o', E: 'e' };

function lineElement(line) {
  const stream = STREAMS[line.stream] || 'o';
  const continued = line.continued || line.stream === 'O' || line.stream === 'E';
  const element = el('div', { class: `log-line stream-${stream}${continued ? ' cut' : ''}` },
    el('span', { class: 'ts' }, clock(line.ts)));
  const text = el('span', { class: 'text' });
  appendAnsi(text, line.text || '');
  element.append(text);
  return element;
}

// "2026-11-26T05:01:02.345Z" (or milliseconds) -> "05:01:02.345" in UTC, as stored.
function clock(ts) {
  if (typeof ts === 'number') return new Date(ts).toISOString().slice(11, 23);
  return typeof ts === 'string' && ts.length >= 23 ? ts.slice(11, 23) : '';
}

function formatBytes(bytes) {
  if (bytes === undefined || bytes === null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
