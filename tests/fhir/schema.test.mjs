// The clinic server checks incoming resources against a subset of the official R4 JSON schema
// (crates/companion-clinic/fhir/r4-subset.schema.json). It must be exactly what
// schema-subset.mjs makes from the R4 schema installed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the clinic server\'s R4 schema subset is made from the official schema', () => {
  const run = spawnSync(process.execPath, [new URL('schema-subset.mjs', import.meta.url).pathname, '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});
