// The web UI end to end: the real `slipway serve` ($SLIPWAY_BINARY), a real git repository, and
// Debian's chromium. It signs in with the token, finds the run in the list, reads the run page
// (jobs, steps, the failure, the summary), opens a 20 MB log at its tail with a bounded DOM,
// follows a live log, opens the repository page and starts a run from its form, cancels and re-runs a run, filters
// the list by status and pages to older runs, and reads the deployments and tasks pages over
// deployments and a task run the real controller and runner made on dockerd (./ui_world.mjs);
// each page is saved as a screenshot in $SLIPWAY_UI_ARTIFACTS (docs/ui.md names them). Run it
// through ./run-ui-tests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser } from './browser.mjs';
import { BIG_LOG_LAST_LINE, FAILURE_MESSAGE, LIVE_TICKS, createFixtureRepository } from './fixture_repository.mjs';
import { ADMIN_TOKEN, SlipwayServer } from './slipway_server.mjs';
import { UiWorld } from './ui_world.mjs';

const MAX_LOG_LINES = 5000;  // web/log_view.js MAX_LINES: the DOM bound the log view promises

const binary = process.env.SLIPWAY_BINARY;
const artifacts = process.env.SLIPWAY_UI_ARTIFACTS || path.resolve('test-artifacts/ui');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-ui-'));

let server;
let world;
let browser;
let page;
let reportRun;

before(async () => {
  assert.ok(binary && fs.existsSync(binary), 'set SLIPWAY_BINARY to the built slipway binary');
  fs.mkdirSync(artifacts, { recursive: true });
  // Started first: its deployments and task run are made while the rest of the suite runs.
  world = new UiWorld({ executable: process.env.SLIPWAY_UI_WORLD, logPath: path.join(artifacts, 'ui-world.log') });
  world.start();
  const repositoryPath = createFixtureRepository(path.join(work, 'webapp'));
  server = new SlipwayServer({ binary, workDirectory: work, repositoryPath, logPath: path.join(artifacts, 'server.log') });
  await server.start();
  const id = await server.trigger('webapp', 'feature/report');
  reportRun = await server.waitForRun(id, (run) => !['queued', 'running'].includes(run.status));
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
});

