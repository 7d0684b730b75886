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

/** Waits for the error shown on screen to say `expected`. */
async function refusal(expected) {
  await s.waitFor(
    'const t = document.querySelector(".error:not([hidden])")?.textContent; return !!t && new RegExp(arguments[0]).test(t);',
    [expected.source],
    { what: `the refusal: ${expected}`, timeout: 20_000 },
  );
}

/** The entries the timeline shows, as text, in order. */
async function timeline() {
  await nav('Timeline');
  await s.waitFor('return document.querySelector("main h1")', [], { what: 'the timeline' });
  return s.execute('return [...document.querySelectorAll("main article")].map((a) => a.textContent.trim())');
}

export const steps = [
  ['a backup made in Settings restores the whole diary on a new device; a damaged one is refused and said so', async () => {
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
    // A copy with one byte changed (offered: its header reads, the rest is checked at restore),
    // and a file that only has the name of a backup (named, not offered).
    const bytes = readFileSync(join(backupDir, file));
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    writeFileSync(join(backupDir, 'companion-0000-damaged.companion-backup'), bytes);
    writeFileSync(join(backupDir, 'notes.companion-backup'), 'shopping list');

    // A new device: a fresh folder, the same backups folder.
    const newDir = mkdtempSync(join(tmpdir(), 'companion-e2e-restore-'));
    const newPort = port + 20;
    const driver = startDriver(newPort, { COMPANION_DATA_DIR: newDir });
    const patient = current.s;
    try {
      current.s = await Session.start(`http://127.0.0.1:${newPort}`, { 'tauri:options': { application: app } });
      await s.resize(390, 844);
      await s.find(heading('Welcome to Companion'), { timeout: 30_000 });
      // In Bokmål first: the restore screen at phone sizes, then back to English.
      const language = async (value) => {
        const id = await (await s.find('//label[normalize-space()="Language" or normalize-space()="Språk"]')).attribute('for');
        await s.execute(`const el = document.getElementById(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true }));`, [id, value]);
      };
      await language('nb');
      await (await s.find(button('Jeg har en sikkerhets\u00adkopi av dagboken min'))).click();
      await s.find(heading('Gjenopprett en sikkerhets\u00adkopi'));
      await scan('restore a backup (nb)');
      await phone('restore-backup-nb');
      await (await s.find(button('Lag min egen dagbok i stedet'))).click();
      await language('en');
      await (await s.find(button('I have a backup of my diary'))).click();
      await s.find(heading('Restore a backup'));
      const choices = await s.findAll('//fieldset[.//legend[normalize-space()="Which backup?"]]//label');
      assert.equal(choices.length, 2, 'both copies are offered');
      assert.match(await (await s.find('[data-testid="damaged-backups"]')).text(), /notes\.companion-backup/);
      await scan('restore a backup');
      await phone('restore-backup');
      await shot('restore-backup');
      const restore = async (name, passphrase) => {
        await (await s.find(`//label[.//input[@value="${name}"]]`)).click();
        await fill('Your passphrase when the backup was made', passphrase);
        await (await s.find(button('Restore this backup'))).click();
      };
      // Restores `name`, and waits for a refusal that says `expected`.
      const restoreWith = async (name, passphrase, expected) => {
        await restore(name, passphrase);
        await refusal(expected);
      };
      const nothingRestored = () =>
        assert.deepEqual(readdirSync(newDir).filter((f) => f.startsWith('companion.db') || f === 'keyslots.json'), [], 'nothing restored');
      // The damaged copy: refused whole, said so.
      await restoreWith('companion-0000-damaged.companion-backup', PASS, /damaged or is not a Companion backup/);
      nothingRestored();
      // The good one with a wrong passphrase: said so, nothing restored.
      await restoreWith(file, 'not the passphrase', /passphrase is not right/);
      nothingRestored();
      await scan('restore with a wrong passphrase');
      await fill('Your passphrase when the backup was made', PASS);
      await (await s.find(button('Restore this backup'))).click();
      await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
      assert.deepEqual(await timeline(), before, 'the same entries, in the same order');

      // Later the diary file is damaged (here: emptied while locked). Unlocking says so, and
      // offers to put it aside, whole, and restore the backup in its place.
      await nav('Settings');
      await (await s.find(button('Lock now'))).click();
      await s.find(heading('Unlock your diary'));
      writeFileSync(join(newDir, 'companion.db'), '');
      await fill('Passphrase', PASS);
      await (await s.find(button('Unlock'))).click();
      await refusal(/diary file is damaged/);
      await (await s.find(button('Put the damaged diary aside'))).click();
      await scan('unlock: a damaged diary');
      await phone('unlock-damaged');
      await (await s.find(button('Yes, put it aside and restore a backup'))).click();
      await s.find(heading('Welcome to Companion'), { timeout: 20_000 });
      const [aside] = readdirSync(newDir).filter((f) => f.startsWith('set-aside-'));
      assert.ok(aside, 'the damaged diary is kept in a folder of its own');
      assert.deepEqual(readdirSync(join(newDir, aside)).sort().filter((f) => !f.endsWith('-shm') && !f.endsWith('-wal')), ['companion.db', 'keyslots.json']);
      await (await s.find(button('I have a backup of my diary'))).click();
      await restore(file, PASS);
      await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
      assert.deepEqual(await timeline(), before, 'restored again');
    } finally {
      if (current.s !== patient) await s.end().catch(() => {});
      current.s = patient;
      await stopDriver(driver);
    }
  }],
];
