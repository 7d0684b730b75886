// End to end through the real app window: tauri-driver drives WebKitWebDriver, which starts the
// built app on a fresh diary folder. Run under Xvfb (see run.sh). Each screen is scanned with
// axe-core; a serious or critical violation fails the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, sleep } from './webdriver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const app = process.env.COMPANION_APP;
const clinic = process.env.COMPANION_CLINIC;
assert.ok(app && existsSync(app), `COMPANION_APP must name the built app binary (got ${app})`);
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const PASS = 'a long walk by the sea';
const dataDir = mkdtempSync(join(tmpdir(), 'companion-e2e-'));
const port = 4400 + Math.floor(Math.random() * 500);
let driver;
let s;

const button = (text) => `//button[normalize-space()="${text}"]`;
const label = (text) => `//label[normalize-space()="${text}"]`;
/** A radio button drawn as a large tile: the person taps the tile, which is its label. */
const tile = (text, within = '') => `${within}//label[normalize-space()="${text}"]`;
const heading = (text) => `//h1[normalize-space()="${text}"]`;

async function fill(labelText, value) {
  const id = await (await s.find(label(labelText))).attribute('for');
  // Into the middle of the view, clear of the tab bar fixed at the bottom.
  await s.execute('document.getElementById(arguments[0]).scrollIntoView({ block: "center" })', [id]);
  await (await s.find(`#${id}`)).type(value);
}

async function shot(name) {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.png`), await s.screenshot());
}

/** axe-core on the current screen; fails on serious or critical violations. */
async function scan(screen) {
  const raw = await s.executeAsync(
    `${axeSource}
     const done = arguments[arguments.length - 1];
     window.axe.run(document, { resultTypes: ['violations'] })
       .then((r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))))
       .catch((e) => done(JSON.stringify({ error: String(e) })));`,
  );
  const violations = JSON.parse(raw);
  assert.ok(Array.isArray(violations), `axe did not run on ${screen}: ${raw}`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `accessibility violations on ${screen}`);
  return violations;
}

/**
 * At 200 % text, nothing inside `selector` reaches past the window's right edge (a phone at
 * 390 px: the suite's window). A screenshot at that size goes to the artifacts.
 */
async function fitsAtDoubleText(selector, name) {
  await s.execute('document.documentElement.style.fontSize = "200%"');
  try {
    await sleep(150);
    // A box past the edge, or text running out of its box (a long word in a heading).
    const over = await s.execute(
      `const w = document.documentElement.clientWidth;
       const roots = [...document.querySelectorAll(arguments[0])];
       roots[0]?.scrollIntoView({ block: 'start' });
       return roots.flatMap((root) => [root, ...root.querySelectorAll('*')])
         .filter((e) => !e.closest('.visually-hidden'))
         .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 1 && (r.right > w + 1 || e.scrollWidth > e.clientWidth + 1); })
         .map((e) => e.tagName + '.' + e.className + ' ' + (e.textContent ?? '').trim().slice(0, 40));`,
      [selector],
    );
    await shot(`${name}-200`);
    assert.deepEqual(over, [], `past the right edge at 200 % text on ${name}`);
  } finally {
    await s.execute('document.documentElement.style.fontSize = ""');
  }
}

async function nav(text) {
  await (await s.find(`//nav//button[normalize-space()="${text}"]`)).click();
}

/**
 * tauri-driver on `driverPort`, which starts the app with `env`, in a process group of its own:
 * the app it starts is killed with it, even when WebKitWebDriver goes first and leaves the app
 * running (which also kept this test's output open, so the run never ended).
 */