after(async () => {
  // Always: the server first, so that nothing outlives the test even if the browser hangs.
  if (server) await server.stop();
  if (world) await world.stop();
  if (browser) await browser.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function screenshot(name) {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

test('the UI is served from the binary with a self-only Content-Security-Policy', async () => {
  const response = await page.goto(`${server.base}/`);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers['content-security-policy'], /default-src 'self'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.ok(headers.etag, 'index.html has an ETag');
  const script = await page.request.get(`${server.base}/assets/app.js`);
  assert.match(script.headers()['content-type'], /javascript/);
});

test('asks for the token, then lists the run', async () => {
  await page.goto(`${server.base}/#/runs`);
  const dialog = page.locator('#token-dialog');
  await dialog.waitFor({ state: 'visible' });
  await screenshot('sign-in.png');
  await page.fill('#token-input', ADMIN_TOKEN);
  await page.click('#token-form button[type=submit]');
  const row = page.locator(`tr[data-run-id="${reportRun.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /webapp/);
  assert.match(await row.textContent(), /feature\/report/);
  assert.equal(await row.locator('.badge').getAttribute('data-status'), 'failed');
  await screenshot('runs.png');
});

test('the run page shows jobs, steps, the failure and the summary', async () => {
  await page.click(`tr[data-run-id="${reportRun.id}"] a[href="#/runs/${reportRun.id}"]`);
  await page.locator('h1', { hasText: `Run #${reportRun.id}` }).waitFor();
  for (const step of ['passing', 'failing', 'big-log']) {
    await page.locator(`tr[data-step="${step}"]`).waitFor();
  }
  await page.locator('.failure .message', { hasText: FAILURE_MESSAGE }).waitFor();
  const summary = page.locator('.summary');
  await summary.locator(':is(h3, h4, h5, h6)', { hasText: 'Coverage' }).waitFor();
  assert.equal(await summary.locator('table td', { hasText: '87%' }).count(), 1, 'the Markdown table is rendered');
  // The summary's raw HTML is shown as text and never runs.
  assert.equal(await summary.locator('script').count(), 0);
  assert.match(await summary.textContent(), /<script>window\.injected = 1<\/script>/);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  await screenshot('run.png');
});

test('a 20 MB log opens at its tail with a bounded number of lines', async () => {
  await page.click('tr[data-step="big-log"] a');
  const scroller = page.locator('.log-scroller');
  const last = page.locator('.log-line', { hasText: BIG_LOG_LAST_LINE });
  await last.waitFor();
  assert.ok(await isInside(last, scroller), 'the last line is in view when the log opens');
  const opened = await page.locator('.log-line').count();
  assert.ok(opened > 100 && opened <= MAX_LOG_LINES, `${opened} line elements after opening`);
  await screenshot('log-tail.png');

  // Scrolling to the top fetches the range before the window, and the DOM stays bounded.
  const firstOffset = async () => Number(await page.locator('.log-page').first().getAttribute('data-offset'));
  const startOffset = await firstOffset();
  // Each scroll to the top waits for the earlier range itself to arrive, never for a time.
  for (let i = 0; i < 8; i++) {
    const before = await firstOffset();
    if (before === 0) break;
    await scroller.evaluate((element) => { element.scrollTop = 0; element.dispatchEvent(new Event('scroll')); });
    await page.waitForFunction(
      (previous) => Number(document.querySelector('.log-page')?.getAttribute('data-offset')) < previous, before);
  }
  assert.ok(await firstOffset() < startOffset, 'earlier lines were loaded');
  const lines = await page.locator('.log-line').count();
  assert.ok(lines <= MAX_LOG_LINES, `${lines} line elements after loading earlier ranges`);
  await screenshot('log-earlier.png');
});

test('a running step\'s log follows new lines live', async () => {
  const id = await server.trigger('webapp', 'feature/live');
  const running = await server.waitForRun(id, (run) => liveStep(run)?.status === 'running', 60_000);
  await page.goto(`${server.base}/#/runs/${id}/steps/${liveStep(running).id}`);
  const ticks = page.locator('.log-line', { hasText: /tick \d+/ });
  await ticks.first().waitFor();
  const seenFirst = await ticks.count();
  assert.ok(seenFirst < LIVE_TICKS, `the step was still printing when the log opened (${seenFirst} ticks)`);
  await screenshot('log-live.png');
  await page.locator('.log-line', { hasText: `tick ${LIVE_TICKS}` }).waitFor({ timeout: 30_000 });
  await page.locator('.log-state', { hasText: 'complete' }).waitFor({ timeout: 30_000 });
  assert.equal(await ticks.count(), LIVE_TICKS, 'every line once, in order, without a reload');
});

test('a step log opened by its address names the step, and refuses another run\'s step', async () => {
  const step = reportRun.jobs[0].steps[0];
  await page.goto(`${server.base}/#/runs/${reportRun.id}/steps/${step.id}`);
  await page.locator('h1', { hasText: step.name }).waitFor();
  assert.ok(!(await page.locator('h1').textContent()).includes(`Step ${step.id}`), 'the step\'s name, not its number');
  const other = await server.trigger('webapp', 'feature/report');
  await page.goto(`${server.base}/#/runs/${other}/steps/${step.id}`);
  await page.locator('h1', { hasText: 'No such step' }).waitFor();
  assert.equal(await page.locator('.log-line').count(), 0, 'no other run\'s log is shown');
  await page.locator('main p.error', { hasText: `Run #${other} has no step ${step.id}` }).waitFor();
  await server.waitForRun(other, (run) => !['queued', 'running'].includes(run.status));
});

test('a pull request\'s run shows the request, and the list filters by it', async () => {
  const head = execFileSync('git', ['-C', server.repositoryPath, 'rev-parse', 'main']).toString().trim();
  const payload = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../unit/fixtures/webhooks/github/pull_request.opened.json');
  const id = await server.openPullRequest('webapp', payload, { number: 42, commit: head, source: 'feature/login', fork: 'mallory/webapp' });
  await server.waitForRun(id, (run) => !['queued', 'running'].includes(run.status));
  await page.goto(`${server.base}/#/runs?pull_request=42`);
  const row = page.locator(`tr[data-run-id="${id}"]`);
  await row.waitFor();
  assert.equal(await page.locator('tr.run-row').count(), 1, 'only the pull request\'s run is listed');
  const link = row.locator('a.pull-request');
  assert.equal((await link.textContent()).trim(), 'PR #42');
  assert.equal(await link.getAttribute('href'), 'https://github.com/Codertocat/Hello-World/pull/2');
  await page.goto(`${server.base}/#/runs/${id}`);
  const fact = page.locator('[data-fact="pull request"]');
  await fact.waitFor();
  assert.match(await fact.textContent(), /PR #42 Update the README with new information\. by Codertocat/);
  assert.match(await page.locator('[data-fact="merges"]').textContent(), /feature\/login → master \(from the fork mallory\/webapp: no secrets\)/);
  const strayNull = await page.evaluate(() => [document.querySelector('main'), ...document.querySelectorAll('main *')]
    .some((node) => [...node.childNodes].some((child) => child.nodeType === 3 && child.textContent.trim() === 'null')));
  assert.equal(strayNull, false, 'no "null" text where a section is absent');
  await screenshot('pull-request.png');
});

test('the repository page shows its history', async () => {
  await page.goto(`${server.base}/#/repositories/webapp`);
  await page.locator('h1', { hasText: 'webapp' }).waitFor();
  assert.equal((await page.locator('[data-fact="main-branch"]').textContent()).trim(), 'main');
  await page.locator(`tr[data-run-id="${reportRun.id}"]`).waitFor();
  assert.ok(await page.locator('tr.run-row').count() >= 2, 'both runs are in the history');
  await screenshot('repository.png');
});

test('a run started from the repository page opens its page; refusals stay inline', async () => {
  const form = page.locator('form.trigger-form');
  const refusal = page.locator('.trigger-message .error');
  const openForm = async () => {
    // A reload: going to the same address again would only be a fragment navigation.
    await page.goto(`${server.base}/#/repositories/webapp`);
    await page.reload();
    await page.locator('h1', { hasText: 'webapp' }).waitFor();
    await form.waitFor();
  };
  await openForm();
  assert.equal(await form.locator('input[name="branch"]').inputValue(), 'main', 'the branch defaults to the main branch');
  const environments = await form.locator('select[name="environment"] option').evaluateAll(
    (options) => options.map((option) => option.value));
  assert.deepEqual(environments, ['', 'development', 'staging', 'production'], 'the server\'s configured environments');

  // A branch that does not exist: the server's 400 message, on the same page.
  await form.locator('input[name="branch"]').fill('no-such-branch');
  await form.locator('button[type="submit"]').click();
  await refusal.waitFor();
  assert.equal(await refusal.count(), 1);
  assert.match(await refusal.textContent(), /no branch 'no-such-branch'/);
  assert.equal(await refusal.getAttribute('data-trigger-error'), '400');
  assert.match(await page.evaluate(() => location.hash), /^#\/repositories\/webapp$/);
  assert.equal(await form.locator('button[type="submit"]').isEnabled(), true, 'the form can be sent again');

  // A read-only token: 403, and a way to give another token.
  const reader = await server.createToken('ui-reader', 'read-only');
  await page.evaluate((token) => localStorage.setItem('slipway.token', token), reader);
  await openForm();
  assert.equal(await refusal.count(), 0, 'a fresh page shows no refusal');
  await form.locator('button[type="submit"]').click();
  await refusal.waitFor();
  assert.equal(await refusal.getAttribute('data-trigger-error'), '403');
  assert.match(await refusal.textContent(), /read-only/);
  await screenshot('trigger-refused.png');
  await refusal.locator('button', { hasText: 'Use another token' }).click();
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', ADMIN_TOKEN);
  await page.click('#token-form button[type=submit]');
  await refusal.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => localStorage.getItem('slipway.token')), ADMIN_TOKEN);

  // Branch, commit and environment with the admin token: the new run's page opens.
  await form.waitFor();
  await form.locator('input[name="branch"]').fill('feature/report');
  await form.locator('input[name="commit"]').fill(reportRun.commit);
  await form.locator('select[name="environment"]').selectOption('development');
  await form.locator('button[type="submit"]').click();
  await page.waitForFunction((previous) => {
    const match = /^#\/runs\/(\d+)$/.exec(location.hash);
    return match && Number(match[1]) > previous;
  }, reportRun.id);
  const id = Number((await page.evaluate(() => location.hash)).split('/').pop());
  await page.locator('h1', { hasText: `Run #${id}` }).waitFor();
  assert.equal((await page.locator('[data-fact="trigger"]').textContent()).trim(), 'manual');
  assert.equal((await page.locator('[data-fact="branch"]').textContent()).trim(), 'feature/report');
  assert.equal(await page.locator('[data-fact="commit"] span').getAttribute('title'), reportRun.commit);
  assert.equal((await page.locator('[data-fact="environments"]').textContent()).trim(), 'development');
  await screenshot('trigger.png');

  // The server has the run as the form asked for it; let it finish before the server stops.
  const run = await server.waitForRun(id, (candidate) => !['queued', 'running'].includes(candidate.status));
  assert.equal(run.trigger, 'manual');
  assert.equal(run.commit, reportRun.commit);
  assert.deepEqual(run.environments, ['development']);
});

// Opens `route` on one of the world's servers and signs in there, as a person would: it is an
// origin of its own, so it asks for its own token.
async function signIn(target, route) {
  await page.goto(`${target.base}/${route}`);
  const dialog = page.locator('#token-dialog');
  await dialog.waitFor({ state: 'visible' });
  await page.fill('#token-input', target.token);
  await page.click('#token-form button[type=submit]');
  await dialog.waitFor({ state: 'hidden' });
}

async function apiGet(target, route) {
  const answer = await page.request.get(`${target.base}${route}`, { headers: { Authorization: `Bearer ${target.token}` } });
  assert.equal(answer.status(), 200, `${route}: ${await answer.text()}`);
  return answer.json();
}

const short = (digest) => digest.substring(7, 19);

test('the deployments page shows the live version, its history and the steps the controller wrote', async () => {
  const { deployments: target } = await world.ready;
  const second = await apiGet(target, '/api/v1/deployments/2');
  await signIn(target, '#/deployments');
  const timeline = page.locator('section[data-environment="production"] .timeline[data-application="hello"]');
  await timeline.waitFor();
  assert.match(await timeline.locator('.live').textContent(), new RegExp(`Live: v2 \\(${short(second.digest)}\\) #2`));
  for (const id of [1, 2]) {
    assert.equal(await timeline.locator(`tr[data-deployment-id="${id}"] .badge`).getAttribute('data-status'), 'succeeded');
  }
  await screenshot('deployments.png');
  await timeline.locator('tr[data-deployment-id="2"] a', { hasText: '#2' }).click();
  await page.locator('h1', { hasText: 'Deployment #2' }).waitFor();
  // Every step, in the order the controller wrote them.
  const states = await page.locator('.deployment-steps tbody tr').evaluateAll((rows) => rows.map((row) => row.dataset.state));
  assert.deepEqual(states, second.steps.map((step) => step.state));
  assert.ok(states.includes('switching') && states.at(-1) === 'succeeded', states.join(' '));
  const rows = await page.locator('.deployment-steps tbody tr').allTextContents();
  second.steps.forEach((step, i) => assert.ok(rows[i].includes(step.message), `${rows[i]} has "${step.message}"`));
  assert.ok(second.steps.some((step) => /green healthy/.test(step.message)), JSON.stringify(second.steps));
  await screenshot('deployment.png');
});

test('the tasks pages show each task\'s revision and last run, its revisions, runs and a run\'s log', async () => {
  const { tasks: target } = await world.ready;
  const revisions = (await apiGet(target, '/api/v1/tasks/export/revisions?environment=production')).revisions;
  const log = await apiGet(target, '/api/v1/task-runs/1/logs');
  assert.equal(revisions.length, 2);
  await signIn(target, '#/tasks');
  const row = page.locator('section[data-environment="production"] tr[data-task="export"]');
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`export2${short(revisions[0].digest)}`));
  assert.equal(await row.locator('.badge').getAttribute('data-status'), 'succeeded');
  await screenshot('tasks.png');
  await row.locator('a', { hasText: 'export' }).click();
  await page.locator('h1', { hasText: 'export in production' }).waitFor();
  assert.equal(await page.locator('.task-revisions tbody tr').count(), 2);
  assert.match(await page.locator('.task-revisions tr[data-revision="1"]').textContent(),
    new RegExp(`inactive.*${short(revisions[1].digest)}`));
  await page.locator('.task-runs tr[data-run-id="1"] a', { hasText: '#1' }).click();
  const output = page.locator('.task-log[data-run-id="1"]');
  await page.locator('.log-end').waitFor();
  // The lines the runner stored, as the API reads them: the secret masked, stderr marked.
  assert.deepEqual(await output.locator('.log-line .text').allTextContents(), log.lines.map((line) => line.text));
  assert.ok(log.lines.some((line) => line.text === 'WAREHOUSE_URL=***'), JSON.stringify(log.lines));
  assert.equal(await output.locator('.log-line.stream-e').count(), log.lines.filter((line) => line.stream === 'stderr').length);
  assert.match(page.url(), /#\/tasks\/production\/export\?run=1$/);
  await screenshot('task.png');
});

test('a run is cancelled and re-run from its page; the list filters by status and pages to older runs', async () => {
  // Cancel: the live branch prints for 10 s, so its run is still running when the button is pressed.
  const id = await server.trigger('webapp', 'feature/live');
  await server.waitForRun(id, (run) => run.status === 'running', 60_000);
  await page.goto(`${server.base}/#/runs/${id}`);
  await page.locator('h1', { hasText: `Run #${id}` }).waitFor();
  await page.locator('.actions button', { hasText: 'Cancel' }).click();
  const cancelled = await server.waitForRun(id, (run) => run.status === 'cancelled', 60_000);
  assert.equal(cancelled.status, 'cancelled');
  await screenshot('run-cancelled.png');

  // Re-run: a new manual run of the same commit, whose page opens.
  await page.locator('.actions button', { hasText: 'Re-run' }).click();
  await page.waitForFunction((previous) => {
    const match = /^#\/runs\/(\d+)$/.exec(location.hash);
    return match && Number(match[1]) > previous;
  }, id);
  const rerunId = Number((await page.evaluate(() => location.hash)).split('/').pop());
  await page.locator('h1', { hasText: `Run #${rerunId}` }).waitFor();
  const rerun = await server.api('GET', `/runs/${rerunId}`);
  assert.equal(rerun.commit, cancelled.commit);
  assert.equal(rerun.branch, 'feature/live');
  assert.equal(rerun.trigger, 'manual');
  await server.api('POST', `/runs/${rerunId}/cancel`);
  await server.waitForRun(rerunId, (run) => run.status === 'cancelled', 60_000);

  // The status filter: only cancelled runs, these two among them, and the address says so.
  await page.goto(`${server.base}/#/runs`);
  await page.locator('tr.run-row').first().waitFor();
  await page.locator('select[name="status"]').selectOption('cancelled');
  await page.waitForFunction(() => /[?&]status=cancelled/.test(location.hash));
  await page.locator(`tr.run-row[data-run-id="${rerunId}"]`).waitFor();
  const classes = await page.locator('tr.run-row').evaluateAll((rows) => rows.map((row) => row.className));
  assert.ok(classes.length >= 2 && classes.every((name) => name.includes('status-cancelled')), classes.join(', '));
  assert.equal(await page.locator(`tr.run-row[data-run-id="${id}"]`).count(), 1);

  // Paging: more than a page (50) of runs, cancelled at once so that nothing has to run them.
  const extra = [];
  for (let i = 0; i < 50; ++i) extra.push(await server.trigger('webapp', 'feature/live'));
  for (const run of extra) await server.api('POST', `/runs/${run}/cancel`);
  for (const run of extra) await server.waitForRun(run, (candidate) => candidate.status === 'cancelled', 60_000);
  const total = (await server.api('GET', '/runs?limit=200')).runs.length;
  assert.ok(total > 50 && total < 100, `${total} runs: one older page, not full`);
  await page.goto(`${server.base}/#/runs`);
  await page.reload();
  await page.locator(`tr.run-row[data-run-id="${extra[extra.length - 1]}"]`).waitFor();
  assert.equal(await page.locator('tr.run-row').count(), 50, 'the newest page holds 50');
  await page.locator('.pager a.older').click();
  await page.waitForFunction(() => /[?&]before=\d+/.test(location.hash));
  await page.locator('tr.run-row[data-run-id="1"]').waitFor();
  assert.equal(await page.locator('tr.run-row').count(), total - 50, 'the older page holds the rest');
  assert.equal(await page.locator('.pager a.older').count(), 0, 'nothing older than the first run');
  assert.equal(await page.locator('.pager a', { hasText: 'Newest' }).count(), 1);
  await screenshot('runs-older.png');
});

function liveStep(run) {
  for (const job of run.jobs || []) {
    const step = (job.steps || []).find((candidate) => candidate.name === 'live');
    if (step) return step;
  }
  return null;
}

async function isInside(locator, container) {
  const [box, frame] = await Promise.all([locator.boundingBox(), container.boundingBox()]);
  return box && frame && box.y >= frame.y - 1 && box.y + box.height <= frame.y + frame.height + 1;
}
