// The patient's own backup: made in Settings, restored on a new device from the first screen,
// with what goes wrong (a wrong passphrase, a damaged file) said plainly and nothing restored.
// (The core and CLI suites refuse every kind of damage at restore; here the window's part.)
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from './webdriver.mjs';
import { app as current, button, fill, heading, nav, phone, scan, shot } from './helpers.mjs';
import { s } from './session.mjs';
import { appBinary as app, backupDir, PASS, port, startDriver, stopDriver } from './context.mjs';

/** The entries the timeline shows, as text, in order. */
async function timeline() {
  await nav('Timeline');
  await s.waitFor('return document.querySelector("main h1")', [], { what: 'the timeline' });
  return s.execute('return [...document.querySelectorAll("main article")].map((a) => a.textContent.trim())');
}

export const steps = [
  ['a backup made in Settings restores the whole diary on a new device; a damaged one is named and not offered', async () => {
    const before = await timeline();
    assert.ok(before.length > 0, 'there is something to back up');
    await nav('Settings');
    const make = await s.find(button('Make a backup'));
    await make.click();
    const made = await s.find('[data-testid="backup-made"] .saved', { timeout: 20_000 });
    assert.match(await made.text(), /^Backup made .*: \d+ entries, \d+ KB\.$/);
    assert.match(await (await s.find('[data-testid="backup-made"] .break-anywhere')).text(), /companion-.*\.companion-backup$/);
    await scan('settings after a backup');
    await phone('settings-backup', '[aria-labelledby="backup-heading"]');
    const [file] = readdirSync(backupDir).filter((f) => f.endsWith('.companion-backup'));
    // A copy with one byte changed, listed beside the good one.
    const bytes = readFileSync(join(backupDir, file));
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    writeFileSync(join(backupDir, 'companion-0000-damaged.companion-backup'), bytes);

    // A new device: a fresh folder, the same backups folder.
    const newDir = mkdtempSync(join(tmpdir(), 'companion-e2e-restore-'));
    const newPort = port + 20;
    const driver = startDriver(newPort, { COMPANION_DATA_DIR: newDir });
    const patient = current.s;
    try {
      current.s = await Session.start(`http://127.0.0.1:${newPort}`, { 'tauri:options': { application: app } });
      await s.cmd('POST', '/window/rect', { width: 390, height: 844 });
      await s.find(heading('Welcome to Companion'), { timeout: 30_000 });
      await (await s.find(button('I have a backup of my diary'))).click();
      await s.find(heading('Restore a backup'));
      const choices = await s.findAll('//fieldset[.//legend[normalize-space()="Which backup?"]]//label');
      assert.equal(choices.length, 1, 'the good backup is offered');
      // The damaged copy is named, and not offered.
      assert.match(await (await s.find('[data-testid="damaged-backups"]')).text(), /companion-0000-damaged\.companion-backup/);
      await scan('restore a backup');
      await phone('restore-backup');
      await shot('restore-backup');
      // A wrong passphrase first: said so, nothing restored.
      await fill('Your passphrase when the backup was made', 'not the passphrase');
      await (await s.find(button('Restore this backup'))).click();
      const refused = await s.waitFor('return document.querySelector(".error:not([hidden])")?.textContent', [], { what: 'the refusal' });
      assert.match(refused, /passphrase is not right/);
      assert.deepEqual(readdirSync(newDir).filter((f) => f.startsWith('companion.db') || f === 'keyslots.json'), [], 'nothing restored');
      await scan('restore with a wrong passphrase');
      await fill('Your passphrase when the backup was made', PASS);
      await (await s.find(button('Restore this backup'))).click();
      await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
      assert.deepEqual(await timeline(), before, 'the same entries, in the same order');
    } finally {
      if (current.s !== patient) await s.end().catch(() => {});
      current.s = patient;
      await stopDriver(driver);
    }
  }],
];
