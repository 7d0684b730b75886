// End to end through the real app window: tauri-driver drives WebKitWebDriver, which starts the
// built app on a fresh diary folder. Run under Xvfb (see the Makefile). Every screen is scanned
// with axe-core at every impact level, and checked at a phone's sizes at 100 % and 200 % text.
import { after, before, beforeEach, describe, it } from 'node:test';
import { Session } from './webdriver.mjs';
import { app as current, shot } from './helpers.mjs';
import { s } from './session.mjs';
import { appBinary as app, dataDir, port, startDriver, stopDriver } from './context.mjs';
import { steps as patient } from './patient.steps.mjs';
import { steps as more } from './forms.steps.mjs';
import { steps as backup } from './backup.steps.mjs';
import { steps as clinic } from './clinic.steps.mjs';
import { steps as carers } from './carers.steps.mjs';
import { steps as bokmal } from './bokmal.steps.mjs';
import { steps as screens } from './screens.steps.mjs';

let driver;

describe('Companion in its real window', () => {
  before(async () => {
    driver = startDriver(port, { COMPANION_DATA_DIR: dataDir });
    current.s = await Session.start(`http://127.0.0.1:${port}`, { 'tauri:options': { application: app } });
    // A phone: 390 px wide.
    await s.resize(390, 844);
    await s.waitFor('return window.innerWidth <= 390', [], { what: 'a 390 px window' });
  });

  after(async () => {
    if (current.s) {
      await shot('last').catch(() => {});
      await s.end();
    }
    if (driver) await stopDriver(driver);
  });

  // A step that failed half-way leaves no card or form in front of the next one.
  beforeEach(async () => {
    await s.execute(`
      document.documentElement.style.fontSize = '';
      document.querySelector('[data-testid="advice-card"] .actions button.primary')?.click();
      if (!document.querySelector('nav.tabs')) document.querySelector('.form-footer .actions button')?.click();
    `).catch(() => {});
  });

  // In order: each step goes on from where the one before left the diary.
  for (const [name, step] of [...patient, ...more, ...backup, ...clinic, ...carers, ...bokmal, ...screens]) it(name, step);
});
