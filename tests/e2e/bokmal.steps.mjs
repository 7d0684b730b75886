// Bokmål throughout.
import assert from 'node:assert/strict';
import { button, fill, fitsAtDoubleText, heading, label, nav, phone, scan, shot } from './helpers.mjs';
import { s } from './session.mjs';

export const steps = [
  ['switches to Bokmål and every screen follows', async () => {
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
    // The clinic's receipt, in Bokmål, at phone sizes and 200 % text.
    const closed = await s.find('[data-testid="recent-advice"] [data-testid="receipt"][data-state="closed"]');
    assert.match(await closed.text(), /Avsluttet .+: sykepleieren ringte deg\./);
    assert.match(await closed.text(), /Melding fra klinikken:/);
    await phone('home-receipt-nb', '[data-testid="recent-advice"]');
    await nav('Oppsett');
    assert.match(await (await s.find('[data-testid="access-log"]')).text(), /Hvem på klinikken som har sett opplysningene dine/);
    await phone('settings-access-log-nb', '[data-testid="access-log"]');
    await nav('Hjem');
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
    // Dates follow the app's language, in the charts' period and in date fields too.
    const month = new Intl.DateTimeFormat('nb-NO', { month: 'short' }).format(new Date());
    await nav('Utvikling');
    assert.match(await (await s.find('[data-testid="trends-period"]')).text(), new RegExp(`^Fra \\d{1,2}\\. \\S+ \\d{4} til \\d{1,2}\\. ${month.replace(".", "")}\\.? \\d{4}$`));
    await nav('Spørsmål');
    const months = await s.execute('return [...document.querySelectorAll("#next-visit-month option")].map((o) => o.textContent.trim()).filter(Boolean)');
    assert.deepEqual(months.slice(0, 3), ['januar', 'februar', 'mars']);
    assert.equal(months[11], 'desember');
  }],
];
