// What every end-to-end step uses: finding things as a person names them, filling fields, axe
// at every impact level, screenshots, and the phone-size checks (no sideways scroll, no word
// broken inside, at 360 and 390 px and at 100 % and 200 % text).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './webdriver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const artifacts = join(here, 'artifacts');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The session the steps drive (the patient's app, or a carer's second app for a while). */
export const app = { s: null };

export const button = (text) => `//button[normalize-space()="${text}"]`;
export const label = (text) => `//label[normalize-space()="${text}"]`;
/** A radio button or checkbox drawn as a large tile: the person taps the tile, its label. */
export const tile = (text, within = '') => `${within}//label[normalize-space()="${text}"]`;
export const heading = (text) => `//h1[normalize-space()="${text}"]`;
export const severity = (n) => tile(String(n), '//fieldset[.//legend[normalize-space()="How bad is it?"]]');

export async function fill(labelText, value) {
  const s = app.s;
  const id = await (await s.find(label(labelText))).attribute('for');
  // Into the middle of the view, clear of the tab bar fixed at the bottom.
  await s.execute('document.getElementById(arguments[0]).scrollIntoView({ block: "center" })', [id]);
  await (await s.find(`#${id}`)).type(value);
}

export async function nav(text) {
  await (await app.s.find(`//nav//button[normalize-space()="${text}"]`)).click();
}

