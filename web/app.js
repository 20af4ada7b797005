// The UI's entry point: a hash router (#/runs, #/runs/ID, #/runs/ID/steps/STEP_ID,
// #/repositories/NAME, #/deployments, #/deployments/ID, #/tasks, #/tasks/ENV/NAME) that renders one page at a time into <main>, and the token prompt.
// Each page's render(main, route) returns a cleanup function (timers, streams), called when
// the route changes. A page that meets a 401 brings up the prompt, then renders again.
import { AuthError, storeToken, storedToken } from './api.js';
import { renderDeployment, renderDeployments } from './deployments.js';
import { el, errorBox } from './format.js';
import { renderStepLog } from './log_view.js';
import { renderRepository } from './repository.js';
import { renderRun } from './run.js';
import { renderRuns } from './runs.js';
import { renderTask, renderTasks } from './tasks.js';

const ROUTES = [
  { pattern: /^\/runs$/, names: [], render: renderRuns, title: 'Runs' },
  { pattern: /^\/runs\/(\d+)$/, names: ['run'], render: renderRun, title: 'Run' },
  { pattern: /^\/runs\/(\d+)\/steps\/(\d+)$/, names: ['run', 'step'], render: renderStepLog, title: 'Log' },
  { pattern: /^\/repositories\/([^/]+)$/, names: ['name'], render: renderRepository, title: 'Repository' },
  { pattern: /^\/deployments$/, names: [], render: renderDeployments, title: 'Deployments' },
  { pattern: /^\/deployments\/(\d+)$/, names: ['deployment'], render: renderDeployment, title: 'Deployment' },
  { pattern: /^\/tasks$/, names: [], render: renderTasks, title: 'Tasks' },
  { pattern: /^\/tasks\/([^/]+)\/([^/]+)$/, names: ['environment', 'name'], render: renderTask, title: 'Task' },
];

const main = document.getElementById('main');
let cleanup = null;
let generation = 0;  // a newer navigation wins over a slower, older render

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path, search = ''] = hash.split('?');
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    return { route, params, search: new URLSearchParams(search) };
  }
  return null;
}

async function navigate() {
  if (cleanup) cleanup();
  cleanup = null;
  const mine = ++generation;
  const target = parseHash();
  if (!target) {
    main.replaceChildren(el('h1', {}, 'Not found'), el('p', {}, el('a', { href: '#/runs' }, 'All runs')));
    return;
  }
  document.title = `${target.route.title} · Slipway`;
  main.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
  try {
    const done = await target.route.render(main, target);
    if (mine === generation) cleanup = done || null;
    else if (done) done();
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof AuthError) askForToken(error.message);
    else main.replaceChildren(errorBox(error));
  }
}

function askForToken(message) {
  const dialog = document.getElementById('token-dialog');
  const problem = document.getElementById('token-error');
  // A stored token that earned a 401 is wrong or revoked: say so.
  problem.hidden = !storedToken();
  problem.textContent = storedToken() ? `The stored token was refused: ${message}` : '';
  main.replaceChildren(el('p', {}, 'Sign in to see this page.'));
  if (!dialog.open) dialog.showModal();
}

function setUp() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const dialog = document.getElementById('token-dialog');
  const signOut = document.getElementById('sign-out');
  form.addEventListener('submit', () => {
    storeToken(input.value.trim());
    input.value = '';
    signOut.hidden = false;
    dialog.close();
    navigate();
  });
  signOut.hidden = !storedToken();
  signOut.addEventListener('click', () => {
    storeToken('');
    signOut.hidden = true;
    navigate();
  });
  window.addEventListener('hashchange', navigate);
  if (!location.hash) history.replaceState(null, '', '#/runs');
  navigate();
}

setUp();
