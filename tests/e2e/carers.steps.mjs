// Locking, and a carer on the patient's device: what she may do, what she sees, and removing her.
import assert from 'node:assert/strict';
import { button, fill, fitsAtDoubleText, heading, label, nav, phone, pixels, press, scan, shot, tile, togglesShowState } from './helpers.mjs';
import { s } from './session.mjs';
import { PASS } from './context.mjs';

export const steps = [
  ['locks, refuses a wrong passphrase with a clear message, unlocks with the right one', async () => {
    await nav('Settings');
    await s.find(heading('Settings'));
    await scan('settings');
    // "Lock now" is the first thing in Settings, and the header locks from every screen.
    assert.equal(await s.execute('return document.querySelector("main button")?.textContent.trim()'), 'Lock now');
    await nav('Home');
    await (await s.find('[data-testid="bar-lock"]')).click();
    await s.find(heading('Unlock your diary'));
    await scan('unlock');
    // Emergency numbers, without unlocking.
    await (await s.find('[data-testid="emergency"] summary')).click();
    const numbers = await (await s.find('[data-testid="emergency"]')).text();
    for (const n of ['Emergency: 113', 'Out-of-hours doctor: 116 117', 'Mental Helse helpline: 116 123']) assert.ok(numbers.includes(`Call ${n}`), numbers);
    assert.deepEqual(await s.execute('return [...document.querySelectorAll("[data-testid=emergency] a.call")].map((a) => a.getAttribute("href"))'), ['tel:113', 'tel:116117', 'tel:116123']);
    await scan('unlock, emergency numbers');
    await phone('unlock');
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
  }],
  ['adds a carer who unlocks as themselves, logs a symptom labelled with their name, and is removed', async () => {
    const CARER = 'ingrid walks the dog';
    await nav('Settings');
    await (await s.find(button('Add a carer on this device'))).click();
    await s.find('#carer-name');
    await fill('Name', 'Ingrid');
    await fill('Relationship', 'daughter');
    await fill("The carer's passphrase", CARER);
    await fill("The carer's passphrase again", CARER);
    await fill('Your own passphrase, to confirm it is you', PASS);
    // What she may do: each tile shows its state, and a tap, Space or Enter changes it.
    const scopes = '[data-testid="scopes-add"]';
    const before = await togglesShowState(scopes);
    assert.deepEqual(before.map((x) => x.checked), [true, true, true, false]);
    assert.ok(before.every((x) => x.role === 'checkbox'));
    const checkins = await s.find('//fieldset[@data-testid="scopes-add"]//label[.//span[normalize-space()="see check-ins (mental health)"]]');
    const offLook = await pixels(checkins);
    assert.match(await checkins.text(), /Not allowed/);
    await checkins.click();
    assert.deepEqual((await togglesShowState(scopes)).map((x) => x.checked), [true, true, true, true]);
    assert.match(await checkins.text(), /Allowed/);
    assert.ok(!offLook.equals(await pixels(checkins)), 'the tile looks different when ticked');
    const box = await s.find('//fieldset[@data-testid="scopes-add"]//label[.//span[normalize-space()="see check-ins (mental health)"]]//input');
    await press(box, '\uE00D');
    assert.deepEqual((await togglesShowState(scopes)).map((x) => x.checked), [true, true, true, false], 'Space');
    await press(box, '\uE007');
    assert.deepEqual((await togglesShowState(scopes)).map((x) => x.checked), [true, true, true, true], 'Enter, without sending the form');
    await s.find('#carer-name');
    await press(box, '\uE00D');
    assert.deepEqual((await togglesShowState(scopes)).map((x) => x.checked), [true, true, true, false]);
    await fitsAtDoubleText(scopes, 'carer-scopes');
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
    assert.match(await (await s.find('[data-testid="signed-in-as"]')).text(), /signed in as Ingrid \(daughter\), helping Kari Nordmann/);
    await scan('home as a carer');
    // The clinic's receipts of the patient's alerts (Ingrid may see temperatures) at phone sizes;
    // who at the clinic has looked is Kari's, and not offered to her.
    assert.ok((await s.findAll('[data-testid="recent-advice"] [data-testid="receipt"]')).length > 0, 'a carer sees the receipts she may');
    await phone('carer-home-receipt', '[data-testid="recent-advice"]');
    // The clinic's care team and going-home plan, as a carer on the patient's device: not opened
    // by itself for her (the plan is Kari's to walk through), a tap away, at phone sizes.
    await (await s.find('[data-testid="open-care-team"]')).click();
    await s.find(heading('My care team'));
    await scan('my care team as a carer');
    await phone('carer-care-team');
    await (await s.find(button('Back'))).click();
    await (await s.find('[data-testid="open-plan"]')).click();
    await s.find('[data-testid="plan-call"]');
    await scan('going home as a carer');
    await phone('carer-going-home');
    for (let i = 0; i < 4; i++) await (await s.find(button('Next'))).click();
    await (await s.find(button('Done'))).click();
    await s.find(heading('Hello, Ingrid'));
    // Offered only what she may do: the patient's questions are Kari's to change, the recovery
    // code and the carers Kari's to manage.
    await nav('Questions');
    const kari = '//li[@class="question"][.//p[contains(normalize-space(), "Can I travel to my daughter in March?")]]';
    await s.find(kari);
    for (const offered of ['Edit', 'Archive', 'Mark as asked', 'Answer']) {
      assert.equal((await s.findAll(`${kari}//button[normalize-space()="${offered}"]`)).length, 0, `${offered} on Kari's question`);
    }
    // What Kari wrote reads as hers.
    assert.match(await (await s.find(kari)).text(), /Kari Nordmann: Can I travel to my daughter in March\?/);
    await fill('New question', 'Should Mum rest after each cycle?');
    await (await s.find(button('Add question'))).click();
    const mine = '//li[@class="question"][.//p[normalize-space()="Should Mum rest after each cycle?"]]';
    await s.find(`${mine}//button[normalize-space()="Edit"]`);
    await scan('questions as a carer');
    await phone('carer-questions');
    await nav('Settings');
    await s.find('[data-testid="carers"]');
    for (const offered of ['Make a new recovery code', 'Make a backup', 'Add a carer on this device', 'Remove Ingrid', 'Invite a carer to their own device']) {
      assert.equal((await s.findAll(button(offered))).length, 0, `${offered} is not offered to a carer`);
    }
    assert.match(await (await s.find('main')).text(), /Signed in as Ingrid \(daughter\)/);
    assert.equal((await s.findAll('[data-testid="access-log"]')).length, 0, 'who has looked is the patient\'s, not a carer\'s');
    await scan('settings as a carer');
    await nav('Timeline');
    assert.match(await (await s.find('//article[.//p[contains(normalize-space(), "37.2 °C")]][.//*[contains(normalize-space(), "I feel unwell")]]')).text(), /Kari Nordmann: I feel unwell/);
    await nav('Home');
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
    // The question names the disagreement, never the ratings (a carer may see questions but not symptoms).
    const questions = await (await s.find('[data-testid="summary-questions"]')).text();
    assert.match(questions, /Ingrid and I see one of my symptoms differently\. Can we talk about it\?/);
    assert.doesNotMatch(questions, /10 of 10|\b7\b|pain/i);
    // Every reading that raised advice, the low 35.6 °C included, and ESAS-r item by item.
    const advice = await (await s.find('[data-testid="summary-advice"]')).text();
    assert.match(advice, /Call the cancer ward now: 35\.6 °C \(feeling unwell\)/);
    assert.match(advice, /Call the cancer ward now: 38\.5 °C/);
    assert.match(await (await s.find('[data-testid="summary-checkin-esas-r"]')).text(), /ESAS-r: Pain: 3[\s\S]*ESAS-r: Wellbeing: 2/);
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
  }],
];
