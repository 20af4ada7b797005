// Starts the real `slipway serve` ($SLIPWAY_BINARY) on a free loopback port with a fresh data
// directory and a configuration naming the fixture repository, and talks to its API. stop()
// always ends it (SIGTERM, then SIGKILL), whatever the test did.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ADMIN_TOKEN = 'ui-test-admin-token-0123456789abcdef';
const WEBHOOK_SECRET = 'ui-test-webhook-secret';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class SlipwayServer {
  constructor({ binary, workDirectory, repositoryPath, logPath }) {
    this.binary = binary;
    this.workDirectory = workDirectory;
    this.repositoryPath = repositoryPath;
    this.logPath = logPath;
  }

  async start() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    const dataDirectory = path.join(this.workDirectory, 'data');
    const configPath = path.join(this.workDirectory, 'slipway.yml');
    fs.mkdirSync(dataDirectory, { recursive: true });
    // poll_interval 0s: no run starts unless the test triggers it. executor host: the test
    // checks the UI, not the sandbox, and the host executor starts faster.
    fs.writeFileSync(configPath, `listen: 127.0.0.1:${port}
executor: host
concurrency: 2
repositories:
  - { name: webapp, url: ${this.repositoryPath}, main: main, poll_interval: 0s, webhook_secret: UI_WEBHOOK }
`);
    // The webhook's key, a server secret, set the way an administrator does (value on stdin).
    const env = { ...process.env, SLIPWAY_SERVER: '', SLIPWAY_MASTER_KEY: '' };
    delete env.SLIPWAY_MASTER_KEY;
    const set = spawnSync(this.binary, ['secret', 'set', '--server-only', 'UI_WEBHOOK', '--data-dir', dataDirectory],
      { input: WEBHOOK_SECRET, env });
    if (set.status !== 0) throw new Error(`slipway secret set: ${set.stderr}`);
    const log = fs.openSync(this.logPath, 'w');
    this.process = spawn(this.binary, ['serve', '--config', configPath, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDirectory], {
      env: { ...process.env, SLIPWAY_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ['ignore', log, log],
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    await this.waitUntilReady();
  }

  async waitUntilReady(timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let exit = null;
    this.exited.then((value) => { exit = value; });
    while (Date.now() < deadline) {
      if (exit) throw new Error(`slipway serve exited (${JSON.stringify(exit)}); see ${this.logPath}`);
      try {
        const response = await fetch(`${this.base}/api/v1/runs?limit=1`, { headers: this.headers() });
        if (response.ok) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`slipway serve did not answer within ${timeoutMs} ms; see ${this.logPath}`);
  }

  headers() {
    return { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
  }

  async api(method, apiPath, body) {
    const response = await fetch(`${this.base}/api/v1${apiPath}`, {
      method, headers: this.headers(), body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  // A manual run of `branch` (POST /api/v1/repositories/NAME/trigger); returns its id.
  async trigger(repository, branch) {
    const created = await this.api('POST', `/repositories/${encodeURIComponent(repository)}/trigger`, { branch });
    return created.id;
  }

  // A pull request opened on the forge: GitHub's documented `pull_request` payload
  // (tests/unit/fixtures/webhooks), its head pointed at `commit`, signed with the webhook secret.
  // Returns the run's id.
  async openPullRequest(repository, payloadPath, { number, commit, source, fork }) {
    const payload = JSON.parse(fs.readFileSync(payloadPath, 'utf8'));
    payload.number = payload.pull_request.number = number;
    payload.pull_request.head.sha = commit;
    payload.pull_request.head.ref = source;
    if (fork) payload.pull_request.head.repo.full_name = fork;
    const body = JSON.stringify(payload);
    const signature = `sha256=${crypto.createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
    const response = await fetch(`${this.base}/api/v1/webhooks/git/${encodeURIComponent(repository)}`, {
      method: 'POST', body,
      headers: { 'Content-Type': 'application/json', 'X-GitHub-Event': 'pull_request',
        'X-GitHub-Delivery': `ui-${number}-${commit}`, 'X-Hub-Signature-256': signature },
    });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`pull request webhook: ${response.status} ${text}`);
    return JSON.parse(text).run;
  }

  // A new API token with `role` (POST /api/v1/tokens, as the admin); returns its value.
  async createToken(name, role) {
    const created = await this.api('POST', '/tokens', { name, role });
    return created.token;
  }

  // Polls the run until `done(run)` holds; returns the run.
  async waitForRun(id, done, timeoutMs = 180_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.api('GET', `/runs/${id}`);
      if (done(run)) return run;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async stop() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    const stopped = await Promise.race([this.exited, sleep(5000).then(() => null)]);
    if (!stopped) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}
