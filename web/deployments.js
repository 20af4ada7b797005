// The deployments pages. #/deployments: a timeline per environment — for each application there,
// the live version on top, then its deployments newest first with their outcome badges.
// #/deployments/ID: one deployment's facts and each step with its time and its offset from the
// start. Both refresh themselves every few seconds while a deployment they show is in flight.
import { apiGet, query } from './api.js';
import { el, errorBox, formatDuration, formatTime } from './format.js';

const REFRESH_MS = 3000;
const HISTORY_SIZE = 20;

export function shortDigest(digest) {
  return (digest || '').replace(/^sha256:/, '').slice(0, 12);
}

function versionLabel(deployment) {
  const digest = shortDigest(deployment.digest);
  return deployment.tag ? `${deployment.tag} (${digest})` : digest;
}

// The outcome once it ended, else the state it is in (shown like a running run).
function deploymentBadge(deployment) {
  const status = deployment.outcome || deployment.state || 'unknown';
  const kinds = { succeeded: 'succeeded', failed: 'failed', rolled_back: 'rolled_back', superseded: 'cancelled' };
  const kind = deployment.outcome ? (kinds[status] || 'other') : 'running';
  return el('span', { class: `badge badge-${kind}`, 'data-status': status }, status.replace('_', ' '));
}

function deploymentLink(deployment) {
  return el('a', { href: `#/deployments/${deployment.id}` }, `#${deployment.id}`);
}

export async function renderDeployments(main) {
  const listing = el('div', { class: 'deployments' });
  main.replaceChildren(el('h1', {}, 'Deployments'), listing);
  let timer = null;
  let stopped = false;
  const load = async () => {
    const { current } = await apiGet('/deployments/current');
    const histories = await Promise.all(current.map((pair) =>
      apiGet(`/deployments${query({ application: pair.application, environment: pair.environment, limit: HISTORY_SIZE })}`)));
    if (stopped) return;
    listing.replaceChildren(...timelines(current, histories.map((answer) => answer.deployments)));
    if (current.some((pair) => pair.active)) timer = setTimeout(() => load().catch(showError), REFRESH_MS);
  };
  const showError = (error) => { if (!stopped) listing.replaceChildren(errorBox(error)); };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

// One section per environment, one timeline per application in it.
function timelines(current, histories) {
  if (current.length === 0) {
    return [el('p', { class: 'empty' }, 'No deployments yet. A new image pushed to an environment\'s registry starts one.')];
  }
  const environments = [...new Set(current.map((pair) => pair.environment))].sort();
  return environments.map((environment) => el('section', { class: 'environment', 'data-environment': environment },
    el('h2', {}, environment),
    current.map((pair, i) => (pair.environment === environment ? timeline(pair, histories[i]) : null))));
}

function timeline(pair, deployments) {
  const live = pair.deployment;
  return el('div', { class: 'timeline', 'data-application': pair.application },
    el('h3', {}, el('a', { href: `#/repositories/${encodeURIComponent(pair.application)}` }, pair.application)),
    el('p', { class: 'live' }, live
      ? ['Live: ', el('span', { class: 'mono', title: live.image }, versionLabel(live)), ' ', deploymentLink(live),
        ` since ${formatTime(live.finished_ms)}`]
      : el('span', { class: 'empty' }, 'Nothing live yet.')),
    pair.active ? el('p', { class: 'in-flight' }, 'In flight: ', deploymentLink(pair.active), ' ',
      el('span', { class: 'mono' }, versionLabel(pair.active)), ' ', deploymentBadge(pair.active)) : null,
    historyTable(deployments));
}

function historyTable(deployments) {
  const rows = deployments.map((deployment) => el('tr', { 'data-deployment-id': deployment.id },
    el('td', {}, deploymentLink(deployment)),
    el('td', {}, deployment.kind),
    el('td', {}, deploymentBadge(deployment)),
    el('td', { class: 'mono', title: deployment.image }, versionLabel(deployment)),
    el('td', {}, formatTime(deployment.created_ms)),
    el('td', { class: 'num' }, formatDuration(deployment.created_ms, deployment.finished_ms)),
    el('td', { class: 'reason' }, deployment.reason || '')));
  return el('table', { class: 'deployments' },
    el('thead', {}, el('tr', {}, ['Deployment', 'Kind', 'Outcome', 'Version', 'Started', 'Took', 'Reason']
      .map((title) => el('th', {}, title)))),
    el('tbody', {}, rows));
}

export async function renderDeployment(main, { params }) {
  const body = el('div');
  main.replaceChildren(body);
  let timer = null;
  let stopped = false;
  const load = async () => {
    const deployment = await apiGet(`/deployments/${params.deployment}`);
    if (stopped) return;
    body.replaceChildren(header(deployment), stepsTable(deployment));
    if (!deployment.outcome) timer = setTimeout(() => load().catch((error) => body.append(errorBox(error))), REFRESH_MS);
  };
  await load();
  return () => { stopped = true; clearTimeout(timer); };
}

function header(deployment) {
  const facts = [
    ['Application', el('a', { href: `#/repositories/${encodeURIComponent(deployment.application)}` }, deployment.application)],
    ['Environment', deployment.environment],
    ['Kind', deployment.kind],
    ['Outcome', deploymentBadge(deployment)],
    ['Version', el('span', { class: 'mono', title: deployment.image }, versionLabel(deployment))],
    ['Reason', deployment.reason || ''],
    ['Container', deployment.container ? `${deployment.container} (${deployment.slot}, port ${deployment.port}${
      deployment.container_state ? `, ${deployment.container_state}` : ''})` : ''],
    ['Previous', deployment.previous_id ? el('a', { href: `#/deployments/${deployment.previous_id}` }, `#${deployment.previous_id}`) : ''],
    ['Started', formatTime(deployment.created_ms)],
    ['Took', formatDuration(deployment.created_ms, deployment.finished_ms)],
  ];
  return el('header', { class: 'run-header' },
    el('div', { class: 'crumbs' }, el('a', { href: '#/deployments' }, 'Deployments')),
    el('h1', {}, `Deployment #${deployment.id}`),
    el('dl', { class: 'facts' }, facts.filter(([, value]) => value !== '').map(([name, value]) =>
      el('div', {}, el('dt', {}, name), el('dd', { 'data-fact': name.toLowerCase() }, value)))));
}

function offset(step, startedMs) {
  return `+${(Math.max(0, step.at_ms - startedMs) / 1000).toFixed(1)}s`;
}

function stepsTable(deployment) {
  const steps = deployment.steps || [];
  const rows = steps.map((step) => el('tr', { 'data-state': step.state },
    el('td', { class: 'num mono' }, offset(step, deployment.created_ms)),
    el('td', {}, formatTime(step.at_ms)),
    el('td', {}, step.state),
    el('td', {}, step.message)));
  return el('section', { class: 'deployment-steps' }, el('h2', {}, 'Steps'),
    el('table', { class: 'steps' },
      el('thead', {}, el('tr', {}, ['Offset', 'At', 'State', 'What happened'].map((title) => el('th', {}, title)))),
      el('tbody', {}, rows)));
}
