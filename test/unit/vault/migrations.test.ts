// Migrations from every earlier schema version: build a database at version k with the real migrations up to k,
// fill it with data valid at k, then unlock it through the public API and check the data and the new features.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { openConnection } from '../../../core/vault/connection.ts';
import { openVault, LATEST_SCHEMA_VERSION, VaultError, vaultPaths } from '../../../core/vault/index.ts';
import { buildKeyFile, readKeyFile, unwrapWithPassphrase, writeKeyFileAtomic } from '../../../core/vault/keyfile.ts';
import { applyMigrations, MIGRATIONS, schemaVersion, type Migration } from '../../../core/vault/schema.ts';
import { PASSPHRASE, snapshotFiles, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';

/** Rows each schema version can hold, inserted with that version's own columns. */
function seed(db: ReturnType<typeof openConnection>, version: number): void {
  if (version >= 1) {
    db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)').run('protocol:identity', Buffer.from([1, 2, 3]));
    const insert = db.prepare('INSERT INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 30; i++) insert.run(`m${i}`, 'room', 'alice', 1000 + i, 2000 + i, `legacy message ${i} about migrations`);
  }
  if (version >= 2) {
    db.prepare('INSERT INTO attachments (id, message, file_key, size, created_at) VALUES (?, ?, ?, ?, ?)').run('ab'.repeat(16), 1, Buffer.from(randomBytes(32)), 0, 5);
  }
}

/** A complete vault directory (key file, lock file) whose database stops at `version`. */
async function vaultAtVersion(t: TestContext, version: number): Promise<string> {
  const dir = tempDir(t);
  const paths = vaultPaths(dir);
  mkdirSync(paths.attachments);
  writeFileSync(paths.lockFile, '');
  const key = randomBytes(32);
  const db = openConnection({ file: paths.database, rawKey: key, create: true });
  applyMigrations(db, MIGRATIONS, version);
  assert.equal(schemaVersion(db), version);
  seed(db, version);
  db.close();
  writeKeyFileAtomic(paths.keyFile, await buildKeyFile(key, PASSPHRASE, TEST_KDF));
  return dir;
}

test('the migrations are numbered 1..N without gaps', () => {
  assert.deepEqual(MIGRATIONS.map((m) => m.version), Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
  assert.ok(LATEST_SCHEMA_VERSION >= 3);
});

for (let from = 1; from < LATEST_SCHEMA_VERSION; from++) {
  test(`a vault at schema version ${from} migrates to ${LATEST_SCHEMA_VERSION} with its data intact`, async (t) => {
    const dir = await vaultAtVersion(t, from);
    const vault = await openVault({ dir, passphrase: PASSPHRASE });
    t.after(() => vault.lock());
    assert.equal(vault.schemaVersion, LATEST_SCHEMA_VERSION);
    assert.deepEqual((await vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', ['protocol:identity']))?.value, new Uint8Array([1, 2, 3]));
    const page = await vault.historyPage('room', { limit: 100 });
    assert.equal(page.messages.length, 30);
    assert.deepEqual(page.messages[0], { id: 30, messageId: 'm29', conversationId: 'room', senderId: 'alice', sentAt: 1029, receivedAt: 2029, body: 'legacy message 29 about migrations', editedAt: null, expiresAt: null });
    assert.equal((await vault.searchMessages('migrations')).length, 30, 'old rows are searchable');
    // v2 feature: attachments exist and cascade with their message.
    const attachments = from >= 2 ? 1 : 0;
    assert.equal((await vault.get<{ n: number }>('SELECT count(*) AS n FROM attachments'))?.n, attachments);
    await vault.deleteMessages(['m0']);
    assert.equal((await vault.get<{ n: number }>('SELECT count(*) AS n FROM attachment_trash'))?.n, attachments);
    // v3 feature: expiry and edits.
    await vault.run('UPDATE messages SET expires_at = 1 WHERE message_id = ?', ['m1']);
    assert.equal((await vault.shred({ now: 10 })).messagesRemoved, 1);
    assert.equal((await vault.historyPage('room', { limit: 100 })).messages.length, 28);
    assert.deepEqual(await vault.integrityCheck(), []);
  });
}

test('a fresh vault and a migrated one end with the same schema', async (t) => {
  const schemaOf = async (dir: string): Promise<unknown> => {
    const vault = await openVault({ dir, passphrase: PASSPHRASE });
    try {
      return await vault.all("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name");
    } finally {
      await vault.lock();
    }
  };
  const fresh = await schemaOf(await vaultAtVersion(t, LATEST_SCHEMA_VERSION));
  for (let from = 1; from < LATEST_SCHEMA_VERSION; from++) assert.deepEqual(await schemaOf(await vaultAtVersion(t, from)), fresh, `from version ${from}`);
});

test('a failing migration rolls back completely and leaves the previous version', (t) => {
  const file = path.join(tempDir(t), 'x.db');
  const db = openConnection({ file, rawKey: randomBytes(32), create: true });
  t.after(() => db.close());
  const broken: Migration[] = [MIGRATIONS[0]!, { version: 2, description: 'breaks half way', sql: 'CREATE TABLE half (x); INSERT INTO no_such_table VALUES (1);' }];
  assert.throws(() => applyMigrations(db, broken), /no such table/);
  assert.equal(schemaVersion(db), 1);
  assert.deepEqual(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half'").get(), { n: 0 });
});

test('a database newer than this code is refused with UNSUPPORTED_VERSION and left untouched', async (t) => {
  const dir = await vaultAtVersion(t, LATEST_SCHEMA_VERSION);
  const paths = vaultPaths(dir);
  const db = openConnection({ file: paths.database, rawKey: unwrapWithPassphrase(readKeyFile(paths.keyFile), PASSPHRASE), create: false });
  db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
  db.close();
  const before = snapshotFiles(dir);
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), (e: unknown) => e instanceof VaultError && e.code === 'UNSUPPORTED_VERSION');
  assert.deepEqual(snapshotFiles(dir), before);
});
