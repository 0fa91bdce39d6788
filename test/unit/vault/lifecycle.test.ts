import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import {
  changePassphrase,
  createVault,
  keystoreProvider,
  LATEST_SCHEMA_VERSION,
  openVault,
  setKeystore,
  vaultExists,
  VaultError,
  type VaultErrorCode,
} from '../../../core/vault/index.ts';
import { SqlWorker } from '../../../core/vault/sql-client.ts';
import { repoModule, runModule } from '../../support/child-module.ts';
import { makeMessages, PASSPHRASE, snapshotFiles, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';
import { testKeystore } from '../../support/vault-keystore.ts';

const isVaultError = (code: VaultErrorCode) => (error: unknown) => error instanceof VaultError && error.code === code;

test('create, lock, reopen with the right passphrase: data persists at the latest schema', async (t) => {
  const dir = tempDir(t);
  assert.equal(vaultExists(dir), false);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  assert.equal(vault.schemaVersion, LATEST_SCHEMA_VERSION);
  assert.equal(vaultExists(dir), true);
  await vault.insertMessages(makeMessages('c', 10));
  await vault.lock();
  assert.equal(vault.isLocked, true);

  const reopened = await openVault({ dir, passphrase: PASSPHRASE });
  t.after(() => reopened.lock());
  assert.equal((await reopened.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 10);
  assert.equal(await reopened.get<{ journal_mode: string }>('PRAGMA journal_mode').then((r) => r?.journal_mode), 'wal');
  assert.equal(await reopened.get('PRAGMA secure_delete').then((r) => r?.secure_delete), 1);
  assert.equal(await reopened.get('PRAGMA auto_vacuum').then((r) => r?.auto_vacuum), 2, 'INCREMENTAL');
});

test('a wrong passphrase gets WRONG_PASSPHRASE and changes no file', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  await vault.insertMessages(makeMessages('c', 5));
  await vault.lock();
  const before = snapshotFiles(dir);
  await assert.rejects(openVault({ dir, passphrase: 'not the passphrase' }), isVaultError('WRONG_PASSPHRASE'));
  assert.deepEqual(snapshotFiles(dir), before);
  const again = await openVault({ dir, passphrase: PASSPHRASE });
  await again.lock();
});

test('createVault refuses an existing vault; openVault refuses an empty directory; bad arguments are typed errors', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  await assert.rejects(createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF }), isVaultError('ALREADY_EXISTS'));
  await vault.lock();
  await assert.rejects(openVault({ dir: tempDir(t), passphrase: PASSPHRASE }), isVaultError('NOT_FOUND'));
  await assert.rejects(createVault({ dir: tempDir(t), passphrase: '', kdf: TEST_KDF }), isVaultError('INVALID_ARGUMENT'));
  await assert.rejects(createVault({ dir: tempDir(t), passphrase: 'x', kdf: { opsLimit: 1, memLimitBytes: 1024 } }), isVaultError('INVALID_ARGUMENT'));
  await assert.rejects(openVault({ dir }), isVaultError('INVALID_ARGUMENT'));
});

test('a database left by a crashed createVault (no key file) does not block a new vault', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  await vault.lock();
  rmSync(path.join(dir, 'vault.keys')); // as if the crash came before the key file was written
  const fresh = await createVault({ dir, passphrase: 'another', kdf: TEST_KDF });
  assert.equal((await fresh.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 0);
  await fresh.lock();
});

test('changePassphrase re-wraps only: the old passphrase stops working, the database files are untouched', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: 'old passphrase', kdf: TEST_KDF });
  await vault.insertMessages(makeMessages('c', 3));
  await vault.lock();
  const before = snapshotFiles(dir);

  await assert.rejects(changePassphrase(dir, 'wrong', 'new passphrase', TEST_KDF), isVaultError('WRONG_PASSPHRASE'));
  assert.deepEqual(snapshotFiles(dir), before);

  await changePassphrase(dir, 'old passphrase', 'new passphrase', TEST_KDF);
  const after = snapshotFiles(dir);
  assert.notEqual(after['vault.keys'], before['vault.keys']);
  assert.equal(after['vault.db'], before['vault.db']);
  await assert.rejects(openVault({ dir, passphrase: 'old passphrase' }), isVaultError('WRONG_PASSPHRASE'));
  const reopened = await openVault({ dir, passphrase: 'new passphrase' });
  assert.equal((await reopened.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 3);

  // While this process has the vault open, the change needs no second instance lock.
  await changePassphrase(dir, 'new passphrase', 'third passphrase', TEST_KDF);
  await reopened.lock();
  await (await openVault({ dir, passphrase: 'third passphrase' })).lock();
});

