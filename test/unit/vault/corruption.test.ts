// Damaged files get a clear VaultError (CORRUPT), never a crash and never a silently empty vault.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createVault, openVault, VaultError, type VaultErrorCode } from '../../../core/vault/index.ts';
import { makeMessages, PASSPHRASE, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';

const isVaultError = (code: VaultErrorCode) => (error: unknown) => error instanceof VaultError && error.code === code;

/** A locked vault with a few hundred KiB of history, checkpointed into vault.db. */
async function filledVault(t: TestContext): Promise<{ dir: string; db: string; original: Buffer }> {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  await vault.insertMessages(makeMessages('c', 3000, { body: (i) => `message body number ${i} with some words` }));
  await vault.lock();
  const db = path.join(dir, 'vault.db');
  return { dir, db, original: readFileSync(db) };
}

test('a truncated, emptied or missing database file is CORRUPT at unlock', async (t) => {
  const { dir, db, original } = await filledVault(t);
  assert.ok(original.length > 100_000);
  for (const cut of [original.length / 2, 3 * 4096, 100, 0]) {
    writeFileSync(db, original.subarray(0, cut));
    await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('CORRUPT'), `cut at ${cut}`);
    assert.equal(readFileSync(db).length, cut, 'the damaged file is left as it was, for recovery');
  }
  rmSync(db);
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('CORRUPT'));
  writeFileSync(db, original);
  await (await openVault({ dir, passphrase: PASSPHRASE })).lock();
});

test('garbage in page 1 is CORRUPT at unlock; garbage in a data page is CORRUPT when read and in integrityCheck', async (t) => {
  const { dir, db, original } = await filledVault(t);
  const headerDamaged = Buffer.from(original);
  headerDamaged.fill(0x41, 20, 200);
  writeFileSync(db, headerDamaged);
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('CORRUPT'));

  // Damage every page in the second half of the file, where the messages went after the schema was written (the
  // schema's own pages come first and are read at unlock): SQLCipher's per-page HMAC refuses them on read.
  const dataDamaged = Buffer.from(original);
  for (let page = Math.floor(original.length / 4096 / 2); page < original.length / 4096 - 2; page++) dataDamaged[page * 4096 + 1000]! ^= 0xff;
  writeFileSync(db, dataDamaged);
  const vault = await openVault({ dir, passphrase: PASSPHRASE });
  t.after(() => vault.lock());
  await assert.rejects(vault.all('SELECT body FROM messages'), isVaultError('CORRUPT'));
  const problems = await vault.integrityCheck().catch((error: unknown) => (isVaultError('CORRUPT')(error) ? ['CORRUPT'] : Promise.reject(error)));
  assert.ok(problems.length > 0, 'integrityCheck reports the damage');
  assert.deepEqual(await vault.get('SELECT 1 AS alive'), { alive: 1 }, 'the worker survives and answers');
});

test('a damaged or missing key file is a typed error, not a crash', async (t) => {
  const { dir } = await filledVault(t);
  const keyFile = path.join(dir, 'vault.keys');
  const original = readFileSync(keyFile);
  writeFileSync(keyFile, original.subarray(0, 50));
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('CORRUPT'));
  writeFileSync(keyFile, original.toString().replace('"version": 1', '"version": 7'));
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('UNSUPPORTED_VERSION'));
  rmSync(keyFile);
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('NOT_FOUND'));
});
