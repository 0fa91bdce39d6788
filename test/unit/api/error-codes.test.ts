// The contract's ErrorCode lists every code a caller can receive, so a UI can branch on each: this reads every
// `new ApiError('…'` and `new EngineError('…'` in core/ and checks the two agree both ways. A code passed as a
// variable is not visible here, but the compiler holds it to ErrorCode (ApiError's code type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiErrorShape, ErrorCode } from '../../../core/api/contract.ts';

const core = path.resolve(import.meta.dirname, '../../../core');
// `new ApiError('X'`, `new EngineError('X'`, and `super('X'` in a class that extends one of them (UntrustedRelayError)
const THROWN = /(?:new\s+(?:ApiError|EngineError)|(?<=extends\s+(?:ApiError|EngineError)\s*\{[^]*?)super)\(\s*'([^']*)'/g;

function thrownCodes(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const file of readdirSync(core, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(core, file), 'utf8');
    for (const match of source.matchAll(THROWN)) {
      const line = source.slice(0, match.index).split('\n').length;
      where.set(match[1]!, [...(where.get(match[1]!) ?? []), `core/${file}:${line}`]);
    }
  }
  return where;
}

test('every code core throws through the contract is in ErrorCode', () => {
  const thrown = thrownCodes();
  assert.ok(thrown.size >= 10, `the scan found only ${thrown.size} codes: has the throw syntax changed?`);
  const missing = [...thrown].filter(([code]) => !ErrorCode.options.includes(code as ErrorCode));
  assert.deepEqual(missing, [], 'add these codes to ErrorCode in core/api/contract.ts');
});

test('every code in ErrorCode is thrown somewhere in core', () => {
  const thrown = thrownCodes();
  const dead = ErrorCode.options.filter((code) => !thrown.has(code));
  assert.deepEqual(dead, [], 'these codes are never thrown: remove them from ErrorCode, or throw them');
});

test('the error shape that crosses a transport refuses a code outside the contract', () => {
  assert.ok(ApiErrorShape.safeParse({ code: 'NOT_FOUND', message: 'no such message' }).success);
  assert.ok(!ApiErrorShape.safeParse({ code: 'not_found', message: 'no such message' }).success);
});
