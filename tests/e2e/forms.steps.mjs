// Forms as a tired patient uses them: several symptoms at once, a low temperature while
// feeling unwell, questionnaires answered in any order, ESAS-r on a touch screen; then trends.
import assert from 'node:assert/strict';
import { sleep } from './webdriver.mjs';
import { button, fill, heading, nav, phone, scan, shot, tile } from './helpers.mjs';
import { s } from './session.mjs';

/** Closes an advice card if one opened (with "I understand"). */
async function understood() {
  await sleep(400);
  if ((await s.findAll('[data-testid="advice-card"]')).length) await (await s.find(button('I understand'))).click();
}

const choose = (link, text) => s.find(`//fieldset[@data-link-id="${link}"]//label[normalize-space()="${text}"]`).then((e) => e.click());

export const steps = [
  ['logs several symptoms in one form, each with its own severity, Save always in view', async () => {
    await nav('Home');
    await (await s.find(button('Log a symptom'))).click();
    await s.find(heading('Log a symptom'));
    await (await s.find(tile('Nausea'))).click();
    await (await s.find(tile('Tiredness'))).click();
    // Both ticked, each shown as ticked (a real checkbox and the tile's look agree).
    const ticked = await s.execute('return [...document.querySelectorAll("[data-testid=symptom-choices] label.toggle")].filter((l) => l.querySelector("input").checked && l.classList.contains("on")).map((l) => l.textContent.trim())');
    assert.deepEqual(ticked.sort(), ['Nausea', 'Tiredness']);
    // Every severity at least 44 by 44 px.
    const small = await s.execute('return [...document.querySelectorAll(".scale-option")].map((o) => o.getBoundingClientRect()).filter((r) => r.width < 44 || r.height < 44).length');
    assert.equal(small, 0, 'severity tiles are at least 44 × 44 px');
    // Save is in view without scrolling to the end.
    assert.ok(await s.execute('const b = [...document.querySelectorAll("button")].find((x) => x.textContent.trim() === "Save"); const r = b.getBoundingClientRect(); return r.bottom <= window.innerHeight && r.top >= 0'));
    // One left without a severity: the error is beside it, and nothing is saved.
    await (await s.find('//section[@data-symptom="nausea"]//label[normalize-space()="3"]')).click();
    await (await s.find(button('Save'))).click();
    assert.match(await (await s.find('//section[@data-symptom="tiredness"]//*[@role="alert" and not(@hidden)]')).text(), /Severity is required/);
    await scan('several symptoms, one without a severity');
    await phone('symptom-form');
    await (await s.find('//section[@data-symptom="tiredness"]//label[normalize-space()="5"]')).click();
    await (await s.find(button('Save'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await nav('Timeline');
    await s.find('//article[.//p[contains(normalize-space(), "Nausea: 3 of 10")]]');
    await s.find('//article[.//p[contains(normalize-space(), "Tiredness: 5 of 10")]]');
  }],

  ['a low temperature while feeling unwell: the card says what it is about, never "even if you feel well"', async () => {
    await nav('Home');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '35,6');
    await (await s.find('//label[.//span[normalize-space()="I feel unwell"]]')).click();
    await (await s.find(button('Save'))).click();
    const card = await s.find('[data-testid="advice-card"][data-rule="low-temperature-unwell"]');
    await s.waitFor('return document.querySelector("[data-testid=advice-about]")?.textContent.trim()', [], { what: 'the line on what the card is about' });
    const text = await card.text();
    assert.match(text, /You logged 35\.6 °C \(feeling unwell\) at \d\d:\d\d\./);
    assert.match(text, /Your temperature is low and you feel unwell/);
    assert.doesNotMatch(text, /even if you feel well/i);
    await scan('low temperature, unwell');
    await phone('advice-card', '[data-testid="advice-card"]');
    await (await s.find(button('I understand'))).click();
    // Today's advice stays on the home screen, with its numbers as buttons.
    const recent = await s.find('//ul[@data-testid="recent-advice"]/li[1]');
    assert.match(await recent.text(), /Call the cancer ward now/);
    const calls = await (await s.find('[data-testid="advice-calls"]')).text();
    assert.match(calls, /Call Out-of-hours doctor: 116 117/);
    assert.match(calls, /Call Emergency: 113/);
    assert.match(calls, /Call Mental Helse helpline: 116 123/, 'the crisis card of the PHQ-9 today');
    await nav('Timeline');
    assert.match(await (await s.find('//article[.//p[contains(normalize-space(), "35.6 °C")]]')).text(), /Advice shown: Call the cancer ward now/);
  }],

  ['"Save anyway" goes once every question is answered; results say what they are about', async () => {
    for (const [title, prefix, count, answer, band] of [
      ['Patient Health Questionnaire (PHQ-9)', 'phq9', 9, 'Not at all', /Few or no signs of depression/],
      ['Generalized Anxiety Disorder 7-item (GAD-7)', 'gad7', 7, 'More than half the days', /Moderate signs of anxiety/],
    ]) {
      await nav('Home');
      await (await s.find(button('Fill in a questionnaire'))).click();
      await (await s.find(`//button[.//span[normalize-space()="${title}"]]`)).click();
      await s.find(heading(title));
      for (let i = 1; i < count; i++) await choose(`${prefix}-${i}`, answer);
      await (await s.find(button('Save'))).click();
      await s.find('//*[@id="q-confirm"]//button[normalize-space()="Save anyway"]');
      assert.match(await (await s.find('#q-confirm')).text(), /^1 question is not answered\./);
      // The last one answered: nothing is left to confirm.
      await choose(`${prefix}-${count}`, answer);
      await s.waitFor('return !document.getElementById("q-confirm")', [], { what: `"Save anyway" gone on ${title}` });
      assert.equal((await s.findAll(button('Save anyway'))).length, 0);
      assert.equal((await s.findAll('//*[contains(normalize-space(), "0 questions are not answered")]')).length, 0);
      await (await s.find(button('Save'))).click();
      await understood();
      await s.find(heading('Your result'));
      assert.match(await (await s.find('[data-testid="result-about"]')).text(), band);
      await scan(`${title} result`);
      await shot(`result-${prefix}`);
      await (await s.find(button('Done'))).click();
    }
  }],

  ['ESAS-r on a touch screen: choose, not circle; the result item by item', async () => {
    await nav('Home');
    await (await s.find(button('Fill in a questionnaire'))).click();
    const title = 'Edmonton Symptom Assessment System (revised version) (ESAS-r)';
    await (await s.find(`//button[.//span[normalize-space()="${title}"]]`)).click();
    await s.find(heading(title));
    const main = await (await s.find('main')).text();
    assert.doesNotMatch(main, /circle/i);
    assert.match(main, /Choose the number that best describes how you feel NOW/);
    const values = { pain: 3, tiredness: 2, drowsiness: 1, nausea: 1, appetite: 2, breath: 0, depression: 1, anxiety: 1, wellbeing: 2 };
    for (const [code, v] of Object.entries(values)) {
      await (await s.find(`//div[@data-link-id="esas-${code}"]//label[normalize-space()="${v}"]`)).click();
    }
    await scan('ESAS-r form');
    await phone('esas-form');
    await (await s.find(button('Save'))).click();
    await understood();
    await s.find(heading('Your result'));
    await (await s.find(button('Done'))).click();
  }],

  ['shows trends with a table beside each chart', async () => {
    await nav('Home');
    await (await s.find(button('Log temperature'))).click();
    await fill('Temperature (°C)', '37,2');
    await (await s.find(button('Save'))).click();
    await s.find('//p[@role="status" and normalize-space()="Saved."]');
    await nav('Trends');
    await s.find(heading('Trends'));
    await s.find('//figure[.//h2[normalize-space()="Temperature (°C)"]]');
    const phq = '//figure[.//h2[normalize-space()="Patient Health Questionnaire (PHQ-9): total score"]]';
    const marks = await (await s.find(`${phq}//*[@data-testid="chart-marks"]`)).text();
    // The one with item 9 answered, and the one where it was skipped (no total, still listed).
    assert.match(marks, /thoughts of being better off dead or of hurting themselves: Several days/);
    assert.match(marks, /Question 9, about thoughts of being better off dead or of hurting oneself, was not answered/);
    const pain = await s.find('//figure[.//h2[normalize-space()="Pain (0–10)"]]');
    assert.ok((await s.findAll('//figure//canvas')).length >= 3, 'charts drawn');
    await (await s.find('//figure[.//h2[normalize-space()="Pain (0–10)"]]//summary')).click();
    assert.match(await pain.text(), /7/);
    await scan('trends');
    await shot('trends');
    // The two wellbeing scales run opposite ways, and say so.
    await s.find('//figure[.//h2[normalize-space()="How you feel today (10 = very good)"]][.//*[normalize-space()="Higher is better."]]');
    await s.find('//figure[.//h2[normalize-space()="ESAS-r wellbeing (0 = best)"]][.//*[normalize-space()="Higher is worse."]]');
    // Each period draws its own axis.
    const axis = () => s.execute('const b = document.querySelector(".chart-box"); return b?.dataset.xMin ? [Number(b.dataset.xMin), Number(b.dataset.xMax), Number(b.dataset.width)] : null');
    await s.waitFor('return document.querySelector(".chart-box")?.dataset.xMin', [], { what: 'the first chart drawn' });
    const spans = { prev: Math.round(((await axis())[1] - (await axis())[0]) / 86_400_000) };
    for (const period of ['Week', 'Month', '3 months', 'All']) {
      await (await s.find(tile(period, '//fieldset[.//legend[normalize-space()="Period"]]'))).click();
      await s.waitFor(`const b = document.querySelector(".chart-box"); return b && Math.round((Number(b.dataset.xMax) - Number(b.dataset.xMin)) / 864e5) !== ${spans.prev ?? -1}`, [], { what: `the axis of ${period}` });
      const [from, to] = await axis();
      spans[period] = Math.round((to - from) / 86_400_000);
      spans.prev = spans[period];
    }
    assert.deepEqual([spans.Week, spans.Month, spans['3 months']], [7, 31, 92], JSON.stringify(spans));
    assert.ok(spans.All >= 7, JSON.stringify(spans));
    // A chart follows the window as it grows, without leaving the screen.
    const narrow = (await axis())[2];
    await s.resize(1280, 800);
    await s.waitFor(`return Number(document.querySelector(".chart-box").dataset.width) > ${narrow + 100}`, [], { what: 'the chart to grow with the window' });
    await shot('trends-desktop');
    await scan('trends at desktop size');
    await s.resize(390, 844);
    await s.waitFor('return window.innerWidth <= 390', [], { what: 'a 390 px window' });
  }],
];
