#!/usr/bin/env node
// Runs the end-to-end test (vitest, e2e config) under a hard overall deadline, so that a hung
// browser or server can never stall CI: past the deadline the whole process group (vitest and
// the Chromium it launched) is killed and the run fails.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEADLINE_MS = Number(process.env.E2E_DEADLINE_MS) || 180_000;
const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');

const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  cwd: web,
  stdio: 'inherit',
  detached: process.platform !== 'win32',
});

function killGroup(signal) {
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive() {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  console.error(`\ne2e: FAILED — still running after ${DEADLINE_MS / 1000}s; stopping it.`);
  killGroup('SIGTERM');
  // Whatever ignores SIGTERM (a test worker, the browser) is killed 5 s later; only then exit.
  const started = Date.now();
  const check = setInterval(() => {
    if (process.platform === 'win32' || !groupAlive()) {
      clearInterval(check);
      process.exit(124);
    } else if (Date.now() - started > 5_000) {
      killGroup('SIGKILL');
      clearInterval(check);
      process.exit(124);
    }
  }, 200);
}, DEADLINE_MS);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killGroup(signal);
    process.exit(130);
  });
}

child.on('exit', (code, signal) => {
  // After a timeout, the deadline handler exits once the whole group is gone.
  if (timedOut) return;
  clearTimeout(timer);
  process.exit(code ?? (signal ? 1 : 0));
});
