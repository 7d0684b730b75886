// Every screen at a phone's size, in Bokmål, Nynorsk and English: no sideways scroll at 360 and 390 px,
// at 100 % and 200 % text, no word broken inside, axe-clean at every impact level, focus rings
// that can be seen; a screenshot of each in the artifacts.
import assert from 'node:assert/strict';
import { button, focusRings, heading, label, nav, phone, scan } from './helpers.mjs';
import { s } from './session.mjs';

const words = {
  nb: {
    home: 'Hjem', timeline: 'Tidslinje', trends: 'Utvikling', questions: 'Spørsmål', settings: 'Oppsett',
    symptom: 'Registrer et symptom', temperature: 'Registrer temperatur', checkin: 'Hvordan har du det i dag?',
    forms: 'Fyll ut et skjema', summary: 'Oppsummering til timen', again: 'Vis rådet igjen', close: 'Lukk', cancel: 'Avbryt', back: 'Tilbake',
    next: 'Neste', done: 'Ferdig',
  },
  nn: {
    home: 'Heim', timeline: 'Tidslinje', trends: 'Utvikling', questions: 'Spørsmål', settings: 'Oppsett',
    symptom: 'Registrer eit symptom', temperature: 'Registrer temperatur', checkin: 'Korleis har du det i dag?',
    forms: 'Fyll ut eit skjema', summary: 'Samandrag til timen', again: 'Vis rådet igjen', close: 'Lukk', cancel: 'Avbryt', back: 'Tilbake',
    next: 'Neste', done: 'Ferdig',
  },
  en: {
    home: 'Home', timeline: 'Timeline', trends: 'Trends', questions: 'Questions', settings: 'Settings',
    symptom: 'Log a symptom', temperature: 'Log temperature', checkin: 'How do you feel today?',
    forms: 'Fill in a questionnaire', summary: 'Summary for the visit', again: 'Show the advice again', close: 'Close', cancel: 'Cancel', back: 'Back',
    next: 'Next', done: 'Done',
  },
};

async function everyScreen(lang) {
  const w = words[lang];
  const check = async (name) => {
    await scan(`${name} (${lang})`);
    await phone(`screen-${name}-${lang}`);
  };
  // At 390 px and 100 % text every tab shows its name; at 200 % text the icons stand alone.
  assert.equal(await s.execute('return document.querySelector("nav.tabs").classList.contains("compact")'), false, `tab names shown (${lang})`);
  assert.deepEqual(await s.execute('return [...document.querySelectorAll(".tab-label")].filter((l) => l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent)'), []);
  for (const tab of ['home', 'timeline', 'trends', 'questions', 'settings']) {
    await nav(w[tab]);
    await s.waitFor('return document.querySelector("main h1")', [], { what: tab });
    await check(tab);
  }
  await nav(w.questions);
  await (await s.find(button(w.summary))).click();
  await s.find(heading(w.summary));
  await check('summary');
  // The clinic's care team and the going-home plan, every step of it.
  await nav(w.home);
  await (await s.find('[data-testid="open-care-team"]')).click();
  await s.find('[data-testid="call-now"]');
  await check('care-team');
  await (await s.find(button(w.back))).click();
  await (await s.find('[data-testid="open-plan"]')).click();
  for (const part of ['call', 'watch', 'visits', 'checkins', 'selfcare']) {
    await s.find(`[data-testid="plan-${part}"]`);
    await check(`going-home-${part}`);
    await (await s.find(button(part === 'selfcare' ? w.done : w.next))).click();
  }
  for (const [form, name] of [['symptom', 'symptom-form'], ['temperature', 'temperature-form'], ['checkin', 'checkin-form']]) {
    await nav(w.home);
    await (await s.find(button(w[form]))).click();
    await s.waitFor('return document.querySelector("main form")', [], { what: form });
    await check(name);
    await (await s.find(button(w.cancel))).click();
  }
  await nav(w.home);
  await (await s.find(button(w.forms))).click();
  await s.waitFor('return document.querySelector(".instrument-list")', [], { what: 'the questionnaires' });
  await check('questionnaires');
  await (await s.find('//ul[@class="instrument-list"]/li[1]//button')).click();
  await s.waitFor('return document.querySelector("main form")', [], { what: 'the PHQ-9 form' });
  await check('phq9-form');
  await (await s.find(button(w.cancel))).click();
  await nav(w.home);
  await (await s.find(`//ul[@data-testid="recent-advice"]/li[1]//button[normalize-space()="${w.again}"]`)).click();
  await s.find('[data-testid="advice-card"]');
  await check('advice-card');
  await (await s.find(button(w.close))).click();
  await nav(w.home);
}

export const steps = [
  ['every screen at phone size, in Bokmål, Nynorsk and English, at 100 % and 200 % text, axe-clean', async () => {
    const language = async (code, settings) => {
      const id = await (await s.find(label('Språk'))).attribute('for');
      await s.execute(
        `const el = document.getElementById(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true }));`,
        [id, code],
      );
      await s.find(heading(settings));
    };
    await everyScreen('nb');
    await nav('Oppsett');
    await language('nn', 'Innstillingar');
    await everyScreen('nn');
    await nav('Oppsett');
    await language('en', 'Settings');
    await everyScreen('en');
  }],

  ['the focus ring can be seen on everything the keyboard reaches', async () => {
    for (const [tab, steps] of [['Home', 20], ['Settings', 40]]) {
      await nav(tab);
      await s.waitFor('return document.querySelector("main h1")', [], { what: tab });
      await focusRings(tab, steps);
    }
    await nav('Home');
    await (await s.find(button('Log a symptom'))).click();
    await focusRings('the symptom form', 30);
    await (await s.find(button('Cancel'))).click();
  }],
];
