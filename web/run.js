// The run page (#/runs/ID): what ran (repository, commit, branch, trigger), how it went
// (status, reason, duration), its jobs and their steps, what was published per environment, cancel and re-run (a deployer token is
// needed; the server says so otherwise), and the test report once the run has one. While the
// run is queued or running the page refreshes itself.
import { apiGet, apiPost } from './api.js';
import { ACTIVE_STATUSES, el, errorBox, formatDuration, formatTime, shortCommit, statusBadge } from './format.js';
import { renderReport } from './report.js';
import { pullRequestLink } from './runs.js';

const REFRESH_MS = 2000;

export async function renderRun(main, { params }) {
  const runId = params.run;
  let timer = null;
  let stopped = false;
  let reportShown = false;
  const reportSlot = el('div', { class: 'report-slot' });
  const body = el('div');
  main.replaceChildren(body, reportSlot);

  const load = async () => {
    const run = await apiGet(`/runs/${runId}`);
    if (stopped) return;
    // replaceChildren() would show a null (a run without artifacts) as the text "null".
    body.replaceChildren(...[header(run), actions(run), jobs(run), artifacts(run)].filter(Boolean));
    const active = ACTIVE_STATUSES.has(run.status);
    if (!active && !reportShown) {
      reportShown = true;
      reportSlot.replaceChildren(await report(runId));
    }
    if (active) timer = setTimeout(() => load().catch((error) => body.append(errorBox(error))), REFRESH_MS);
  };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

function header(run) {
  const facts = [
    ['Repository', el('a', { href: `#/repositories/${encodeURIComponent(run.repository)}` }, run.repository)],
    ['Commit', el('span', { class: 'mono', title: run.commit }, shortCommit(run.commit))],
    ['Branch', run.branch],
    ['Trigger', run.trigger],
    ['Status', statusBadge(run.status)],
    ['Reason', run.reason || ''],
    ['Started', formatTime(run.started_ms)],
    ['Duration', formatDuration(run.started_ms, run.finished_ms)],
  ];
  if (run.environments && run.environments.length) facts.push(['Environments', run.environments.join(', ')]);
  const pull = run.pull_request;
  if (pull) {
    facts.push(['Pull request', el('span', {}, pullRequestLink(pull), ` ${pull.title} by ${pull.author}`)]);
    facts.push(['Merges', `${pull.source} → ${pull.target}${pull.fork ? ` (from the fork ${pull.source_repository}: no secrets)` : ''}`]);
  }
  return el('header', { class: 'run-header' },
    el('h1', {}, `Run #${run.id}`),
    el('dl', { class: 'facts' }, facts.filter(([, value]) => value !== '').map(([name, value]) =>
      el('div', {}, el('dt', {}, name), el('dd', { 'data-fact': name.toLowerCase() }, value)))));
}

function actions(run) {
  const message = el('span', { class: 'action-message', role: 'status' });
  const act = (label, perform) => el('button', { type: 'button', onclick: async (event) => {
    event.target.disabled = true;
    try {
      await perform();
    } catch (error) {
      message.replaceChildren(errorBox(error));
      event.target.disabled = false;
    }
  } }, label);
  const active = ACTIVE_STATUSES.has(run.status);
  return el('div', { class: 'actions' },
    active ? act('Cancel', async () => {
      await apiPost(`/runs/${run.id}/cancel`);
      message.textContent = 'Cancelling…';
    }) : null,
    act('Re-run', async () => {
      const created = await apiPost(`/runs/${run.id}/rerun`);
      location.hash = `#/runs/${created.id}`;
    }),
    message);
}

function jobs(run) {
  const section = el('section', { class: 'jobs' }, el('h2', {}, 'Jobs'));
  if (!run.jobs || run.jobs.length === 0) {
    section.append(el('p', { class: 'empty' }, run.status === 'queued' ? 'Not started yet.' : 'No jobs.'));
    return section;
  }
  for (const job of run.jobs) {
    section.append(el('div', { class: 'job', 'data-job': job.name },
      el('h3', {}, job.name, job.environment ? ` (${job.environment})` : '', ' ', statusBadge(job.status),
        el('span', { class: 'duration' }, formatDuration(job.started_ms, job.finished_ms))),
      job.reason ? el('p', { class: 'reason' }, job.reason) : null,
      stepsTable(run, job.steps || [])));
  }
  return section;
}

function stepsTable(run, steps) {
  const rows = steps.map((step) => el('tr', { 'data-step-id': step.id, 'data-step': step.name },
    el('td', { class: 'num' }, step.position),
    el('td', {}, el('a', { href: `#/runs/${run.id}/steps/${step.id}` }, step.name)),
    el('td', {}, step.kind),
    el('td', {}, statusBadge(step.status)),
    el('td', { class: 'num' }, formatDuration(step.started_ms, step.finished_ms)),
    el('td', { class: 'num' }, step.exit_code === null || step.exit_code === undefined ? '' : step.exit_code),
    el('td', { class: 'reason' }, step.reason || '')));
  return el('table', { class: 'steps' },
    el('thead', {}, el('tr', {}, ['#', 'Step', 'Kind', 'Status', 'Duration', 'Exit', 'Reason'].map((title) => el('th', {}, title)))),
    el('tbody', {}, rows));
}

// What the publish jobs produced, per environment: the image by digest, the synced DAGs, each
// function zip and the version tag. Only verified artifacts are recorded, so this is the truth.
function artifacts(run) {
  const list = run.artifacts || [];
  if (list.length === 0) return null;
  const rows = list.map((artifact) => el('tr', { 'data-artifact': artifact.kind, 'data-environment': artifact.environment },
    el('td', {}, artifact.environment),
    el('td', {}, artifact.kind),
    el('td', { class: 'mono' }, artifact.name),
    el('td', { class: 'mono', title: artifact.reference }, artifact.reference),
    el('td', {}, artifact.detail || '')));
  return el('section', { class: 'artifacts' }, el('h2', {}, 'Published'),
    el('table', { class: 'artifacts' },
      el('thead', {}, el('tr', {}, ['Environment', 'Kind', 'Name', 'Digest or URL', 'Detail'].map((title) => el('th', {}, title)))),
      el('tbody', {}, rows)));
}

// The report is optional: a run that failed before its suites has none (404).
async function report(runId) {
  try {
    return renderReport(await apiGet(`/runs/${runId}/report`));
  } catch (error) {
    if (error.status === 404) return el('p', { class: 'empty' }, 'This run has no test report.');
    if (error.name === 'AuthError') throw error;
    return errorBox(error);
  }
}
