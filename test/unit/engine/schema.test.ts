// A profile's schema is the vault's migrations followed by the engine's (each kept beside the queries that use its
// tables). The list must be consecutive, and a profile written by an older release must open with its data intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { createVault, openVault, VAULT_MIGRATIONS, VaultError } from '../../../core/vault/index.ts';
import { PASSPHRASE, TEST_KDF, tempDir } from '../../support/vault-helpers.ts';

test('profile migrations are the vault\'s, then the engine\'s, numbered 1, 2, 3 … without gaps', () => {
  assert.deepEqual(PROFILE_MIGRATIONS.slice(0, VAULT_MIGRATIONS.length), VAULT_MIGRATIONS);
  assert.deepEqual(PROFILE_MIGRATIONS.map((m) => m.version), PROFILE_MIGRATIONS.map((_, i) => i + 1));
});

test('a profile from before mentions and display names opens migrated, its rows intact', async (t) => {
  const dir = tempDir(t);
  const old = PROFILE_MIGRATIONS.filter((m) => m.version <= 4);
  let vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF, migrations: old });
  assert.equal(vault.schemaVersion, 4);
  await vault.transaction([
    { sql: "INSERT INTO conversations (id, kind, remote_id, name, unread) VALUES ('d:ben', 'direct', 'ben', 'ben', 3)" },
    { sql: "INSERT INTO people (username, account_id, verified) VALUES ('ben', 'acct', 1)" },
  ]);
  await vault.lock();
  vault = await openVault({ dir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
  assert.equal(vault.schemaVersion, PROFILE_MIGRATIONS.at(-1)!.version);
  assert.deepEqual(await vault.get('SELECT unread, mentions FROM conversations WHERE id = ?', ['d:ben']), { unread: 3, mentions: 0 });
  assert.deepEqual(await vault.get('SELECT verified, display_name FROM people WHERE username = ?', ['ben']), { verified: 1, display_name: null });
  await vault.lock();
  // code that knows only the vault's own tables refuses the profile instead of touching it
  await assert.rejects(openVault({ dir, passphrase: PASSPHRASE }), (e: unknown) => e instanceof VaultError && e.code === 'UNSUPPORTED_VERSION');
});
