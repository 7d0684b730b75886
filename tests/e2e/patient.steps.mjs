// The patient on their own: set-up, logging, advice, correcting, questionnaires, trends.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { sleep } from './webdriver.mjs';
import { button, fill, fitsAtDoubleText, heading, label, nav, phone, scan, shot, tile } from './helpers.mjs';
import { s } from './session.mjs';
import { dataDir, PASS } from './context.mjs';

export const steps = [
  ['first start: asks for a name and passphrase, refuses a short one, shows the recovery code', async () => {
    await s.find(heading('Welcome to Companion'), { timeout: 30_000 });
    await scan('set-up');
    await phone('setup');
    // The language, and the passphrase shown on request.
    await s.find(label('Language'));
    await fill('Choose a passphrase', 'visible words');
    await (await s.find('//label[.//span[normalize-space()="Show passphrase"]]')).click();
    assert.equal(await (await s.find('#setup-pass')).attribute('type'), 'text');
    await (await s.find('//label[.//span[normalize-space()="Show passphrase"]]')).click();
    assert.equal(await (await s.find('#setup-pass')).attribute('type'), 'password');
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
    // The ward's number, asked for with the reason, and skippable.
    await s.find(heading("The cancer ward's phone number"));
    assert.match(await (await s.find('main')).text(), /until then, the advice shows 116 117 and 113/);
    await scan('ward number at set-up');
    await phone('setup-ward');
    await (await s.find(button('Skip for now'))).click();
    await s.find(heading('Hello, Kari Nordmann'));
    await scan('home');
  }],
  ['logs a symptom and shows it in the timeline', async () => {
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
  }],
  ['refuses a temperature out of range, and a fever shows the call-now card at once', async () => {
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
    // Without the ward's number, the emergency number is a button too, and the card says what it is about.
    assert.match(text, /Call Emergency: 113/);
    assert.match(text, /You logged 38\.5 °C at \d\d:\d\d\./);
    // A number never breaks across lines.
    assert.equal(await s.execute('return [...document.querySelectorAll(".call .number")].every((n) => n.getClientRects().length === 1)'), true);
    assert.match(text, /Companion has not told the clinic/);
    assert.doesNotMatch(text, /clinic (has been|was) (told|notified)/i);
    await scan('call-now card');
    await shot('call-now');
    await (await s.find(button('I understand'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await nav('Timeline');
    await s.find('//article[.//p[contains(normalize-space(), "38.5 °C")]]');
    assert.equal((await s.findAll('//article')).length, 2);
  }],
  ['feeling unwell at 37.2 shows the call-now card; the advice stays findable with its "I understand"', async () => {
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
  }],
  ['records a check-in, corrects an entry and withdraws another, keeping both', async () => {
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
    // Titled as a correction, opened at its top, with the version being corrected shown.
    await s.find(heading('Correct this entry'));
    assert.equal(await s.execute('return window.scrollY'), 0);
    assert.match(await (await s.find('[data-testid="correcting"]')).text(), /Pain: 6 of 10/);
    await scan('correcting an entry');
    await (await s.find(tile('7', '//fieldset[.//legend[normalize-space()="How bad is it?"]]'))).click();
    await (await s.find(button('Save'))).click();
    // Severe pain (7 or more): contact the ward within 24 hours.
    await s.find('[data-testid="advice-card"][data-level="contact_24h"]');
    await (await s.find(button('I understand'))).click();
    await s.find(heading('Timeline'));
    const corrected = await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]');
    assert.match(await corrected.text(), /Corrected/);
    // Corrected again: the earlier versions can be seen, as the CLI's `history` shows them.
    await (await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]//button[normalize-space()="Correct"]')).click();
    await s.find(heading('Correct this entry'));
    await fill('Note (optional)', 'Left hip, worse at night; better with the new tablets');
    await (await s.find(button('Save'))).click();
    await s.find(heading('Timeline'));
    await sleep(500);
    if ((await s.findAll('[data-testid="advice-card"]')).length) await (await s.find(button('I understand'))).click();
    await (await s.find('//article[.//p[contains(normalize-space(), "Pain: 7 of 10")]]//button[normalize-space()="Correct"]')).click();
    const history = await s.find('[data-testid="history"]');
    await (await s.find('[data-testid="history"] summary')).click();
    const versions = await history.text();
    assert.match(versions, /Earlier versions \(2\)/);
    assert.match(versions, /Version 2,[\s\S]*Pain: 7 of 10[\s\S]*Version 1,[\s\S]*Pain: 6 of 10/);
    await (await s.find(button('Cancel'))).click();
    await s.find(heading('Timeline'));

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
  }],
  ['adds a question for the next visit', async () => {
    await nav('Questions');
    await s.find(heading('Questions for the next visit'));
    await fill('New question', 'Can I travel to my daughter in March?');
    await (await s.find(button('Add question'))).click();
    await s.find('//li[@class="question"]//p[normalize-space()="Can I travel to my daughter in March?"]');
    await scan('questions');
    // Asked at the visit: where a question stands is not a correction of it.
    await fill('New question', 'Do I need to fast before the scan?');
    await (await s.find(button('Add question'))).click();
    await (await s.find('//li[@class="question"][.//p[normalize-space()="Do I need to fast before the scan?"]]//button[normalize-space()="Mark as asked"]')).click();
    await s.find('//h2[normalize-space()="Asked and answered"]/following-sibling::ul[1]//p[normalize-space()="Do I need to fast before the scan?"]');
    await nav('Timeline');
    const asked = await (await s.find('//article[.//p[normalize-space()="Do I need to fast before the scan?"]]')).text();
    assert.match(asked, /Asked/);
    assert.doesNotMatch(asked, /Corrected/);
  }],
  ['renders every shipped questionnaire in full', async () => {
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
  }],
  ['a PHQ-9 with item 9 answered shows the crisis card, then the result', async () => {
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
  }],
  ['skipping item 9 asks once more, and the result says the risk was not asked about', async () => {
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
  }],
  ['the treatment set in Settings changes the advice: on immunotherapy a new cough is call now', async () => {
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
  }],
];
