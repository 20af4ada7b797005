// The data-task pages. #/tasks: per environment, each task with its active revision, the image
// digest it is pinned to, and its last run. #/tasks/ENV/NAME: one task — its definition, its
// schedules, its revisions with their digests, and its runs; a run's log opens below them
// (#/tasks/ENV/NAME?run=ID) and keeps loading while the run is active. Both pages refresh
// themselves every few seconds while a run they show is queued or running.
import { apiGet, query } from './api.js';
import { ACTIVE_STATUSES, el, errorBox, formatDuration, formatTime, statusBadge } from './format.js';

const REFRESH_MS = 3000;
const LOG_POLL_MS = 1000;
const MAX_LOG_LINES = 5000;  // the DOM keeps the newest lines; the CLI has the whole log
const REVISIONS_SHOWN = 50;
const RUNS_SHOWN = 50;

function shortDigest(digest) {
  return (digest || '').replace(/^sha256:/, '').slice(0, 12);
}

function digestCell(revision) {
  return el('span', { class: 'mono', title: revision.pinned_image || revision.image },
    revision.digest ? shortDigest(revision.digest) : '(no image yet)');
}

function taskHref(environment, name, run) {
  return `#/tasks/${encodeURIComponent(environment)}/${encodeURIComponent(name)}${run ? `?run=${run}` : ''}`;
}

function exitLabel(run) {
  return run.exit_code >= 0 ? String(run.exit_code) : '';
}

function runStart(run) {
  return run.started_ms || run.created_ms;
}

