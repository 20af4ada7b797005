// Starts tests/support/ui_world.cpp ($SLIPWAY_UI_WORLD): real deployments and task runs made by
// the real DeploymentController and TaskRunner on dockerd, behind HAProxy. `ready` resolves to
// {deployments: {base, token}, tasks: {base, token}} once they exist, and rejects (naming the log)
// when the helper could not make them. stop() closes its standard input, which makes it stop the
// servers, HAProxy and the containers it started, and waits for it to exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

export class UiWorld {
  constructor({ executable, logPath }) {
    this.executable = executable;
    this.logPath = logPath;
  }

  start() {
    if (!this.executable || !fs.existsSync(this.executable)) {
      this.ready = Promise.reject(new Error('set SLIPWAY_UI_WORLD to the built tests/ui_world (ctest sets it)'));
      this.ready.catch(() => {});  // reported by the tests that await it
      return;
    }
    const log = fs.openSync(this.logPath, 'w');
    this.process = spawn(this.executable, [], { stdio: ['pipe', 'pipe', log] });
    this.exited = new Promise((resolve) => this.process.on('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: this.process.stdout });
      lines.on('line', (line) => {
        if (line.startsWith('WORLD ')) resolve(JSON.parse(line.slice(6)));
      });
      this.exited.then((code) => reject(new Error(`ui_world exited with ${code} before it was ready: see ${this.logPath}`)));
    });
    this.ready.catch(() => {});
  }

  async stop() {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.stdin.end();
    await this.exited;
  }
}
