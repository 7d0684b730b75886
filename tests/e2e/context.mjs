// What the steps share: the built binaries, the diary folder, the driver's port, the patient's
// passphrase, and starting and stopping tauri-driver.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';

export const appBinary = process.env.COMPANION_APP;
export const clinic = process.env.COMPANION_CLINIC;
assert.ok(appBinary && existsSync(appBinary), `COMPANION_APP must name the built app binary (got ${appBinary})`);

export const PASS = 'a long walk by the sea';
export const dataDir = mkdtempSync(join(tmpdir(), 'companion-e2e-'));
/** Where every app the steps start writes and finds backups (never the real Documents). */
export const backupDir = mkdtempSync(join(tmpdir(), 'companion-e2e-backups-'));
process.env.COMPANION_BACKUP_DIR = backupDir;
export const port = 4400 + Math.floor(Math.random() * 500);

/**
 * tauri-driver on `driverPort`, which starts the app with `env`, in a process group of its own:
 * the app it starts is killed with it, even when WebKitWebDriver goes first and leaves the app
 * running (which also kept this test's output open, so the run never ended).
 */
export function startDriver(driverPort, env) {
  return spawn('tauri-driver', ['--port', String(driverPort), '--native-port', String(driverPort + 1)], {
    env: { ...process.env, ...env, LANG: 'C.UTF-8', LANGUAGE: 'en' },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
}

/** Stops tauri-driver and everything it started: asked first, then killed. */
export async function stopDriver(child) {
  const group = (signal) => {
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return false; // ESRCH: nothing of the group is left
    }
  };
  group('SIGTERM');
  for (let i = 0; i < 30 && group(0); i++) await sleep(100);
  group('SIGKILL');
}