function startDriver(driverPort, env) {
  return spawn('tauri-driver', ['--port', String(driverPort), '--native-port', String(driverPort + 1)], {
    env: { ...process.env, ...env, LANG: 'C.UTF-8', LANGUAGE: 'en' },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
}

/** Stops tauri-driver and everything it started: asked first, then killed. */
async function stopDriver(child) {
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

/** A second Companion, on a fresh folder, set up by a carer with the patient's invitation. */
async function joinAsCarer(server, code) {
  const carerDir = mkdtempSync(join(tmpdir(), 'companion-e2e-carer-'));
  const carerPort = port + 10;
  const carerDriver = startDriver(carerPort, { COMPANION_DATA_DIR: carerDir });
  const patientSession = s;
  try {
    s = await Session.start(`http://127.0.0.1:${carerPort}`, { 'tauri:options': { application: app } });
    await s.find(heading('Welcome to Companion'), { timeout: 30_000 });
    await (await s.find(button('I am helping someone and have an invitation code'))).click();
    await s.find(heading('Join as a carer'));
    await scan('join as a carer');
    await fill('Clinic server address', server);
    await fill('Invitation code', code);
    await fill('Choose a passphrase', 'ola keeps an eye on things');
    await fill('Type the passphrase again', 'ola keeps an eye on things');
    await (await s.find(button('Join'))).click();
    await s.find(heading('Your recovery code'), { timeout: 20_000 });
    await (await s.find(button('I have written it down'))).click();
    await s.find(heading('Hello, Ola'), { timeout: 20_000 });
    assert.match(await (await s.find('[data-testid="signed-in-as"]')).text(), /signed in as son, helping Kari Nordmann/);
    await scan('home on the carer\'s own device');
    // Questions were allowed (the default); symptoms and check-ins were not.
    await nav('Timeline');
    await s.find('//article[.//span[normalize-space()="Question"]]', { timeout: 20_000 });
    assert.equal((await s.findAll('//article[.//p[contains(normalize-space(), "Pain:")]]')).length, 0);
    assert.equal((await s.findAll('//article[.//p[contains(normalize-space(), "Wellbeing")]]')).length, 0);
    await shot('carer-own-device');
  } finally {
    await s.end();
    s = patientSession;
    await stopDriver(carerDriver);
  }
}

describe('Companion in its real window', () => {
  before(async () => {
    driver = startDriver(port, { COMPANION_DATA_DIR: dataDir });
    s = await Session.start(`http://127.0.0.1:${port}`, { 'tauri:options': { application: app } });
    // A phone: 390 px wide.
    await s.cmd('POST', '/window/rect', { width: 390, height: 844 });
    await s.waitFor('return window.innerWidth <= 390', [], { what: 'a 390 px window' });
  });

  after(async () => {
    if (s) {
      await shot('last').catch(() => {});
      await s.end();
    }
    if (driver) await stopDriver(driver);
  });

  it('first start: asks for a name and passphrase, refuses a short one, shows the recovery code', async () => {
    await s.find(heading('Welcome to Companion'), { timeout: 30_000 });
    await scan('set-up');
    await fill('Your name', 'Kari Nordmann');
    await fill('Choose a passphrase', 'short');
    await fill('Type the passphrase again', 'short');
    await (await s.find(button('Create my diary'))).click();
    const error = await s.find('[role="alert"]:not([hidden])');
    assert.match(await error.text(), /Passphrase must be at least 8 characters/);
    assert.deepEqual(readdirSync(dataDir).filter((f) => f.startsWith('companion.db')), [], 'nothing written');

    await fill('Choose a passphrase', PASS);
    await fill('Type the passphrase again', PASS);
    await (await s.find(button('Create my diary'))).click();
    await s.find(heading('Your recovery code'), { timeout: 20_000 });
    const code = await (await s.find('[data-testid="recovery-code"]')).text();
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    await scan('recovery code');
    await (await s.find(button('I have written it down'))).click();
    await s.find(heading('Hello, Kari Nordmann'));
    await scan('home');
  });

  it('logs a symptom and shows it in the timeline', async () => {
    await (await s.find(button('Log a symptom'))).click();
    await s.find(heading('Log a symptom'));
    await scan('symptom form');
    await (await s.find(button('Save'))).click();
    assert.match(await (await s.find('[role="alert"]:not([hidden])')).text(), /Symptom is required/);
    await (await s.find(tile('Pain'))).click();
    await (await s.find(tile('6', '//fieldset[.//legend[normalize-space()="How bad is it?"]]'))).click();
    await fill('Note (optional)', 'Left hip, worse at night');
    await (await s.find(button('Save'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');

    await nav('Timeline');
    await s.find(heading('Timeline'));
    const entry = await s.find('//article[.//p[contains(normalize-space(), "Pain: 6 of 10")]]');
    assert.match(await entry.text(), /Left hip, worse at night/);
    assert.match(await entry.text(), /Entered by Kari Nordmann/);
    await scan('timeline');
    await shot('timeline');
  });

  it('refuses a temperature out of range, and a fever shows the call-now card at once', async () => {
    await nav('Home');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '46');
    await (await s.find(button('Save'))).click();
    assert.match(await (await s.find('[role="alert"]:not([hidden])')).text(), /Temperature must be between 30 and 45/);
    await scan('temperature form with an error');
    await fill('Temperature (°C)', '38,5');
    await (await s.find(button('Save'))).click();
    const card = await s.find('[data-testid="advice-card"][data-level="call_now"]');
    const text = await card.text();
    assert.match(text, /Call the cancer ward now/);
    assert.match(text, /Out-of-hours doctor: 116 117/);
    assert.match(text, /not set yet/);
    assert.match(text, /Companion has not told the clinic/);
    assert.doesNotMatch(text, /clinic (has been|was) (told|notified)/i);
    await scan('call-now card');
    await shot('call-now');
    await (await s.find(button('I understand'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await nav('Timeline');
    await s.find('//article[.//p[contains(normalize-space(), "38.5 °C")]]');
    assert.equal((await s.findAll('//article')).length, 2);
  });

  it('feeling unwell at 37.2 shows the call-now card; the advice stays findable with its "I understand"', async () => {
    await nav('Home');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '37,2');
    await (await s.find('//label[.//span[normalize-space()="I feel unwell"]]')).click();
    await (await s.find(button('Save'))).click();
    const card = await s.find('[data-testid="advice-card"][data-level="call_now"][data-rule="temperature-unwell"]');
    const text = await card.text();
    assert.match(text, /Call the cancer ward now/);
    assert.match(text, /You feel unwell\. After cancer treatment, that is a reason to call at any temperature\./);
    assert.match(text, /Out-of-hours doctor: 116 117/);
    assert.match(text, /Companion has not told the clinic/);
    await scan('unwell at 37.2');
    await shot('unwell-37-2');
    await fitsAtDoubleText('[data-testid="advice-card"]', 'unwell-37-2');
    await (await s.find(button('I understand'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    // Closed, the advice is still on the home screen, and opens again with who understood it when.
    const recent = await s.find('[data-testid="recent-advice"]');
    assert.match(await recent.text(), /Call the cancer ward now/);
    await (await s.find('//ul[@data-testid="recent-advice"]/li[1]//button[normalize-space()="Show the advice again"]')).click();
    const again = await s.find('[data-testid="advice-card"][data-rule="temperature-unwell"]');
    assert.match(await (await s.find('[data-testid="advice-acknowledged"]')).text(), /Kari Nordmann pressed “I understand” at/);
    assert.match(await again.text(), /Call the cancer ward now/);
    await scan('advice shown again');
    await fitsAtDoubleText('[data-testid="advice-card"]', 'advice-again');
    await (await s.find(button('Close'))).click();
    await s.find(heading('Hello, Kari Nordmann'));
    // The timeline offers it again from the entry that raised it.
    await nav('Timeline');
    const unwell = await s.find('//article[.//p[contains(normalize-space(), "37.2 °C")]]');
    assert.match(await unwell.text(), /Advice shown: Call the cancer ward now/);
    assert.match(await unwell.text(), /I feel unwell/);
    await nav('Home');
    await fitsAtDoubleText('[data-testid="recent-advice"]', 'home-recent-advice');
  });

  it('records a check-in, corrects an entry and withdraws another, keeping both', async () => {
    await nav('Home');
    await (await s.find(button('How do you feel today?'))).click();
    await s.find(heading('How do you feel today?'));
    await scan('check-in form');
    await (await s.find(tile('7', '//fieldset[.//legend[normalize-space()="Overall wellbeing"]]'))).click();
    await (await s.find(button('Save'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');

    await nav('Timeline');
    const pain = '//article[.//p[contains(normalize-space(), "Pain: 6 of 10")]]';
    await (await s.find(`${pain}//button[normalize-space()="Correct"]`)).click();
    await s.find(heading('Log a symptom'));
    await (await s.find(tile('7', '//fieldset[.//legend[normalize-space()="How bad is it?"]]'))).click();
    await (await s.find(button('Save'))).click();
    // Severe pain (7 or more): contact the ward within 24 hours.
    await s.find('[data-testid="advice-card"][data-level="contact_24h"]');
    await (await s.find(button('I understand'))).click();
    await s.find(heading('Timeline'));
    const corrected = await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]');
    assert.match(await corrected.text(), /Corrected/);

    const temp = '//article[.//p[contains(normalize-space(), "38.5 °C")]]';
    await (await s.find(`${temp}//button[normalize-space()="Withdraw"]`)).click();
    await scan('withdraw confirmation');
    await (await s.find(button('Yes, withdraw it'))).click();
    const withdrawn = await s.find(`//article[contains(@class, "withdrawn")][.//p[contains(normalize-space(), "38.5 °C")]]`);
    assert.match(await withdrawn.text(), /Entered in error/);
    assert.equal((await s.findAll('//article')).length, 4, 'withdrawn and corrected entries are kept');

    const filter = await (await s.find(label('Show'))).attribute('for');
    await s.execute(
      `const el = document.getElementById(arguments[0]); el.value = 'checkin'; el.dispatchEvent(new Event('change', { bubbles: true }));`,
      [filter],
    );
    await s.waitFor('return document.querySelectorAll("article").length === 1', [], { what: 'only the check-in' });
    await s.find('//article[.//p[contains(normalize-space(), "Wellbeing 7 of 10")]]');
  });

  it('adds a question for the next visit', async () => {
    await nav('Questions');
    await s.find(heading('Questions for the next visit'));
    await fill('New question', 'Can I travel to my daughter in March?');
    await (await s.find(button('Add question'))).click();
    await s.find('//li[@class="question"]//p[normalize-space()="Can I travel to my daughter in March?"]');
    await scan('questions');
  });

  it('renders every shipped questionnaire in full', async () => {
    const forms = [
      ['Patient Health Questionnaire (PHQ-9)', 'phq9-', 9],
      ['Patient Health Questionnaire-2 (PHQ-2)', 'phq9-', 2],
      ['Generalized Anxiety Disorder 7-item (GAD-7)', 'gad7-', 7],
      ['Generalized Anxiety Disorder 2-item (GAD-2)', 'gad7-', 2],
      ['Edmonton Symptom Assessment System (revised version) (ESAS-r)', 'esas-', 9],
    ];
    for (const [title, prefix, count] of forms) {
      await nav('Home');
      await (await s.find(button('Fill in a questionnaire'))).click();
      await (await s.find(`//button[.//span[normalize-space()="${title}"]]`)).click();
      await s.find(heading(title));
      const shown = await s.execute(
        `return [...document.querySelectorAll('[data-link-id]')].filter((e) => e.dataset.linkId.startsWith(arguments[0]) && !e.dataset.linkId.includes('other') && !e.dataset.linkId.endsWith('difficulty') && !e.dataset.linkId.endsWith('completed-by')).length`,
        [prefix],
      );
      assert.equal(shown, count, title);
      await scan(title);
      await (await s.find(button('Cancel'))).click();
    }
  });

  it('a PHQ-9 with item 9 answered shows the crisis card, then the result', async () => {
    await nav('Home');
    await (await s.find(button('Fill in a questionnaire'))).click();
    await s.find(heading('Choose a questionnaire'));
    await scan('questionnaire list');
    await (await s.find('//button[.//span[normalize-space()="Patient Health Questionnaire (PHQ-9)"]]')).click();
    await s.find(heading('Patient Health Questionnaire (PHQ-9)'));
    await scan('PHQ-9 form');
    for (let i = 1; i <= 8; i++) {
      await (await s.find(`//fieldset[@data-link-id="phq9-${i}"]//label[normalize-space()="Not at all"]`)).click();
    }
    await (await s.find('//fieldset[@data-link-id="phq9-9"]//label[normalize-space()="Several days"]')).click();
    await (await s.find(button('Save'))).click();
    const card = await s.find('[data-testid="advice-card"][data-level="crisis"]');
    const text = await card.text();
    for (const n of ['Emergency: 113', 'Out-of-hours doctor: 116 117', 'Mental Helse helpline: 116 123']) {
      assert.ok(text.includes(`Call ${n}`), `${n} in ${text}`);
    }
    assert.match(text, /Companion has not told the clinic/);
    await scan('crisis card');
    await shot('crisis');
    await (await s.find(button('I understand'))).click();
    await s.find(heading('Your result'));
    assert.match(await (await s.find('[data-testid="score"]')).text(), /1 of 27/);
    // A total of 1 is "minimal", but with item 9 answered the result never says nothing more is
    // needed, and it repeats the crisis numbers.
    const result = await (await s.find('main')).text();
    assert.doesNotMatch(result, /Nothing more is needed/);
    const risk = await (await s.find('[data-testid="result-item9"]')).text();
    assert.match(risk, /You answered that you have had thoughts of being better off dead or of hurting yourself/);
    for (const n of ['Emergency: 113', 'Out-of-hours doctor: 116 117', 'Mental Helse helpline: 116 123']) assert.ok(risk.includes(`Call ${n}`), risk);
    await scan('result');
    await shot('result-item9');
    await fitsAtDoubleText('[data-testid="result-item9"]', 'result-item9');
    await (await s.find(button('Done'))).click();
    await s.find(heading('Hello, Kari Nordmann'));
    // The timeline marks the check-in, not only with its total and band.
    await nav('Timeline');
    const phq = '//article[.//p[contains(normalize-space(), "PHQ9: 1 of 27") or contains(normalize-space(), "PHQ-9: 1 of 27")]]';
    assert.match(await (await s.find(`${phq}//*[@data-testid="item9-mark"]`)).text(),
      /Answered that they have had thoughts of being better off dead or of hurting themselves: Several days/);
    await scan('timeline with the item 9 mark');
    await s.execute(`document.evaluate(arguments[0], document, null, 9, null).singleNodeValue.scrollIntoView({ block: 'center' })`, [`${phq}//*[@data-testid="item9-mark"]`]);
    await shot('timeline-item9');
    await fitsAtDoubleText('[data-testid="item9-mark"]', 'timeline-item9');
  });

  it('skipping item 9 asks once more, and the result says the risk was not asked about', async () => {
    await nav('Home');
    await (await s.find(button('Fill in a questionnaire'))).click();
    await (await s.find('//button[.//span[normalize-space()="Patient Health Questionnaire (PHQ-9)"]]')).click();
    for (let i = 1; i <= 8; i++) {
      await (await s.find(`//fieldset[@data-link-id="phq9-${i}"]//label[normalize-space()="Not at all"]`)).click();
    }
    await (await s.find(button('Save'))).click();
    await (await s.find(button('Save anyway'))).click();
    const ask = await s.find('[data-testid="item9-confirm"]');
    assert.match(await ask.text(), /You have not answered question 9, about thoughts that you would be better off dead or of hurting yourself/);
    await scan('item 9 confirmation');
    await fitsAtDoubleText('[data-testid="item9-confirm"]', 'item9-confirm');
    await (await s.find(button('Save without it'))).click();
    await s.find(heading('Your result'));
    assert.match(await (await s.find('[data-testid="result-item9"]')).text(), /was not answered, so this result does not tell whether you are at risk/);
    await (await s.find(button('Done'))).click();
    await s.find(heading('Hello, Kari Nordmann'));
  });

  it('the treatment set in Settings changes the advice: on immunotherapy a new cough is call now', async () => {
    await nav('Settings');
    await (await s.find('//fieldset[@data-testid="treatments"]//label[.//span[normalize-space()="Immunotherapy"]]')).click();
    await s.find('//p[@role="status" and normalize-space()="Treatment saved."]');
    assert.equal(await s.execute('return document.querySelector(\'[data-testid="treatments"] input:checked + span\')?.textContent'), 'Immunotherapy');
    await scan('settings with a treatment');
    await fitsAtDoubleText('[data-testid="treatments"]', 'settings-treatment');
    await nav('Home');
    await (await s.find(button('Log a symptom'))).click();
    await (await s.find(tile('Cough'))).click();
    await (await s.find(tile('2', '//fieldset[.//legend[normalize-space()="How bad is it?"]]'))).click();
    await (await s.find(button('Save'))).click();
    const card = await s.find('[data-testid="advice-card"][data-rule="immunotherapy-cough"]');
    assert.match(await card.text(), /On immunotherapy, any new cough needs to be looked at now/);
    await (await s.find(button('I understand'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
  });

  it('shows trends with a table beside each chart', async () => {
    await nav('Home');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '37,2');
    await (await s.find(button('Save'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await nav('Trends');
    await s.find(heading('Trends'));
    await s.find('//figure[.//h3[normalize-space()="Temperature (°C)"]]');
    const phq = '//figure[.//h3[normalize-space()="Patient Health Questionnaire (PHQ-9): total score"]]';
    const marks = await (await s.find(`${phq}//*[@data-testid="chart-marks"]`)).text();
    // The one with item 9 answered, and the one where it was skipped (no total, still listed).
    assert.match(marks, /thoughts of being better off dead or of hurting themselves: Several days/);
    assert.match(marks, /Question 9, about thoughts of being better off dead or of hurting oneself, was not answered/);
    const pain = await s.find('//figure[.//h3[normalize-space()="Pain (0–10)"]]');
    assert.ok((await s.findAll('//figure//canvas')).length >= 3, 'charts drawn');
    await (await s.find('//figure[.//h3[normalize-space()="Pain (0–10)"]]//summary')).click();
    assert.match(await pain.text(), /7/);
    await scan('trends');
    await shot('trends');
  });

  it('connects to a real clinic server and shows what was sent', async () => {
    assert.ok(clinic && existsSync(clinic), `COMPANION_CLINIC must name the built server (got ${clinic})`);
    const serverDir = mkdtempSync(join(tmpdir(), 'companion-clinic-'));
    const server = spawn(clinic, ['--data-dir', serverDir, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const address = await new Promise((resolve, reject) => {
        server.stdout.on('data', (d) => {
          const m = /listening on (\S+)/.exec(String(d));
          if (m) resolve(m[1]);
        });
        server.on('exit', () => reject(new Error('the clinic server stopped')));
      });
      const { code, patient } = JSON.parse(execFileSync(clinic, ['--data-dir', serverDir, 'patient', 'add', '--name', 'Kari Nordmann', '--json'], { encoding: 'utf8' }));
      const { token } = JSON.parse(execFileSync(clinic, ['--data-dir', serverDir, 'staff', 'add', '--name', 'Nurse', '--json'], { encoding: 'utf8' }));
      await nav('Settings');
      await fill('Clinic server address', `http://${address}`);
      await fill('Connection code', code);
      await (await s.find(button('Connect'))).click();
      const connected = await s.find('[data-testid="clinic-connected"]', { timeout: 20_000 });
      assert.equal(await connected.text(), `Connected to http://${address}`);
      await s.find('//p[@role="status" and starts-with(normalize-space(), "Sent ")]');
      await s.find('//p[normalize-space()="Waiting to be sent: 0"]');
      await scan('settings, connected');
      await (await s.find(button('Sync now'))).click();
      await s.find('//p[@role="status" and normalize-space()="Sent 0, received 0."]');

      // The clinic books a visit and answers a question; "Sync now" brings both.
      const staff = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
      const base = `http://${address}/fhir`;
      const comms = await (await fetch(`${base}/Communication?patient=${patient}`, { headers: staff })).json();
      const question = comms.entry[0].resource;
      const start = new Date(Date.now() + 7 * 86_400_000);
      start.setUTCHours(9, 0, 0, 0);
      const put = (path, body) => fetch(`${base}/${path}`, { method: 'PUT', headers: staff, body: JSON.stringify(body) });
      assert.equal((await put('Appointment/e2e-visit', {
        resourceType: 'Appointment', id: 'e2e-visit', status: 'booked', start: start.toISOString(),
        end: new Date(start.getTime() + 30 * 60_000).toISOString(),
        participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' }],
      })).status, 201);
      assert.equal((await put('Communication/e2e-answer', {
        resourceType: 'Communication', id: 'e2e-answer', status: 'completed',
        subject: { reference: `Patient/${patient}` },
        inResponseTo: [{ reference: `Communication/${question.id}` }],
        payload: [{ contentString: 'Bring your list; we will go through it.' }],
      })).status, 201);
      // And assigns its own form of ESAS-r, in Bokmål (a stand-in: the shipped form under
      // another version; its wording is not a translation).
      const form = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'assets', 'instruments', 'esas-r.json'), 'utf8'));
      Object.assign(form, { id: 'e2e-form', version: '1.0.0-e2e', language: 'nb', title: 'ESAS-r (klinikkens skjema, test)' });
      assert.equal((await put('Questionnaire/e2e-form', form)).status, 201);
      assert.equal((await put('Task/e2e-task', {
        resourceType: 'Task', id: 'e2e-task', status: 'requested', intent: 'order',
        focus: { reference: 'Questionnaire/e2e-form' }, for: { reference: `Patient/${patient}` },
      })).status, 201);
      await (await s.find(button('Sync now'))).click();
      await s.find('//p[@role="status" and normalize-space()="Sent 0, received 4."]');
      await nav('Home');
      const asked = await s.find('[data-testid="assigned"]');
      assert.match(await asked.text(), /The clinic asks you to fill in: ESAS-r \(klinikkens skjema, test\)/);
      const visit = await s.find('[data-testid="next-visit"]');
      assert.match(await visit.text(), /Next visit, booked by the clinic:/);
      await nav('Questions');
      const answer = await s.find('[data-testid="clinic-answer"]');
      assert.match(await answer.text(), /Answer from the clinic: Bring your list; we will go through it\./);
      await s.find('[data-testid="appointments"]');
      await scan('questions with the clinic\'s answer');
      await shot('questions-clinic');

      // The patient invites Ola to his own device; Ola joins from a second Companion.
      await nav('Settings');
      await (await s.find(button('Invite a carer to their own device'))).click();
      await fill('Name', 'Ola');
      await fill('Relationship', 'son');
      await (await s.find(button('Make invitation code'))).click();
      const invitation = await (await s.find('[data-testid="invitation-code"]', { timeout: 20_000 })).text();
      await scan('invitation');
      await joinAsCarer(`http://${address}`, invitation.trim());
    } finally {
      server.kill();
    }
  });

  it('locks, refuses a wrong passphrase with a clear message, unlocks with the right one', async () => {
    await nav('Settings');
    await s.find(heading('Settings'));
    await scan('settings');
    await (await s.find(button('Lock now'))).click();
    await s.find(heading('Unlock your diary'));
    await scan('unlock');
    await (await s.find(button('Forgot your passphrase?'))).click();
    await s.find(heading('Use your recovery code'));
    await scan('recover');
    await (await s.find(button('Back to unlock'))).click();
    await fill('Passphrase', 'not my passphrase');
    await (await s.find(button('Unlock'))).click();
    const error = await s.find('[role="alert"]:not([hidden])', { timeout: 20_000 });
    assert.match(await error.text(), /That passphrase is not right/);
    await scan('unlock with an error');
    await fill('Passphrase', PASS);
    await (await s.find(button('Unlock'))).click();
    await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
    await shot('home');
  });

  it('adds a carer who unlocks as themselves, logs a symptom labelled with their name, and is removed', async () => {
    const CARER = 'ingrid walks the dog';
    await nav('Settings');
    await (await s.find(button('Add a carer on this device'))).click();
    await s.find('#carer-name');
    await fill('Name', 'Ingrid');
    await fill('Relationship', 'daughter');
    await fill("The carer's passphrase", CARER);
    await fill("The carer's passphrase again", CARER);
    await fill('Your own passphrase, to confirm it is you', PASS);
    await scan('add a carer');
    await (await s.find(button('Add carer'))).click();
    await s.find('//p[@role="status" and normalize-space()="Ingrid can now unlock this diary with their own passphrase."]', { timeout: 20_000 });
    const listed = await s.find('[data-testid="carers"]');
    assert.match(await listed.text(), /Ingrid \(daughter\)/);
    assert.match(await listed.text(), /May: note what they see, see and add questions, see symptoms and temperatures/);

    // Ingrid unlocks with her own passphrase and works as herself.
    await (await s.find(button('Lock now'))).click();
    await s.find(heading('Unlock your diary'));
    await fill('Passphrase', CARER);
    await (await s.find(button('Unlock'))).click();
    await s.find(heading('Hello, Ingrid'), { timeout: 20_000 });
    assert.match(await (await s.find('[data-testid="signed-in-as"]')).text(), /signed in as daughter, helping Kari Nordmann/);
    await scan('home as a carer');
    // A carer fills in only the ESAS-r, as the family caregiver; the PHQ and GAD forms are the
    // patient's own report.
    await (await s.find(button('Fill in a questionnaire'))).click();
    await s.find(heading('Choose a questionnaire'));
    const offered = await s.execute('return [...document.querySelectorAll(".instrument-list .tile-title")].map((e) => e.textContent)');
    assert.deepEqual(offered, ['Edmonton Symptom Assessment System (revised version) (ESAS-r)']);
    await (await s.find('//button[.//span[normalize-space()="Edmonton Symptom Assessment System (revised version) (ESAS-r)"]]')).click();
    assert.match(await (await s.find('[data-testid="completed-by"]')).text(), /Completed by: Family caregiver/);
    await scan('ESAS-r as a carer');
    await fitsAtDoubleText('[data-testid="completed-by"]', 'esas-carer');
    await (await s.find(button('Cancel'))).click();
    await nav('Home');
    await (await s.find(button('Log a symptom'))).click();
    await (await s.find(tile('Pain'))).click();
    await (await s.find(tile('10', '//fieldset[.//legend[normalize-space()="How bad is it?"]]'))).click();
    await (await s.find(button('Save'))).click();
    await s.find('[data-testid="advice-card"]');
    await (await s.find(button('I understand'))).click();
    // What a carer notes is about the patient: "they seem unwell", and the card says so.
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '37,2');
    await (await s.find('//label[.//span[normalize-space()="They seem unwell"]]')).click();
    await (await s.find(button('Save'))).click();
    const theirs = await s.find('[data-testid="advice-card"][data-rule="temperature-unwell"]');
    assert.match(await theirs.text(), /They seem unwell\. After cancer treatment, that is a reason to call at any temperature\./);
    await scan('unwell card as a carer');
    await fitsAtDoubleText('[data-testid="advice-card"]', 'unwell-carer');
    await (await s.find(button('I understand'))).click();
    await nav('Timeline');
    const hers = await s.find('//article[.//p[contains(normalize-space(), "Pain: 10 of 10")]]');
    assert.match(await hers.text(), /Entered by Ingrid \(daughter\)/);
    await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]');
    assert.equal((await s.findAll('//article[.//p[contains(normalize-space(), "Wellbeing 7 of 10")]]')).length, 0, 'check-ins were not shared');
    await scan('timeline as a carer');
    await shot('timeline-carer');

    // The patient sees both, each labelled, and where they see the pain differently.
    await nav('Settings');
    await (await s.find(button('Lock now'))).click();
    await s.find(heading('Unlock your diary'));
    await fill('Passphrase', PASS);
    await (await s.find(button('Unlock'))).click();
    await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
    const differ = await s.find('[data-testid="differ"]');
    assert.match(await differ.text(), /Ingrid rated your pain 10 of 10, where you said 7\./);
    await scan('home, seen differently');
    await (await s.find(button('Add to questions for the visit'))).click();
    await s.find('//p[@role="status" and normalize-space()="Added to your questions."]');
    await nav('Timeline');
    assert.match(await (await s.find('//article[.//p[contains(normalize-space(), "Pain: 10 of 10")]]')).text(), /Entered by Ingrid \(daughter\)/);
    assert.match(await (await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]')).text(), /Entered by Kari Nordmann/);
    await s.find('//article[.//p[contains(normalize-space(), "Wellbeing 7 of 10")]]');

    // The summary for the visit keeps Ingrid's rating apart from Kari's own.
    await nav('Questions');
    await (await s.find(button('Summary for the visit'))).click();
    await s.find(heading('Summary for the visit'));
    await s.find('[data-testid="summary-person"]', { timeout: 20_000 });
    const people = await Promise.all((await s.findAll('[data-testid="summary-person"]')).map((p) => p.text()));
    assert.equal(people.length, 2, people.join('\n---\n'));
    assert.match(people[0], /^Noted by Kari Nordmann\s/);
    assert.match(people[0], /Pain: latest 7 of 10, worst 7 of 10/);
    assert.match(people[0], /Wellbeing: latest 7 of 10/);
    assert.doesNotMatch(people[0], /10 of 10/);
    assert.match(people[1], /^Noted by Ingrid \(daughter\), carer\s/);
    assert.match(people[1], /Pain: latest 10 of 10, worst 10 of 10/);
    assert.match(await (await s.find('[data-testid="summary-differ"]')).text(), /Pain: Ingrid \(daughter\) said 10 of 10, Kari Nordmann said 7 of 10/);
    assert.match(await (await s.find('[data-testid="summary-questions"]')).text(), /Ingrid rated my pain 10 of 10/);
    await scan('visit summary');
    await shot('visit-summary');

    // Removing Ingrid: her passphrase stops working at once; her entry stays.
    await nav('Settings');
    await (await s.find(button('Remove Ingrid'))).click();
    await (await s.find(button('Yes, remove'))).click();
    await s.find('//p[@role="status" and normalize-space()="Ingrid has been removed. Their passphrase no longer opens this diary."]', { timeout: 20_000 });
    await (await s.find(button('Lock now'))).click();
    await s.find(heading('Unlock your diary'));
    await fill('Passphrase', CARER);
    await (await s.find(button('Unlock'))).click();
    assert.match(await (await s.find('[role="alert"]:not([hidden])', { timeout: 20_000 })).text(), /That passphrase is not right/);
    await fill('Passphrase', PASS);
    await (await s.find(button('Unlock'))).click();
    await s.find(heading('Hello, Kari Nordmann'), { timeout: 20_000 });
    await nav('Timeline');
    await s.find('//article[.//p[contains(normalize-space(), "Pain: 10 of 10")]]');
  });

  it('switches to Bokmål and every screen follows', async () => {
    await nav('Settings');
    // Choosing from a native <select> popup is not scriptable under Xvfb; set it as the keyboard would.
    const id = await (await s.find(label('Language'))).attribute('for');
    await s.execute(
      `const el = document.getElementById(arguments[0]); el.value = 'nb'; el.dispatchEvent(new Event('change', { bubbles: true }));`,
      [id],
    );
    await s.find(heading('Innstillinger'));
    assert.equal(await s.execute('return document.documentElement.lang'), 'nb');
    await scan('settings (nb)');
    await nav('Hjem');
    await s.find(heading('Hei, Kari Nordmann'));
    await s.find(button('Registrer et symptom'));
    await scan('home (nb)');
    await nav('Tidslinje');
    await s.find('//article[.//p[contains(normalize-space(), "Smerte: 7 av 10")]]');
    await s.find('//article[.//p[contains(normalize-space(), "38,5 °C")]]');
    // The Bokmål sentence around the answer, which is the form's own (the English form's here).
    const marked = await s.find('//article[.//p[contains(normalize-space(), "PHQ-9: 1 av 27")]]//*[@data-testid="item9-mark"]');
    assert.match(await marked.text(), /Har hatt tanker om at det ville vært bedre å være død, eller om å skade seg selv: Several days/);
    const skipped = await s.find('//article[.//p[contains(normalize-space(), "PHQ-9: ingen samlet")]]//*[@data-testid="item9-mark"]');
    assert.match(await skipped.text(), /Spørsmål 9, om tanker om at det ville vært bedre å være død eller om å skade seg selv, ble ikke besvart/);
    await scan('timeline (nb)');
    await s.execute(`document.evaluate(arguments[0], document, null, 9, null).singleNodeValue.scrollIntoView({ block: 'center' })`,
      ['//article[.//p[contains(normalize-space(), "PHQ-9: 1 av 27")]]']);
    await shot('timeline-item9-nb');
    await fitsAtDoubleText('[data-testid="item9-mark"]', 'timeline-item9-nb');
    // Unwell at 37,2: the same call-now card, in Bokmål, with the numbers from the ruleset.
    await nav('Hjem');
    await (await s.find(button('Registrer temperatur'))).click();
    await fill('Temperatur (°C)', '37,2');
    await (await s.find('//label[.//span[normalize-space()="Jeg føler meg uvel"]]')).click();
    await (await s.find(button('Lagre'))).click();
    const card = await s.find('[data-testid="advice-card"][data-rule="temperature-unwell"]');
    const text = await card.text();
    assert.match(text, /Ring kreftavdelingen nå/);
    assert.match(text, /Du føler deg uvel\. Etter kreftbehandling er det en grunn til å ringe, uansett temperatur\./);
    assert.match(text, /Legevakt: 116 117/);
    assert.match(text, /Companion har ikke varslet klinikken/);
    await scan('unwell at 37,2 (nb)');
    await shot('unwell-37-2-nb');
    await fitsAtDoubleText('[data-testid="advice-card"]', 'unwell-37-2-nb');
    await (await s.find(button('Jeg forstår'))).click();
    await s.find('//p[@role="status" and normalize-space()="Lagret."]');
    // In Bokmål, the clinic's Bokmål form of ESAS-r is the one offered.
    await nav('Hjem');
    await (await s.find(button('Fyll ut et skjema'))).click();
    await s.find('//button[.//span[normalize-space()="ESAS-r (klinikkens skjema, test)"]]');
    await scan('check-ins with the clinic form (nb)');
    await nav('Spørsmål');
    await (await s.find(button('Oppsummering til timen'))).click();
    await s.find(heading('Oppsummering til timen'));
    assert.match(await (await s.find('[data-testid="summary-person"]', { timeout: 20_000 })).text(), /^Notert av Kari Nordmann\s[\s\S]*Smerte: sist 7 av 10/);
    await scan('visit summary (nb)');
  });
});
