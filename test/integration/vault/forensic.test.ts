// Forensic test: after deleting messages and an attachment and running the shredder, the deleted content must be
// found nowhere on disk: not in any decrypted page of the database or WAL, not in any raw file, and the
// attachment's key must be gone too. A control message and attachment that were NOT deleted must still be found,
// so the test can fail. Pages are decrypted by an independent SQLCipher 4 implementation (node:crypto).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createVault, type Vault } from '../../../core/vault/index.ts';
import { decryptDatabase, decryptWal } from '../../support/vault-sqlcipher-pages.ts';
import { makeMessages, PASSPHRASE, tempDir, TEST_KDF, unwrapDatabaseKeyIndependently } from '../../support/vault-helpers.ts';

const DELETED = 'zq7deletedmarker4417kq';
const EXPIRED = 'zq7expiredmarker9921vb';
const CONTROL = 'zq7controlmarker0386mt';
const DELETED_FILE = 'zq7deletedattachment5150';
const CONTROL_FILE = 'zq7controlattachment2207';

interface Scan {
  /** markers found in decrypted database pages */
  database: Set<string>;
  /** markers found in decrypted WAL frames */
  wal: Set<string>;
  /** markers found in any raw file of the vault directory */
  raw: Set<string>;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? allFiles(full) : [full];
  });
}

function scan(dir: string, rawKey: Uint8Array, needles: Record<string, Buffer>): Scan {
  const found = (haystack: Buffer): Set<string> => new Set(Object.entries(needles).filter(([, needle]) => haystack.includes(needle)).map(([name]) => name));
  const db = readFileSync(path.join(dir, 'vault.db'));
  const walFile = path.join(dir, 'vault.db-wal');
  const wal = existsSync(walFile) ? readFileSync(walFile) : Buffer.alloc(0);
  return {
    database: found(Buffer.concat(decryptDatabase(db, rawKey).pages)),
    wal: found(Buffer.concat(decryptWal(wal, rawKey, db.subarray(0, 16)).pages)),
    raw: found(Buffer.concat(allFiles(dir).map((file) => readFileSync(file)))),
  };
}

// Markers are checked by a suffix as well: FTS5 stores terms prefix-compressed, so a term may not appear whole.
const suffix = (marker: string): Buffer => Buffer.from(marker.slice(-12));

async function attachmentKey(vault: Vault, id: string): Promise<Uint8Array> {
  const row = await vault.get<{ key: Uint8Array }>('SELECT file_key AS key FROM attachments WHERE id = ?', [id]);
  assert.ok(row, 'attachment row exists');
  return row.key;
}

test('deleted messages, expired messages and a deleted attachment are unrecoverable after shred; controls survive', async (t) => {
  const dir = tempDir(t);
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: TEST_KDF });
  t.after(() => vault.lock());
  const now = 1_800_000_000_000;

  // Enough filler that the markers share pages with live rows, as in a real history.
  await vault.insertMessages(makeMessages('room', 400, { body: (i) => `filler message ${i} about the quarterly plan` }));
  const [deletedRow] = await vault.insertMessages([
    { messageId: 'deleted', conversationId: 'room', senderId: 'mallory', sentAt: now, body: `please forget ${DELETED} now` },
    { messageId: 'control', conversationId: 'room', senderId: 'alice', sentAt: now + 1, body: `keep ${CONTROL} forever` },
    { messageId: 'expiring', conversationId: 'room', senderId: 'bob', sentAt: now + 2, body: `gone soon ${EXPIRED}`, expiresAt: now + 10 },
  ]);
  await vault.insertMessages(makeMessages('room', 400, { start: 400 }));
  const deletedAttachment = await vault.putAttachment(Buffer.from(`${DELETED_FILE} `.repeat(5000)), { messageRowId: deletedRow! });
  const controlAttachment = await vault.putAttachment(Buffer.from(`${CONTROL_FILE} `.repeat(5000)));
  const deletedKey = await attachmentKey(vault, deletedAttachment);
  const controlKey = await attachmentKey(vault, controlAttachment);

  // Checkpoint everything into the database file first, so the markers sit in the main file, not only the WAL.
  await vault.shred({ now: 0 });

  const rawKey = unwrapDatabaseKeyIndependently(dir, PASSPHRASE);
  const needles = {
    deleted: Buffer.from(DELETED), deletedSuffix: suffix(DELETED),
    expired: Buffer.from(EXPIRED), expiredSuffix: suffix(EXPIRED),
    control: Buffer.from(CONTROL),
    deletedFile: Buffer.from(DELETED_FILE), controlFile: Buffer.from(CONTROL_FILE),
    deletedKey: Buffer.from(deletedKey), controlKey: Buffer.from(controlKey),
  };

  const beforeDelete = scan(dir, rawKey, needles);
  for (const marker of ['deleted', 'expired', 'control', 'deletedKey', 'controlKey']) {
    assert.ok(beforeDelete.database.has(marker), `before deletion, ${marker} is in the decrypted database (the scanner works)`);
  }
  assert.ok(!beforeDelete.raw.has('deletedFile') && !beforeDelete.raw.has('control'), 'nothing is readable in the raw files');
  assert.ok(Buffer.from(await vault.readAttachment(deletedAttachment)).includes(DELETED_FILE));

  assert.equal(await vault.deleteMessages(['deleted']), 1);
  const afterDelete = scan(dir, rawKey, needles);
  t.diagnostic(`after delete, before shred: database has ${[...afterDelete.database].join(',')}; WAL has ${[...afterDelete.wal].join(',')}`);
  assert.ok(afterDelete.database.has('deleted'), 'the old page version still holds the deleted message until the shredder runs');
  assert.ok(existsSync(path.join(dir, 'attachments', deletedAttachment)), 'the attachment file waits in the trash for the shredder');

  const report = await vault.shred({ now: now + 60_000 });
  t.diagnostic(`shred report: ${JSON.stringify(report)}`);
  assert.equal(report.messagesRemoved, 1, 'the expired message was removed');
  assert.equal(report.filesShredded, 1, 'the deleted attachment file was shredded');
  assert.ok(report.bytesOverwritten > 5000 * DELETED_FILE.length);
  assert.ok(report.walBytesTruncated > 0);
  assert.equal(statSync(path.join(dir, 'vault.db-wal')).size, 0, 'the WAL was truncated');
  assert.ok(!existsSync(path.join(dir, 'attachments', deletedAttachment)), 'the attachment file is unlinked');

  const after = scan(dir, rawKey, needles);
  for (const marker of ['deleted', 'deletedSuffix', 'expired', 'expiredSuffix', 'deletedFile', 'deletedKey']) {
    assert.ok(!after.database.has(marker), `${marker} is not in any decrypted database page`);
    assert.ok(!after.wal.has(marker), `${marker} is not in any decrypted WAL frame`);
    assert.ok(!after.raw.has(marker), `${marker} is not in any raw file`);
  }
  assert.ok(after.database.has('control'), 'the control message is still in the database');
  assert.ok(after.database.has('controlKey'), 'the control attachment key is still in the database');
  assert.ok(Buffer.from(await vault.readAttachment(controlAttachment)).includes(CONTROL_FILE), 'the control attachment still decrypts');

  assert.deepEqual(await vault.searchMessages(DELETED), []);
  assert.deepEqual(await vault.searchMessages(EXPIRED), []);
  assert.deepEqual((await vault.searchMessages(CONTROL)).map((m) => m.messageId), ['control']);
  await vault.run(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`);
  assert.deepEqual(await vault.integrityCheck(), []);
});
