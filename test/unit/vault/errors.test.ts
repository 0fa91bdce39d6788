import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, fromShape, toShape, VaultError } from '../../../core/vault/errors.ts';

const withCode = (code: string, message = 'native message'): Error => Object.assign(new Error(message), { code });

test('SQLite and file-system failures map to the codes callers branch on', () => {
  const cases: [string, string][] = [
    ['SQLITE_NOTADB', 'CORRUPT'],
    ['SQLITE_CORRUPT', 'CORRUPT'],
    ['SQLITE_CORRUPT_INDEX', 'CORRUPT'],
    ['SQLITE_IOERR_SHORT_READ', 'CORRUPT'],
    ['SQLITE_FULL', 'DISK_FULL'],
    ['ENOSPC', 'DISK_FULL'],
    ['SQLITE_BUSY', 'LOCKED_BY_OTHER_PROCESS'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'CONSTRAINT'],
    ['ENOENT', 'NOT_FOUND'],
    ['EACCES', 'IO'],
    ['SQLITE_IOERR_WRITE', 'IO'],
    ['SQLITE_ERROR', 'SQL'],
    ['ERR_INVALID_ARG_TYPE', 'SQL'],
  ];
  for (const [native, expected] of cases) assert.equal(classify(withCode(native)).code, expected, native);
  assert.equal(classify('a thrown string').code, 'SQL');
  const original = new VaultError('WRONG_PASSPHRASE', 'no');
  assert.equal(classify(original), original, 'a VaultError passes through unchanged');
});

test('errors survive the worker boundary as code and message only', () => {
  const shape = toShape(withCode('SQLITE_FULL', 'database or disk is full'));
  assert.deepEqual(Object.keys(shape).sort(), ['code', 'message']);
  const rebuilt = fromShape(structuredClone(shape));
  assert.ok(rebuilt instanceof VaultError);
  assert.equal(rebuilt.code, 'DISK_FULL');
  assert.match(rebuilt.message, /disk is full/);
});
