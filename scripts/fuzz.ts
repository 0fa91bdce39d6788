// `npm run fuzz [-- ITERATIONS [SEED]]`: the protocol fuzzing harness, much longer than the bounded run in
// `npm test`. Prints per-decoder counts of accepted inputs and of each rejection code; exits non-zero (with the
// input in hex) on the first exception that is not a typed ProtocolError.
import { buildImageTargets, buildTargets, fuzz } from '../test/fuzz/harness.ts';

const iterations = Number(process.argv[2] ?? 50_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
console.log(`fuzzing every protocol decoder and image parser: ${iterations} inputs each, seed ${seed}`);
const started = performance.now();
const stats = fuzz([...buildTargets(), ...await buildImageTargets()], iterations, seed);
for (const [name, s] of Object.entries(stats.byTarget)) {
  const codes = Object.entries(s.codes).map(([code, n]) => `${code} ${n}`).join(', ');
  console.log(`  ${name}: ${s.runs} runs, ${s.accepted} accepted; ${codes}`);
}
console.log(`${stats.runs} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s, no untyped exception`);
