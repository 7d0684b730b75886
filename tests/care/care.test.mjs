// The care team's web app in a real browser (Debian's Chromium, driven by playwright-core),
// against a real companion-clinic and real diaries made with the real CLI: sign in; a fever
// logged and synced appears on an open worklist without a reload; take it and close it with a
// message, by keyboard only; the patient's CLI shows the receipts; a carer's alert names the
// carer; a second nurse sees it taken; forged and cross-origin forms are refused; a nurse does
// not reach the admin page; every page passes axe in English and Bokmål, at desktop size and at
// phone size with 200 % text.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const clinic = process.env.COMPANION_CLINIC;
const cli = process.env.COMPANION_CLI;
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(clinic && cli, 'COMPANION_CLINIC and COMPANION_CLI must name the built binaries');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'a long nurse passphrase';
const PATIENT_PASS = 'kari keeps a diary';

const dataDir = mkdtempSync(join(tmpdir(), 'companion-care-'));
const admin = (args, input) =>
  execFileSync(clinic, ['--data-dir', dataDir, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
function diaryCli(dir, args, env = {}) {
  return execFileSync(cli, ['--data-dir', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, COMPANION_PASSPHRASE: PATIENT_PASS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// Accounts, as a hospital's IT department makes them.
admin(['staff', 'add', '--name', 'Kari Nurse', '--role', 'nurse', '--password-stdin', '--json'], `${PASSWORD}\n`);
admin(['staff', 'add', '--name', 'Per Nurse', '--role', 'nurse', '--password-stdin'], `${PASSWORD}\n`);
admin(['staff', 'add', '--name', 'Cora Coordinator', '--role', 'coordinator', '--password-stdin'], `${PASSWORD}\n`);
admin(['staff', 'add', '--name', 'Ada Admin', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
const staffToken = admin(['staff', 'add', '--name', 'Integration']).trim();
assert.match(admin(['settings', 'show', '--json']), /"call_now":"1h"/);

const server = spawn(clinic, ['--data-dir', dataDir, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    const m = /listening on (\S+)/.exec(String(d));
    if (m) resolve(`http://${m[1]}`);
  });
  server.on('exit', () => reject(new Error('the clinic server stopped')));
});

// Kari Nordmann's diary, paired; a carer, Ola, on his own device.
const patient = JSON.parse(admin(['patient', 'add', '--name', 'Kari Nordmann', '--json']));
const patientDir = mkdtempSync(join(tmpdir(), 'companion-care-patient-'));
diaryCli(patientDir, ['init', '--name', 'Kari Nordmann']);
diaryCli(patientDir, ['pair', '--server', base, '--code', patient.code]);
const invite = diaryCli(patientDir, ['carer', 'invite', '--name', 'Ola', '--relationship', 'son', '--allow', 'observations,symptoms']);
const carerCode = /([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(invite)[1];
const carerDir = join(mkdtempSync(join(tmpdir(), 'companion-care-carer-')), 'diary');
diaryCli(carerDir, ['pair', '--server', base, '--code', carerCode], { COMPANION_PASSPHRASE: 'ola keeps an eye on things' });

// What goes home with Kari: the clinic's contacts and her plan (set with the admin commands), so
// the admin page lists them and her page shows the plan in force; both are scanned below.
const going = mkdtempSync(join(tmpdir(), 'companion-care-going-home-'));
writeFileSync(join(going, 'contacts.json'), JSON.stringify({ contacts: [
  { role: 'ward', name: 'Kreftavdeling 3', phone: '22 11 80 80', hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '15:30' }] },
  { role: 'out_of_hours', name: 'Legevakt', phone: '116 117' },
] }));
admin(['contacts', 'set', '--file', join(going, 'contacts.json')]);
writeFileSync(join(going, 'plan.json'), JSON.stringify({ treatment: ['immunotherapy'], schedules: [{ instrument: 'esas-r', every_days: 7 }],
  watch_for: ['New cough or breathlessness: call the ward now.'], advice: ['Drink at least 2 litres a day.'] }));
admin(['plan', 'set', '--patient', patient.patient, '--file', join(going, 'plan.json')]);

const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
const failures = [];
const steps = [];
const step = (name, fn) => steps.push([name, fn]);
const desktop = { viewport: { width: 1280, height: 860 } };
const phoneSize = { viewport: { width: 360, height: 740 } };

async function signIn(page, name, lang = 'en') {
  await page.goto(`${base}/care/language?to=${lang}`);
  await page.goto(`${base}/care/sign-in`);
  await page.fill('#name', name);
  await page.fill('#password', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${base}/care`);
}

/** axe on the page as it stands: any violation, at any impact level, fails. */
async function axe(page, what) {
  // Through the driver, not as a page script: the CSP (rightly) blocks inline scripts.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  const text = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
  assert.equal(violations.length, 0, `axe on ${what}:\n${text}`);
}

/** At phone size with 200 % text nothing is cut off sideways. */
async function fits(page, what) {
  await page.evaluate(() => document.documentElement.style.setProperty('font-size', '200%', 'important'));
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width + 1, `${what} is ${scroll}px wide at ${width}px with 200 % text`);
}

/** Tab until the focused element passes `test`; a person with only a keyboard does the same. */
async function tabTo(page, test, what) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const ok = await page.evaluate(test);
    if (ok) return;
  }
  throw new Error(`could not reach ${what} with the keyboard`);
}

const fhir = async (path) => (await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${staffToken}` } })).json();
let taskId = null;
let kari;

step('signs in, and a fever synced by the patient appears on the open worklist within 2 seconds', async () => {
  const ctx = await browser.newContext(desktop);
  kari = await ctx.newPage();
  await kari.goto(`${base}/care`);
  assert.match(kari.url(), /\/care\/sign-in$/);
  await kari.fill('#name', 'Kari Nurse');
  await kari.fill('#password', 'not the password');
  await kari.click('button[type="submit"]');
  assert.match(await kari.textContent('[role="alert"]'), /The name or the password is wrong/);
  await signIn(kari, 'Kari Nurse');
  await kari.waitForSelector('text=No alerts here.');
  diaryCli(patientDir, ['checkin', 'add', '--instrument', 'esas-r', '--answers', '2,5,1,0,3,0,4,2,3']);
  diaryCli(patientDir, ['checkin', 'add', '--instrument', 'phq9', '--answers', '1,1,0,1,0,0,1,0,0,1']);
  diaryCli(patientDir, ['temperature', 'add', '--celsius', '38.4', '--unwell']);
  diaryCli(patientDir, ['sync']);
  const synced = Date.now();
  await kari.waitForSelector('td:has-text("Temperature 38.4 °C, feels unwell")', { timeout: 2000 });
  console.log(`  the alert appeared ${Date.now() - synced} ms after the sync`);
  const row = await kari.textContent('tbody tr');
  for (const part of ['Kari Nordmann', 'Call now', 'the patient', 'New', 'left']) assert.ok(row.includes(part), `${part} in ${row}`);
  await kari.screenshot({ path: join(artifacts, 'worklist.png'), fullPage: true });
  await axe(kari, 'the worklist');
  // The fever (call now) first, then the ESAS-r's low mood (tell the team), as the worklist sorts them.
  const list = await fhir('/fhir/Task?code=triage&status=requested,accepted&_sort=priority,period');
  assert.deepEqual(list.entry.map((e) => e.resource.priority), ['stat', 'routine']);
  taskId = list.entry[0].resource.id;
  assert.match(await kari.textContent('tbody tr:first-child'), /feels unwell/);
});

step("a carer's alert is labelled with the carer", async () => {
  diaryCli(carerDir, ['temperature', 'add', '--celsius', '38.6'], { COMPANION_PASSPHRASE: 'ola keeps an eye on things' });
  diaryCli(carerDir, ['sync'], { COMPANION_PASSPHRASE: 'ola keeps an eye on things' });
  await kari.waitForSelector('td:has-text("Ola (carer)")', { timeout: 2000 });
  assert.equal(await kari.locator('tbody tr').count(), 3);
});

step('takes the alert and closes it with a message, by keyboard only', async () => {
  await kari.goto(`${base}/care`);
  await tabTo(kari, () => document.activeElement?.getAttribute('href')?.includes('/care/alerts/') && document.activeElement.closest('tr')?.textContent.includes('feels unwell'), 'the alert');
  await kari.keyboard.press('Enter');
  await kari.waitForSelector('h1:has-text("Alert: Kari Nordmann")');
  await axe(kari, 'an alert');
  await tabTo(kari, () => document.activeElement?.textContent === 'Take this alert', 'the take button');
  await kari.keyboard.press('Enter');
  await kari.waitForSelector('text=Taken by Kari Nurse');
  await tabTo(kari, () => document.activeElement?.getAttribute('name') === 'outcome', 'the outcomes');
  // Arrow keys move through a radio group: the second is "Called the patient".
  await kari.keyboard.press('ArrowDown');
  assert.equal(await kari.evaluate(() => document.activeElement.value), 'called');
  await tabTo(kari, () => document.activeElement?.id === 'message', 'the message');
  await kari.keyboard.type('We spoke: come in to the ward tonight.');
  await tabTo(kari, () => document.activeElement?.textContent === 'Close the alert', 'the close button');
  await kari.keyboard.press('Enter');
  await kari.waitForSelector('text=Closed by Kari Nurse: Called the patient');
  await kari.screenshot({ path: join(artifacts, 'alert.png'), fullPage: true });
  await axe(kari, 'a closed alert');
});

step("the patient's CLI shows the receipts and the message after a sync", async () => {
  diaryCli(patientDir, ['sync']);
  const advice = JSON.parse(diaryCli(patientDir, ['advice', 'list', '--json']));
  const fever = advice.find((a) => a.rule === 'temperature-unwell' || a.rule === 'fever');
  assert.ok(fever, JSON.stringify(advice));
  for (const k of ['sent_at', 'received_at', 'taken_at', 'closed_at']) assert.ok(fever[k], `${k} in ${JSON.stringify(fever)}`);
  assert.equal(fever.outcome, 'called');
  assert.equal(fever.message, 'We spoke: come in to the ward tonight.');
  const text = diaryCli(patientDir, ['advice', 'list']);
  assert.match(text, /closed .*: called; message: We spoke/);
  const access = JSON.parse(diaryCli(patientDir, ['access-log', '--json']));
  assert.ok(access.some((a) => a.who === 'Kari Nurse' && a.role === 'nurse'), JSON.stringify(access));
});

step('a second nurse sees the open alert as taken', async () => {
  const page = await (await browser.newContext(desktop)).newPage();
  await signIn(page, 'Per Nurse');
  const carerRow = page.locator('tr', { hasText: 'Ola (carer)' });
  const link = carerRow.locator('a');
  const href = await link.getAttribute('href');
  // Kari takes Ola's alert; Per, who has the worklist open, sees it taken without a reload.
  await kari.goto(`${base}${href}`);
  await kari.click('button:has-text("Take this alert")');
  await page.waitForSelector('td:has-text("Taken by Kari Nurse")', { timeout: 2000 });
  await page.goto(`${base}${href}`);
  await page.waitForSelector('text=Kari Nurse has taken this alert.');
  assert.equal(await page.locator('button:has-text("Take this alert")').count(), 0);
});

step('forged forms, forms from another origin, and a nurse at the admin page are refused', async () => {
  const page = kari;
  await page.goto(`${base}/care/alerts/${taskId}`);
  const version = await page.inputValue('input[name="version"]');
  // A form posted with a made-up token.
  const forged = await page.evaluate(
    async ([url, v]) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ csrf: 'forged', version: v, note: 'x' }) })).status,
    [`${base}/care/alerts/${taskId}/note`, version],
  );
  assert.equal(forged, 403);
  // Another origin, with the cookie the browser holds and even the right token: refused.
  const csrf = await page.inputValue('input[name="csrf"]');
  const evil = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><html lang="en"><title>x</title><form method="post" action="${base}/care/alerts/${taskId}/note">
      <input name="csrf" value="${csrf}"><input name="version" value="${version}"><input name="note" value="planted">
      </form><script>document.forms[0].submit()</script></html>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const answer = page.waitForResponse((r) => r.url().endsWith('/note'));
  await page.goto(`http://127.0.0.1:${evil.address().port}/`);
  assert.equal((await answer).status(), 403);
  evil.close();
  const task = await fhir(`/fhir/Task/${taskId}`);
  assert.ok(!JSON.stringify(task).includes('planted'), 'nothing was written');
  // A nurse is neither offered nor let into the admin pages.
  await page.goto(`${base}/care`);
  assert.equal(await page.locator('a[href="/care/admin"]').count(), 0);
  const res = await page.goto(`${base}/care/admin`);
  assert.equal(res.status(), 403);
  assert.equal((await page.goto(`${base}/care/workload`)).status(), 403);
});