test('the keystore slot unlocks without the passphrase and can be removed', async (t) => {
  const dir = tempDir(t);
  const keystore = testKeystore();
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF, keystore });
  await vault.insertMessages(makeMessages('c', 2));
  await vault.lock();
  const viaKeystore = await openVault({ dir, keystore });
  assert.equal((await viaKeystore.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 2);
  await viaKeystore.lock();
  await assert.rejects(openVault({ dir, keystore: testKeystore() }), isVaultError('KEYSTORE_UNAVAILABLE'));

  // A passphrase change keeps the database key, so the keystore slot keeps working; a wrong passphrase changes nothing.
  await changePassphrase(dir, PASSPHRASE, 'changed', TEST_KDF);
  await (await openVault({ dir, keystore })).lock();
  const before = snapshotFiles(dir);
  await assert.rejects(setKeystore(dir, PASSPHRASE, null), isVaultError('WRONG_PASSPHRASE'));
  assert.deepEqual(snapshotFiles(dir), before);

  // the slot's provider is readable without any key, so a front end knows how to ask before it asks
  assert.equal(keystoreProvider(dir), 'test-keystore');
  await setKeystore(dir, 'changed', null);
  assert.equal(keystoreProvider(dir), null);
  await assert.rejects(openVault({ dir, keystore }), isVaultError('KEYSTORE_UNAVAILABLE'));
  const other = testKeystore('other-os');
  await setKeystore(dir, 'changed', other);
  assert.equal(keystoreProvider(dir), 'other-os');
  await (await openVault({ dir, keystore: other })).lock();
  assert.throws(() => keystoreProvider(path.join(dir, 'nothing-here')), isVaultError('NOT_FOUND'));
});

test('a second open in the same process is LOCKED_BY_OTHER_PROCESS until lock(); a locked vault rejects with CLOSED', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), isVaultError('LOCKED_BY_OTHER_PROCESS'));
  await vault.lock();
  await vault.lock(); // idempotent
  await assert.rejects(vault.all('SELECT 1'), isVaultError('CLOSED'));
  await assert.rejects(vault.historyPage('c'), isVaultError('CLOSED'));
  const again = await openVault({ dir, passphrase: PASSPHRASE });
  await again.lock();
});

test('the database key is moved to the worker, not copied: the caller is left with a detached buffer', async (t) => {
  const dir = tempDir(t);
  const key = randomBytes(32);
  const transferred = new Uint8Array(key);
  const { worker } = await SqlWorker.start({ file: path.join(dir, 'x.db'), rawKey: transferred, create: true });
  assert.equal(transferred.byteLength, 0, 'the main thread no longer holds the key bytes');
  assert.deepEqual(await worker.get('SELECT 1 AS one'), { one: 1 });
  await worker.close();
  await assert.rejects(worker.get('SELECT 1'), isVaultError('CLOSED'));
});

test('a call made once close() has begun is refused at once, and awaiting close() keeps the process alive to the end', async (t) => {
  // The engine can still be finishing a batch when the CLI closes it: the late call used to reach the closing
  // worker, and its answer unref'd the worker after terminate(), so a top-level `await close()` could be left
  // unsettled (`wardroom whoami` exited 13 about one run in four). Twenty rounds make the old race all but certain.
  const dir = tempDir(t);
  const child = await runModule(`
    import { SqlWorker } from ${JSON.stringify(repoModule('core/vault/sql-client.ts'))};
    for (let round = 0; round < 20; round++) {
      const { worker } = await SqlWorker.start({ file: ${JSON.stringify(dir)} + '/db' + round, rawKey: new Uint8Array(32).fill(7), create: true });
      const closing = worker.close();
      const late = worker.get('SELECT 1').then(() => 'answered', (error) => error.code);
      await closing;
      if ((await late) !== 'CLOSED') throw new Error('the late call was ' + (await late));
    }
    console.log('closed 20');
  `);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout, 'closed 20\n');
});

test('lock() lets requests already queued finish and commit before it closes', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  const pending = vault.insertMessages(makeMessages('c', 500));
  await vault.lock();
  assert.equal((await pending).length, 500);
  const reopened = await openVault({ dir, passphrase: PASSPHRASE });
  t.after(() => reopened.lock());
  assert.equal((await reopened.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 500);
});