export async function shot(name) {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.png`), await app.s.screenshot());
}

/** axe-core on the current screen; any violation, at any impact level, fails the test. */
export async function scan(screen) {
  const raw = await app.s.executeAsync(
    `${axeSource}
     const done = arguments[arguments.length - 1];
     window.axe.run(document, { resultTypes: ['violations'] })
       .then((r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))))
       .catch((e) => done(JSON.stringify({ error: String(e) })));`,
  );
  const violations = JSON.parse(raw);
  assert.ok(Array.isArray(violations), `axe did not run on ${screen}: ${raw}`);
  assert.deepEqual(violations, [], `accessibility violations on ${screen}`);
}

// In the page: what reaches past the right edge, and words broken across two lines.
const LAYOUT = `
  const roots = [...document.querySelectorAll(arguments[0])];
  const w = document.documentElement.clientWidth;
  const out = { scroll: document.documentElement.scrollWidth - w, over: [], broken: [] };
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 1 && r.height > 1 && !e.closest('.visually-hidden, [hidden], .tabs.compact .tab-label'); };
  for (const root of roots) {
    for (const e of [root, ...root.querySelectorAll('*')]) {
      // Inside a box that scrolls by itself (a wide table), only the box has to fit.
      if (!visible(e) || e.closest('svg') || e.parentElement?.closest('.table-wrap')) continue;
      const r = e.getBoundingClientRect();
      // A text field scrolls its own text (a long passphrase typed in); only the field must fit.
      const field = ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName);
      if (r.right > w + 1 || (!field && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')) {
        out.over.push(e.tagName + '.' + e.className + ' ' + (e.textContent ?? '').trim().slice(0, 40));
      }
    }
    // A tab's name is shown whole or not at all (then the icon stands alone).
    for (const l of root.querySelectorAll('.tabs:not(.compact) .tab-label')) {
      if (l.scrollWidth > l.clientWidth + 1) out.over.push('cut-off tab name ' + l.textContent);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      // Codes and addresses may break anywhere (their boxes say so).
      const style = n.parentElement && getComputedStyle(n.parentElement);
      if (!n.parentElement || !visible(n.parentElement) || style.wordBreak === 'break-all' || style.overflowWrap === 'anywhere') continue;
      // A word, or a part of one between hyphens, slashes or a soft hyphen the translation put at
      // a compound's seam ("gjenopprettings-kode"): a line may break there, and nowhere else.
      for (const m of n.data.matchAll(/[^\\s\\-\u00ad\u2010\u2013\u2014/]{2,}/g)) {
        const range = document.createRange();
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
        if (tops.size > 1) out.broken.push(m[0]);
      }
    }
  }
  return out;`;

/**
 * The current screen at a phone's sizes (390 and 360 px wide) and text sizes (100 % and 200 %):
 * no sideways scroll, nothing past the right edge, no word broken inside a line; a screenshot of
 * each in the artifacts. `selector` names what to check (the whole window by default).
 */
export async function phone(name, selector = 'body') {
  const s = app.s;
  try {
    for (const width of [390, 360]) {
      await s.resize(width, 844);
      await s.waitFor(`return window.innerWidth <= ${width}`, [], { what: `a ${width} px window` });
      for (const size of ['100%', '200%']) {
        await s.execute('document.documentElement.style.fontSize = arguments[0]', [size === '100%' ? '' : size]);
        await sleep(250);
        const found = await s.execute(LAYOUT, [selector]);
        await shot(`${name}-${width}${size === '100%' ? '' : '-200'}`);
        const where = `${name} at ${width} px and ${size} text`;
        if (found.scroll > 0) {
          const page = await s.execute(LAYOUT, ['body']);
          assert.fail(`${where}: the page scrolls sideways by ${found.scroll} px: ${page.over.join(' | ')}`);
        }
        assert.deepEqual(found.over, [], `${where}: past the right edge`);
        assert.deepEqual(found.broken, [], `${where}: words broken inside`);
      }
    }
  } finally {
    await s.execute('document.documentElement.style.fontSize = ""');
    await s.resize(390, 844);
    await sleep(150);
  }
}

/** At 200 % text, nothing inside `selector` reaches past the window's right edge. */
export async function fitsAtDoubleText(selector, name) {
  const s = app.s;
  await s.execute('document.documentElement.style.fontSize = "200%"');
  try {
    await sleep(150);
    await s.execute('document.querySelector(arguments[0])?.scrollIntoView({ block: "start" })', [selector]);
    const found = await s.execute(LAYOUT, [selector]);
    await shot(`${name}-200`);
    assert.deepEqual(found.over, [], `past the right edge at 200 % text on ${name}`);
    assert.deepEqual(found.broken, [], `words broken inside at 200 % text on ${name}`);
  } finally {
    await s.execute('document.documentElement.style.fontSize = ""');
  }
}

/**
 * Every checkbox drawn as a tile in `fieldset` shows its state in the DOM and in the pixels
 * alike: `checked` agrees with the tile's "on" look, and a tile looks different ticked and not.
 */
export async function togglesShowState(fieldset) {
  const s = app.s;
  const state = await s.execute(
    `return [...document.querySelectorAll(arguments[0] + ' label.toggle')].map((l) => {
       const box = l.querySelector('input[type=checkbox]');
       return { checked: box.checked, on: l.classList.contains('on'), bg: getComputedStyle(l).backgroundColor, role: box.type };
     });`,
    [fieldset],
  );
  assert.ok(state.length > 0, `no toggles in ${fieldset}`);
  for (const t of state) assert.equal(t.on, t.checked, `${fieldset}: the look agrees with the checkbox`);
  const on = state.filter((t) => t.checked).map((t) => t.bg);
  const off = state.filter((t) => !t.checked).map((t) => t.bg);
  for (const b of on) assert.ok(!off.includes(b), `${fieldset}: a ticked tile has a background of its own`);
  return state;
}

/** Presses keys on an element (WebDriver key codes: Space "\\uE00D", Enter "\\uE007", Tab "\\uE004"). */
export async function press(el, keys) {
  await el.keys(keys);
}

export async function pixels(el) {
  return el.screenshot();
}

/** Tabs through the screen: every focused element shows a ring that is dark enough against
 *  white (3:1) and is not cut off by the window or a clipping box. */
export async function focusRings(screen, steps = 25) {
  const s = app.s;
  // Under Xvfb no window manager gives the window the keyboard, and without it nothing matches
  // :focus. xdotool hands it over, as a person's click on the window would.
  if (!(await s.execute('return document.hasFocus()'))) {
    execFileSync('xdotool', ['search', '--onlyvisible', '--name', '^Companion$', 'windowfocus', '--sync']);
    await s.waitFor('return document.hasFocus()', [], { what: 'the window to have the keyboard' });
  }
  await s.execute('document.activeElement?.blur(); window.scrollTo(0, 0)');
  const problems = [];
  for (let i = 0; i < steps; i++) {
    await s.tab();
    const found = await s.execute(`
      const a = document.activeElement;
      if (!a || a === document.body) return null;
      const ring = a.closest('.choice, .scale-option, .toggle') && a.matches('input') ? a.closest('.choice, .scale-option, .toggle') : a;
      const st = getComputedStyle(ring);
      const width = parseFloat(st.outlineWidth) || 0, offset = parseFloat(st.outlineOffset) || 0;
      const rgb = st.outlineColor.match(/[\\d.]+/g).slice(0, 3).map(Number).map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
      const lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
      const contrast = 1.05 / (lum + 0.05);
      const r = ring.getBoundingClientRect();
      const grow = Math.max(0, width + offset);
      const box = { left: r.left - grow, right: r.right + grow };
      let clipped = box.left < -0.5 || box.right > document.documentElement.clientWidth + 0.5;
      for (let p = ring.parentElement; p && !clipped; p = p.parentElement) {
        const o = getComputedStyle(p);
        if (o.overflowX !== 'visible' || o.overflowY !== 'visible') {
          const q = p.getBoundingClientRect();
          if (box.left < q.left - 0.5 || box.right > q.right + 0.5) clipped = true;
        }
      }
      const name = (a.textContent || a.getAttribute('aria-label') || a.id || a.tagName).trim().slice(0, 30);
      return { name, style: st.outlineStyle, width, contrast, clipped, inBar: !!a.closest('.bar') };
    `);
    if (!found) continue;
    if (found.style === 'none' || found.width < 2) problems.push(`${found.name}: no ring`);
    else if (!found.inBar && found.contrast < 3) problems.push(`${found.name}: ring contrast ${found.contrast.toFixed(2)}`);
    if (found.clipped) problems.push(`${found.name}: ring cut off`);
  }
  assert.deepEqual(problems, [], `focus rings on ${screen}`);
}