step('every page passes axe in English and Bokmål, at desktop size and at phone size with 200 % text', async () => {
  for (const lang of ['en', 'nb']) {
    for (const [size, opts] of [['desktop', desktop], ['phone', phoneSize]]) {
      const ctx = await browser.newContext(opts);
      const page = await ctx.newPage();
      await page.goto(`${base}/care/language?to=${lang}`);
      await page.goto(`${base}/care/sign-in`);
      await axe(page, `sign-in (${lang}, ${size})`);
      await page.fill('#name', 'Ada Admin');
      await page.fill('#password', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForURL(`${base}/care`);
      const pages = ['/care', '/care?show=closed', `/care/alerts/${taskId}`, '/care/patients?q=kari', `/care/patients/${patient.patient}`,
        '/care/workload', '/care/admin', '/care/nowhere'];
      for (const path of pages) {
        await page.goto(`${base}${path}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        await axe(page, `${path} (${lang}, ${size})`);
        if (size === 'phone') {
          await fits(page, `${path} (${lang})`);
          if (path === '/care') await page.screenshot({ path: join(artifacts, `worklist-phone-${lang}.png`), fullPage: true });
        }
      }
      if (lang === 'nb') assert.match(await page.textContent('body'), /Siden finnes ikke/);
      // Registering a patient: the code, large and as a QR code.
      await page.goto(`${base}/care/patients`);
      await page.fill('#name', `Ny Pasient ${lang} ${size}`);
      await page.click('form[method="post"][action="/care/patients"] button');
      await page.waitForSelector('.pairing-code');
      assert.equal(await page.locator('figure.qr svg').count(), 1);
      await axe(page, `a pairing code (${lang}, ${size})`);
      if (size === 'phone') await fits(page, `a pairing code (${lang})`);
      if (lang === 'en' && size === 'desktop') await page.screenshot({ path: join(artifacts, 'pairing-code.png'), fullPage: true });
      await ctx.close();
    }
  }
});

step("the patient page shows the trends apart per person, and the coordinator who has looked", async () => {
  const page = await (await browser.newContext(desktop)).newPage();
  await signIn(page, 'Cora Coordinator');
  await page.goto(`${base}/care/patients/${patient.patient}`);
  const text = await page.textContent('main');
  for (const part of ['Summary for the visit', 'Ola (carer)', 'Temperature: readings: 1; highest 38.6 °C', 'ESAS-r – Recorded by the patient', 'PHQ-9 – Recorded by the patient', 'Temperature – Recorded by Ola (carer)', '⚑ 38.4 °C', '● 5', 'Who has opened this record', 'Kari Nurse (Nurse)']) {
    assert.ok(text.includes(part), `${part} on the patient page`);
  }
  await page.screenshot({ path: join(artifacts, 'patient-full.png'), fullPage: true });
  // For the README: the summary and the trends.
  const top = await page.locator('h2', { hasText: 'Summary for the visit' }).boundingBox();
  await page.screenshot({ path: join(artifacts, 'patient.png'), fullPage: true, clip: { x: 0, y: Math.max(0, top.y - 16), width: 1280, height: 1500 } });
});

step('the coordinator sees the workload', async () => {
  const page = await (await browser.newContext(desktop)).newPage();
  await signIn(page, 'Cora Coordinator');
  await page.goto(`${base}/care/workload`);
  const text = await page.textContent('main');
  assert.match(text, /Open alerts by level/);
  assert.match(text, /Closed within target/);
  await page.screenshot({ path: join(artifacts, 'workload.png'), fullPage: true });
});

try {
  for (const [name, fn] of steps) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      console.log(`not ok - ${name}\n${e.stack ?? e}`);
      failures.push(name);
      break;
    }
  }
} finally {
  await browser.close();
  server.kill();
}
if (failures.length === 0 && process.env.COMPANION_SCREENSHOTS) {
  for (const f of ['worklist.png', 'alert.png', 'patient.png']) copyFileSync(join(artifacts, f), join(process.env.COMPANION_SCREENSHOTS, `care-${f}`));
}
process.exit(failures.length ? 1 : 0);
