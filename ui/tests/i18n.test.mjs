// The message catalogues: English, Bokmål and Nynorsk must have the same keys, every key the UI uses must
// exist, and every error code, problem and field the core can send must have a translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..');
const core = join(ui, '..', 'crates', 'companion-core', 'src');
const en = JSON.parse(readFileSync(join(ui, 'src/i18n/en.json'), 'utf8'));
const nb = JSON.parse(readFileSync(join(ui, 'src/i18n/nb.json'), 'utf8'));
const nn = JSON.parse(readFileSync(join(ui, 'src/i18n/nn.json'), 'utf8'));
const catalogues = { en, nb, nn };

function files(dir, exts) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, exts);
    return exts.some((e) => name.endsWith(e)) ? [path] : [];
  });
}
const sources = files(join(ui, 'src'), ['.svelte', '.ts']).map((f) => [f, readFileSync(f, 'utf8')]);
const rust = files(core, ['.rs']).map((f) => readFileSync(f, 'utf8')).join('\n');
const snake = (s) => s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every language has exactly the same keys, none empty', () => {
  for (const [lang, cat] of Object.entries(catalogues)) {
    const other = lang === 'en' ? nb : en;
    const missing = Object.keys(other).filter((k) => !(k in cat));
    assert.deepEqual(missing, [], `missing in ${lang}`);
    for (const [k, v] of Object.entries(cat)) assert.ok(v.trim(), `${lang}: ${k} is empty`);
  }
});

test('placeholders agree between the languages', () => {
  for (const k of Object.keys(en)) {
    assert.deepEqual(placeholders(nb[k] ?? ''), placeholders(en[k]), k);
    assert.deepEqual(placeholders(nn[k] ?? ''), placeholders(en[k]), `nn: ${k}`);
  }
});

test('every key the UI names exists', () => {
  const used = new Set();
  for (const [file, text] of sources) {
    for (const m of text.matchAll(/\bt\(\s*'([^']+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/invalid\(\s*'([^']+)'/g)) used.add(`field.${m[1]}`);
    for (const m of text.matchAll(/\babout\(\s*\w+,\s*'([^']+)'/g)) used.add(`field.${m[1]}`);
    assert.ok(!/@tauri-apps\//.test(text) || file.endsWith(join('lib', 'ipc.ts')), `${file} talks to Tauri directly`);
  }
  const forms = sources.find(([f]) => f.endsWith('forms.ts'))[1];
  const symptoms = [...forms.matchAll(/^\s+'([a-z-]+)',$/gm)].map((m) => m[1]);
  assert.ok(symptoms.length >= 14);
  for (const s of symptoms) used.add(`symptom.${s}`);
  for (const k of ['symptom', 'temperature', 'checkin', 'question']) used.add(`kind.${k}`);
  for (const s of ['open', 'asked', 'answered', 'archived']) used.add(`questions.state.${s}`);
  for (const k of ['home', 'timeline', 'questions', 'settings']) used.add(`nav.${k}`);
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, []);
});

test('every error code, problem and field the core can send has a translation', () => {
  const block = (name) => rust.match(new RegExp(`pub enum ${name} \\{([\\s\\S]*?)\\n\\}`))[1];
  const codes = [...block('ErrorCode').matchAll(/^\s+(\w+),/gm)].map((m) => snake(m[1]));
  assert.ok(codes.includes('wrong_passphrase') && codes.length >= 10);
  for (const c of codes.filter((c) => c !== 'invalid')) assert.ok(`error.${c}` in en, `error.${c}`);
  const problems = [...block('Problem').matchAll(/^\s+(\w+)(?: \{|,)/gm)].map((m) => snake(m[1]));
  assert.ok(problems.includes('out_of_range'));
  for (const p of problems) assert.ok(`problem.${p}` in en, `problem.${p}`);
  const fields = new Set(
    [...rust.matchAll(/(?:Invalid::new|invalid|required_text|optional_text|check_passphrase)\(\s*"([a-z_]+)"/g)].map((m) => m[1]),
  );
  for (const name of ['severity', 'celsius', 'wellbeing']) fields.add(name);
  assert.ok(fields.size >= 15, [...fields].join());
  for (const f of fields) assert.ok(`field.${f}` in en, `field.${f}`);
});

test('the symptom details the UI offers are the ones the core accepts', () => {
  const forms = sources.find(([f]) => f.endsWith('forms.ts'))[1];
  const ui = Object.fromEntries(
    [...forms.matchAll(/^\s+'?([a-z-]+)'?: \[([^\]]*)\],$/gm)].map((m) => [m[1], [...m[2].matchAll(/'([a-z0-9-]+)'/g)].map((x) => x[1])]),
  );
  const body = rust.match(/pub fn flags\(self\)[\s\S]*?\n    \}/)[0];
  const core = {};
  for (const m of body.matchAll(/SymptomCode::(\w+) => &\[([^\]]*)\]/g)) {
    const code = m[1].replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    core[code] = [...m[2].matchAll(/"([a-z0-9-]+)"/g)].map((x) => x[1]);
  }
  assert.ok(Object.keys(core).length >= 5);
  assert.deepEqual(ui, core);
  for (const flags of Object.values(core)) for (const f of flags) assert.ok(`flag.${f}` in en, `flag.${f}`);
});

test('no text is written into the markup outside the catalogue', () => {
  // Language names are shown in their own language on purpose.
  const allowed = new Set(['English', 'Norsk bokmål', 'Norsk nynorsk', '↑', '↓', '(', ')', ':', '0–10']);
  for (const [file, text] of sources.filter(([f]) => f.endsWith('.svelte'))) {
    let markup = text
      .replace(/<script[\s\S]*?<\/script>/g, '')
      .replace(/<style[\s\S]*?<\/style>/g, '')
      .replace(/<!--[\s\S]*?-->/g, '');
    // Remove expressions, innermost first, however deeply they nest.
    while (/\{[^{}]*\}/.test(markup)) markup = markup.replace(/\{[^{}]*\}/g, ' ');
    markup = markup.replace(/<[^>]*>/g, '\n');
    const words = markup.split('\n').map((s) => s.trim()).filter((s) => s && !allowed.has(s) && !/^[\s:()\-–·]*$/.test(s));
    assert.deepEqual(words, [], file);
  }
});
