import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { randomBytes, toBase64Url } from '../../../core/crypto/sodium.ts';
import {
  buildKeyFile,
  KEY_FILE_MAX_BYTES,
  parseKeyFile,
  readKeyFile,
  rewrapPassphrase,
  unwrapWithKeystore,
  unwrapWithPassphrase,
  writeKeyFileAtomic,
  type KeyFile,
  type KeystoreWrap,
} from '../../../core/vault/keyfile.ts';
import { VaultError } from '../../../core/vault/index.ts';
import { tempDir, TEST_KDF } from '../../support/vault-helpers.ts';
import { testKeystore } from '../../support/vault-keystore.ts';

const encode = (file: unknown): Uint8Array => Buffer.from(JSON.stringify(file));

function assertVaultError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof VaultError && error.code === code);
}

test('a key file round-trips and unwraps only with its passphrase', async () => {
  const key = randomBytes(32);
  const file = await buildKeyFile(key, 'right', TEST_KDF);
  const parsed = parseKeyFile(encode(file));
  assert.deepEqual(unwrapWithPassphrase(parsed, 'right'), key);
  assertVaultError(() => unwrapWithPassphrase(parsed, 'wrong'), 'WRONG_PASSPHRASE');
  assert.equal(parsed.keystoreWrap, null);
});

test('editing any KDF input or the wrap makes the passphrase fail to unwrap (associated data binds them)', async () => {
  const file = await buildKeyFile(randomBytes(32), 'pw', TEST_KDF);
  const edits: ((f: KeyFile) => KeyFile)[] = [
    (f) => ({ ...f, kdf: { ...f.kdf, opsLimit: f.kdf.opsLimit + 1 } }),
    (f) => ({ ...f, kdf: { ...f.kdf, memLimitBytes: f.kdf.memLimitBytes - 1024 * 1024 } }),
    (f) => ({ ...f, kdf: { ...f.kdf, salt: toBase64Url(randomBytes(16)) } }),
    (f) => {
      const wrap = Buffer.from(f.passphraseWrap, 'base64url');
      wrap[30]! ^= 1;
      return { ...f, passphraseWrap: toBase64Url(wrap) };
    },
  ];
  for (const edit of edits) assertVaultError(() => unwrapWithPassphrase(parseKeyFile(encode(edit(file))), 'pw'), 'WRONG_PASSPHRASE');
});

test('rewrapping changes the salt and passphrase slot but not the database key', async () => {
  const key = randomBytes(32);
  const file = await buildKeyFile(key, 'old', TEST_KDF);
  const next = rewrapPassphrase(file, key, 'new', TEST_KDF);
  assert.notEqual(next.kdf.salt, file.kdf.salt);
  assert.equal(next.keyCheck, file.keyCheck);
  assert.deepEqual(unwrapWithPassphrase(next, 'new'), key);
  assertVaultError(() => unwrapWithPassphrase(next, 'old'), 'WRONG_PASSPHRASE');
});

test('the keystore slot unwraps through the keystore, and a foreign or failing keystore is refused', async () => {
  const key = randomBytes(32);
  const keystore = testKeystore();
  const file = await buildKeyFile(key, 'pw', TEST_KDF, keystore);
  assert.deepEqual(await unwrapWithKeystore(parseKeyFile(encode(file)), keystore), key);
  const other = testKeystore();
  await assert.rejects(unwrapWithKeystore(file, other), (e: unknown) => e instanceof VaultError && e.code === 'KEYSTORE_UNAVAILABLE');
  const lying: KeystoreWrap = { provider: keystore.provider, wrap: keystore.wrap, unwrap: async () => randomBytes(32) };
  await assert.rejects(unwrapWithKeystore(file, lying), (e: unknown) => e instanceof VaultError && e.code === 'KEYSTORE_UNAVAILABLE');
  const renamed: KeystoreWrap = { ...keystore, provider: 'another-os' };
  await assert.rejects(unwrapWithKeystore(file, renamed), /belongs to/);
});

test('out-of-range KDF parameters, wrong lengths, unknown fields and newer versions are refused with typed errors', async () => {
  const file = await buildKeyFile(randomBytes(32), 'pw', TEST_KDF);
  assertVaultError(() => parseKeyFile(encode({ ...file, kdf: { ...file.kdf, memLimitBytes: 16 * 1024 ** 3 } })), 'CORRUPT');
  assertVaultError(() => parseKeyFile(encode({ ...file, kdf: { ...file.kdf, opsLimit: 0 } })), 'CORRUPT');
  assertVaultError(() => parseKeyFile(encode({ ...file, kdf: { ...file.kdf, salt: toBase64Url(randomBytes(8)) } })), 'CORRUPT');
  assertVaultError(() => parseKeyFile(encode({ ...file, passphraseWrap: toBase64Url(randomBytes(40)) })), 'CORRUPT');
  assertVaultError(() => parseKeyFile(encode({ ...file, extra: 1 })), 'CORRUPT');
  assertVaultError(() => parseKeyFile(encode({ ...file, version: 2 })), 'UNSUPPORTED_VERSION');
  assertVaultError(() => parseKeyFile(new Uint8Array(KEY_FILE_MAX_BYTES + 1).fill(0x20)), 'CORRUPT');
  assertVaultError(() => parseKeyFile(Uint8Array.from([0xff, 0xfe, 0x7b])), 'CORRUPT');
});

test('fuzz: arbitrary bytes and mutated key files only ever produce VaultError', async () => {
  const valid = encode(await buildKeyFile(randomBytes(32), 'pw', TEST_KDF));
  const onlyVaultErrors = (bytes: Uint8Array): void => {
    try {
      parseKeyFile(bytes);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), onlyVaultErrors), { seed: 1, numRuns: 500 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (mutations) => {
      const bytes = Uint8Array.from(valid);
      for (const [at, value] of mutations) bytes[at] = value;
      onlyVaultErrors(bytes);
    }),
    { seed: 2, numRuns: 500 },
  );
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => onlyVaultErrors(encode(value))), { seed: 3, numRuns: 300 });
});

test('writeKeyFileAtomic replaces the file and leaves no temporary behind; a missing file is NOT_FOUND', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'vault.keys');
  const first = await buildKeyFile(randomBytes(32), 'one', TEST_KDF);
  const second = await buildKeyFile(randomBytes(32), 'two', TEST_KDF);
  writeKeyFileAtomic(target, first);
  writeKeyFileAtomic(target, second);
  assert.deepEqual(readdirSync(dir), ['vault.keys']);
  assert.deepEqual(readKeyFile(target), second);
  assert.match(readFileSync(target, 'utf8'), /"format": "wardroom-vault-keys"/);
  assertVaultError(() => readKeyFile(path.join(dir, 'missing.keys')), 'NOT_FOUND');
  writeFileSync(target, '{"format":');
  assertVaultError(() => readKeyFile(target), 'CORRUPT');
});
