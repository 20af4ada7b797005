// The runs list (#/runs?repository=&status=&pull_request=&before=): newest first, 50 a page,
// "Older" pages through `before`; filters by repository, status and pull request; refreshes itself every few seconds while
// any run on the page is queued or running. Queued runs say why they wait.
import { apiGet, query } from './api.js';
import { ACTIVE_STATUSES, el, errorBox, formatDuration, formatTime, shortCommit, statusBadge } from './format.js';

const PAGE_SIZE = 50;
const REFRESH_MS = 3000;
const STATUSES = ['queued', 'running', 'passed', 'failed', 'cancelled'];

// The table of runs, shared with the repository page.
export function runsTable(runs) {
  if (runs.length === 0) return el('p', { class: 'empty' }, 'No runs yet.');
  const rows = runs.map((run) => el('tr', { 'data-run-id': run.id, class: `run-row status-${run.status}` },
    el('td', {}, el('a', { href: `#/runs/${run.id}` }, `#${run.id}`)),
    el('td', {}, el('a', { href: `#/repositories/${encodeURIComponent(run.repository)}` }, run.repository)),
    el('td', {}, run.branch),
    el('td', { class: 'mono' }, shortCommit(run.commit)),
    el('td', {}, run.pull_request ? pullRequestLink(run.pull_request) : run.trigger),
    el('td', {}, statusBadge(run.status),
      run.reason && run.status !== 'passed' ? el('div', { class: 'reason' }, run.reason) : null),
    el('td', {}, formatTime(run.started_ms || run.created_ms)),
    el('td', { class: 'num' }, formatDuration(run.started_ms, run.finished_ms))));
  return el('table', { class: 'runs' },
    el('thead', {}, el('tr', {}, ['Run', 'Repository', 'Branch', 'Commit', 'Trigger', 'Status', 'Started', 'Duration']
      .map((title) => el('th', {}, title)))),
    el('tbody', {}, rows));
}

// "PR #7" linking to the request on the forge (only an http(s) link: the payload is anyone's),
// its title and author as the tooltip.
export function pullRequestLink(pull) {
  const label = `PR #${pull.number}`;
  const title = `${pull.title} — ${pull.author}${pull.fork ? ` (fork ${pull.source_repository})` : ''}`;
  const safe = /^https?:\/\//.test(pull.url || '');
  return safe ? el('a', { href: pull.url, title, rel: 'noopener noreferrer', class: 'pull-request' }, label)
    : el('span', { title, class: 'pull-request' }, label);
}

export function hasActiveRuns(runs) {
  return runs.some((run) => ACTIVE_STATUSES.has(run.status));
}

export async function renderRuns(main, { search }) {
  const filters = {
    repository: search.get('repository') || '',
    status: search.get('status') || '',
    pull_request: search.get('pull_request') || '',
    before: search.get('before') || '',
  };
  const listing = el('div', { class: 'listing' });
  main.replaceChildren(el('h1', {}, 'Runs'), await filterBar(filters), listing);

  let timer = null;
  let stopped = false;
  const load = async () => {
    const answer = await apiGet(`/runs${query({ ...filters, limit: PAGE_SIZE })}`);
    if (stopped) return;
    listing.replaceChildren(runsTable(answer.runs), pager(filters, answer.next_before));
    if (hasActiveRuns(answer.runs)) timer = setTimeout(() => load().catch(showError), REFRESH_MS);
  };
  const showError = (error) => { if (!stopped) listing.replaceChildren(errorBox(error)); };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

async function filterBar(filters) {
  // The repository choices come from the server; the list still works if that call fails.
  let names = [];
  try {
    names = (await apiGet('/repositories')).repositories.map((repository) => repository.name);
  } catch (error) {
    if (error.name === 'AuthError') throw error;
  }
  const repository = select('repository', 'All repositories', names, filters.repository);
  const status = select('status', 'Any status', STATUSES, filters.status);
  const pull = el('input', { name: 'pull_request', type: 'number', min: '1', placeholder: 'any', value: filters.pull_request });
  const apply = () => {
    location.hash = `#/runs${query({ repository: repository.value, status: status.value, pull_request: pull.value })}`;
  };
  repository.addEventListener('change', apply);
  status.addEventListener('change', apply);
  pull.addEventListener('change', apply);
  return el('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); apply(); } },
    el('label', {}, 'Repository ', repository), el('label', {}, 'Status ', status),
    el('label', {}, 'Pull request ', pull));
}

function select(name, anyLabel, values, current) {
  const options = [el('option', { value: '' }, anyLabel),
    ...values.map((value) => el('option', { value, selected: value === current }, value))];
  return el('select', { name }, options);
}

function pager(filters, nextBefore) {
  const keep = { repository: filters.repository, status: filters.status, pull_request: filters.pull_request };
  return el('nav', { class: 'pager' },
    filters.before ? el('a', { href: `#/runs${query(keep)}` }, '« Newest') : null,
    nextBefore ? el('a', { href: `#/runs${query({ ...keep, before: nextBefore })}`, class: 'older' }, 'Older »') : null);
}
