// Bounded fuzzing of every decoder inside `npm test` (fixed seed); `npm run fuzz` runs the same harness longer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargets, fuzz } from '../../fuzz/harness.ts';

test('every decoder answers random and mutated input with a typed ProtocolError or a valid result', { timeout: 120_000 }, () => {
  const targets = buildTargets();
  assert.ok(targets.length >= 15);
  // the valid samples themselves are accepted, so the mutations start from inputs that reach deep code
  for (const target of targets) for (const sample of target.samples) assert.doesNotThrow(() => target.run(sample), target.name);
  const stats = fuzz(targets, 400, 20261123);
  for (const [name, s] of Object.entries(stats.byTarget)) {
    assert.equal(s.runs, 400, name);
    assert.ok(Object.keys(s.codes).length > 0, `${name} rejected nothing`);
  }
});