export async function renderTasks(main) {
  const listing = el('div', { class: 'tasks' });
  main.replaceChildren(el('h1', {}, 'Tasks'), listing);
  let timer = null;
  let stopped = false;
  const load = async () => {
    const { tasks } = await apiGet('/tasks');
    const lastRuns = await Promise.all(tasks.map((task) =>
      apiGet(`/tasks/${encodeURIComponent(task.task)}/runs${query({ environment: task.environment, limit: 1 })}`)
        .then((answer) => answer.runs[0] || null)));
    if (stopped) return;
    listing.replaceChildren(...environmentSections(tasks, lastRuns));
    if (lastRuns.some((run) => run && ACTIVE_STATUSES.has(run.status))) {
      timer = setTimeout(() => load().catch(showError), REFRESH_MS);
    }
  };
  const showError = (error) => { if (!stopped) listing.replaceChildren(errorBox(error)); };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

function environmentSections(tasks, lastRuns) {
  if (tasks.length === 0) {
    return [el('p', { class: 'empty' }, 'No tasks yet. A data-task repository\'s tasks: section registers them.')];
  }
  const environments = [...new Set(tasks.map((task) => task.environment))].sort();
  return environments.map((environment) => el('section', { class: 'environment', 'data-environment': environment },
    el('h2', {}, environment),
    el('table', { class: 'tasks' },
      el('thead', {}, el('tr', {}, ['Task', 'Revision', 'Digest', 'Repository', 'Last run', 'Status', 'When']
        .map((title) => el('th', {}, title)))),
      el('tbody', {}, tasks.map((task, i) => (task.environment === environment ? taskRow(task, lastRuns[i]) : null))))));
}

function taskRow(task, run) {
  return el('tr', { 'data-task': task.task },
    el('td', {}, el('a', { href: taskHref(task.environment, task.task) }, task.task)),
    el('td', { class: 'num' }, task.revision),
    el('td', {}, digestCell(task)),
    el('td', {}, task.repository),
    el('td', {}, run ? el('a', { href: taskHref(task.environment, task.task, run.id) }, `#${run.id}`) : 'never run'),
    el('td', {}, run ? statusBadge(run.status) : ''),
    el('td', {}, run ? formatTime(run.created_ms) : ''));
}

export async function renderTask(main, { params, search }) {
  const { environment, name } = params;
  const base = `/tasks/${encodeURIComponent(name)}`;
  const body = el('div');
  const logPanel = el('section', { class: 'task-log-panel' });
  main.replaceChildren(body, logPanel);
  let timer = null;
  let stopped = false;
  let stopLog = null;
  const openLog = (run) => {
    if (stopLog) stopLog();
    stopLog = followRunLog(logPanel, run);
  };
  const load = async () => {
    const [detail, { revisions }, { runs }] = await Promise.all([
      apiGet(`${base}${query({ environment })}`),
      apiGet(`${base}/revisions${query({ environment, limit: REVISIONS_SHOWN })}`),
      apiGet(`${base}/runs${query({ environment, limit: RUNS_SHOWN })}`),
    ]);
    if (stopped) return;
    body.replaceChildren(taskHeader(detail.task, detail.schedules), revisionsTable(revisions),
      runsTable(environment, name, runs, openLog));
    if (runs.some((run) => ACTIVE_STATUSES.has(run.status))) {
      timer = setTimeout(() => load().catch((error) => body.append(errorBox(error))), REFRESH_MS);
    }
  };
  await load();
  const selected = Number(search.get('run'));
  if (selected) openLog(selected);
  return () => { stopped = true; clearTimeout(timer); if (stopLog) stopLog(); };
}

function taskHeader(task, schedules) {
  const limits = [task.cpus ? `${task.cpus} CPUs` : '', task.memory_bytes ? `${Math.round(task.memory_bytes / 1048576)} MiB` : '',
    task.timeout_ms ? `timeout ${task.timeout_ms / 1000}s` : ''].filter(Boolean).join(', ');
  const facts = [
    ['Environment', task.environment],
    ['Revision', String(task.revision)],
    ['Image', el('span', { class: 'mono' }, task.pinned_image)],
    ['Repository', el('a', { href: `#/repositories/${encodeURIComponent(task.repository)}` }, task.repository)],
    ['Command', el('span', { class: 'mono' }, (task.command || []).join(' '))],
    ['Secrets', (task.secrets || []).join(', ')],
    ['Limits', limits],
    ['Schedules', schedules.map((schedule) => `${schedule.name} (${schedule.cron})`).join(', ')],
    ['Reason', task.reason || ''],
  ];
  return el('header', { class: 'run-header' },
    el('div', { class: 'crumbs' }, el('a', { href: '#/tasks' }, 'Tasks')),
    el('h1', {}, `${task.task} in ${task.environment}`),
    el('dl', { class: 'facts' }, facts.filter(([, value]) => value !== '').map(([title, value]) =>
      el('div', {}, el('dt', {}, title), el('dd', { 'data-fact': title.toLowerCase() }, value)))));
}

function revisionsTable(revisions) {
  const rows = revisions.map((revision) => el('tr', { 'data-revision': revision.revision, 'data-status': revision.status },
    el('td', { class: 'num' }, revision.revision),
    el('td', {}, revision.status),
    el('td', {}, digestCell(revision)),
    el('td', {}, formatTime(revision.created_ms)),
    el('td', { class: 'reason' }, revision.reason || '')));
  return el('section', { class: 'task-revisions' }, el('h2', {}, 'Revisions'),
    el('table', {},
      el('thead', {}, el('tr', {}, ['Revision', 'Status', 'Digest', 'Created', 'Reason'].map((title) => el('th', {}, title)))),
      el('tbody', {}, rows)));
}

function runsTable(environment, name, runs, openLog) {
  if (runs.length === 0) {
    return el('section', { class: 'task-runs' }, el('h2', {}, 'Runs'),
      el('p', { class: 'empty' }, `Never run. Start it with: slipway task run ${name} --environment ${environment}`));
  }
  const rows = runs.map((run) => el('tr', { 'data-run-id': run.id },
    el('td', {}, el('a', {
      href: taskHref(environment, name, run.id),
      onclick: (event) => { event.preventDefault(); history.replaceState(null, '', taskHref(environment, name, run.id)); openLog(run.id); },
    }, `#${run.id}`)),
    el('td', { class: 'num' }, run.revision),
    el('td', {}, run.trigger),
    el('td', {}, statusBadge(run.status)),
    el('td', { class: 'num' }, exitLabel(run)),
    el('td', {}, formatTime(run.created_ms)),
    el('td', { class: 'num' }, formatDuration(runStart(run), run.finished_ms)),
    el('td', { class: 'reason' }, run.reason || '')));
  return el('section', { class: 'task-runs' }, el('h2', {}, 'Runs'),
    el('table', {},
      el('thead', {}, el('tr', {}, ['Run', 'Revision', 'Trigger', 'Status', 'Exit', 'Started', 'Took', 'Reason']
        .map((title) => el('th', {}, title)))),
      el('tbody', {}, rows)));
}

// Loads the run's log page by page from /task-runs/ID/logs and keeps polling until the server
// says it is finished. Returns the function that stops it.
function followRunLog(panel, runId) {
  // The step log's look (web/style.css): a dark scroller of lines, stderr in red.
  const output = el('div', { class: 'log-lines task-log', 'data-run-id': runId });
  const scroller = el('div', { class: 'log-scroller', tabindex: 0 }, output);
  const state = el('p', { class: 'loading' }, 'Loading…');
  panel.replaceChildren(el('h2', {}, `Log of run #${runId}`), state, el('section', { class: 'log-view' }, scroller));
  let offset = 0;
  let stopped = false;
  let timer = null;
  const poll = async () => {
    const page = await apiGet(`/task-runs/${runId}/logs${query({ offset })}`);
    if (stopped) return;
    // A reader at the end keeps following new lines; one who scrolled up keeps their place.
    const atEnd = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
    for (const line of page.lines) {
      output.append(el('div', { class: `log-line stream-${line.stream === 'stderr' ? 'e' : 'o'}` },
        el('span', { class: 'ts' }, line.at_ms ? new Date(line.at_ms).toISOString().slice(11, 23) : ''),
        el('span', { class: 'text' }, line.text)));
    }
    while (output.childNodes.length > MAX_LOG_LINES) output.firstChild.remove();
    if (atEnd) scroller.scrollTop = scroller.scrollHeight;
    offset = page.next_offset;
    if (page.finished) {
      state.replaceWith(el('p', { class: 'log-end' }, 'Run ', statusBadge(page.status), output.childNodes.length ? '' : ' — no output'));
      return;
    }
    state.textContent = page.status === 'queued' ? 'Waiting for the container to start…' : 'Running…';
    timer = setTimeout(() => poll().catch(fail), page.lines.length ? 0 : LOG_POLL_MS);
  };
  const fail = (error) => { if (!stopped) state.replaceWith(errorBox(error)); };
  poll().catch(fail);
  return () => { stopped = true; clearTimeout(timer); };
}
