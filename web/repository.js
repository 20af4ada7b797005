// A repository's page (#/repositories/NAME): where it comes from, its main branch, how its
// last run went, a form that starts a manual run, and its history of runs (paged like the runs
// list, filtered to it). The facts and the history refresh while a run is active; the form is
// built once, so a refresh never wipes what is being typed.
import { AuthError, apiGet, apiPost, query } from './api.js';
import { el, statusBadge } from './format.js';
import { hasActiveRuns, runsTable } from './runs.js';

const REFRESH_MS = 3000;
// The environments a manual run may publish to: the server's configured ones (the repository
// answer lists them); `development` when an older server does not say.
const DEFAULT_ENVIRONMENTS = ['development'];

export async function renderRepository(main, { params, search }) {
  const name = params.name;
  const before = search.get('before') || '';
  let timer = null;
  let stopped = false;
  let built = false;
  const facts = el('div', { class: 'repository-facts' });
  const listing = el('div', { class: 'listing' });

  const load = async () => {
    const [repository, history] = await Promise.all([
      apiGet(`/repositories/${encodeURIComponent(name)}`),
      apiGet(`/runs${query({ repository: name, limit: 50, before })}`),
    ]);
    if (stopped) return;
    if (!built) {
      built = true;
      main.replaceChildren(el('h1', {}, repository.name), facts, triggerForm(repository), el('h2', {}, 'History'), listing);
    }
    const last = repository.last_run;
    facts.replaceChildren(el('dl', { class: 'facts' },
      el('div', {}, el('dt', {}, 'URL'), el('dd', { class: 'mono' }, repository.url)),
      el('div', {}, el('dt', {}, 'Main branch'), el('dd', { 'data-fact': 'main-branch' }, repository.main_branch)),
      el('div', {}, el('dt', {}, 'Last run'), el('dd', { 'data-fact': 'last-run' },
        last ? [el('a', { href: `#/runs/${last.id}` }, `#${last.id}`), ' ', statusBadge(last.status)] : 'none yet'))));
    listing.replaceChildren(
      runsTable(history.runs),
      el('nav', { class: 'pager' },
        before ? el('a', { href: `#/repositories/${encodeURIComponent(name)}` }, '« Newest') : null,
        history.next_before ? el('a', { class: 'older', href: `#/repositories/${encodeURIComponent(name)}${query({ before: history.next_before })}` }, 'Older »') : null));
    if (hasActiveRuns(history.runs)) timer = setTimeout(() => load().catch(() => {}), REFRESH_MS);
  };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

function environmentNames(repository) {
  if (!Array.isArray(repository.environments)) return DEFAULT_ENVIRONMENTS;
  return repository.environments.map((environment) => (typeof environment === 'string' ? environment : environment.name))
    .filter((environment) => typeof environment === 'string' && environment !== '');
}

// "Run": a branch (the main branch by default) or a commit, and optionally an environment to
// publish to; POST /repositories/NAME/trigger with the stored token (deployer or admin), then
// the new run's page. Refusals (401, 403, 404, 400 with the server's message) stay on this page.
function triggerForm(repository) {
  const text = (fieldName, value, placeholder) => el('input', {
    name: fieldName, type: 'text', value, placeholder, autocomplete: 'off', spellcheck: 'false', size: 18,
  });
  const branch = text('branch', repository.main_branch, repository.main_branch);
  const commit = text('commit', '', 'the branch\'s head');
  const environment = el('select', { name: 'environment' },
    el('option', { value: '' }, 'none'),
    environmentNames(repository).map((name) => el('option', { value: name }, name)));
  const button = el('button', { type: 'submit' }, 'Run');
  const message = el('div', { class: 'trigger-message', 'aria-live': 'polite' });

  const submit = async (event) => {
    event.preventDefault();
    const body = {};
    if (branch.value.trim()) body.branch = branch.value.trim();
    if (commit.value.trim()) body.commit = commit.value.trim();
    if (environment.value) body.environment = environment.value;
    button.disabled = true;
    message.replaceChildren(el('p', { class: 'note' }, 'Starting a run…'));
    try {
      const created = await apiPost(`/repositories/${encodeURIComponent(repository.name)}/trigger`, body);
      location.hash = `#/runs/${created.id}`;
    } catch (error) {
      message.replaceChildren(triggerError(error));
      button.disabled = false;
    }
  };

  return el('section', { class: 'trigger' },
    el('h2', {}, 'Run'),
    el('form', { class: 'filters trigger-form', onsubmit: submit },
      el('label', {}, 'Branch ', branch),
      el('label', {}, 'Commit ', commit),
      el('label', {}, 'Environment ', environment),
      button),
    message);
}

// The server's message, and for a missing (401) or too weak (403) token a way to give another.
function triggerError(error) {
  const box = el('div', { class: 'error', 'data-trigger-error': error.status || (error instanceof AuthError ? 401 : '') });
  if (error instanceof AuthError) {
    box.append(`Starting a run needs a deployer or admin token. ${error.message}`, ' ', signInButton('Sign in'));
  } else if (error.status === 403) {
    box.append(error.message, ' ', signInButton('Use another token'));
  } else {
    box.append(error && error.message ? error.message : String(error));
  }
  return box;
}

// Opens the page's token dialog (index.html); when a token is entered, the app stores it and
// renders this page again.
function signInButton(label) {
  return el('button', { type: 'button', class: 'link', onclick: () => {
    const dialog = document.getElementById('token-dialog');
    const problem = document.getElementById('token-error');
    if (problem) problem.hidden = true;
    if (dialog && !dialog.open) dialog.showModal();
  } }, label);
}
