// Forensic test of the ephemeral flows: two people, two devices each, one device offline until after a deadline.
// After expiry and burn-on-read on every device, each marker (the message, its edit, a burned message, the names of
// files that expired or burned) is in no file of any profile, in no decrypted page of any vault (database and WAL,
// free pages included: the decryptor is the independent one in test/support), and in no file of the relay's data
// directory; the files' keys are in no profile either (crypto-shredding: their blobs, and a copy opened into a vault,
// are noise without them) and their blobs are gone from the relay. A control message and a control file that did not
// expire are still found in every profile, key and blob included, so the test can fail.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import type DatabaseTypes from '../../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { idOf, PASSPHRASE, startOrg, type TestEngine } from '../../support/engines.ts';
import { decryptDatabase, decryptWal } from '../../support/vault-sqlcipher-pages.ts';
import { unwrapDatabaseKeyIndependently } from '../../support/vault-helpers.ts';
import { scratchFiles } from '../../support/scratch-files.ts';

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;

const EXPIRING = 'zq9expiringmarker4417kq';
const EDITED = 'zq9editedmarker2093hx';
const BURNING = 'zq9burningmarker6620pd';
const CONTROL = 'zq9controlmarker0386mt';
const EXPIRING_FILE = 'zq9expiringfile5521tr';
const BURNING_FILE = 'zq9burningfile7304wc';
const CONTROL_FILE = 'zq9controlfile1840yb';
const MARKERS = [EXPIRING, EDITED, BURNING, CONTROL, EXPIRING_FILE, BURNING_FILE, CONTROL_FILE];

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? allFiles(full) : [full];
  });
}

// FTS5 stores terms prefix-compressed: a marker is looked for by its tail too
const needles = (marker: string) => [Buffer.from(marker), Buffer.from(marker.slice(-12))];

/** A profile's raw files, and every decrypted page of its database and WAL. */
function profileHaystacks(dir: string): Buffer[] {
  const rawKey = unwrapDatabaseKeyIndependently(dir, PASSPHRASE);
  const db = readFileSync(path.join(dir, 'vault.db'));
  const walFile = path.join(dir, 'vault.db-wal');
  return [
    Buffer.concat(decryptDatabase(db, rawKey).pages),
    Buffer.concat(decryptWal(existsSync(walFile) ? readFileSync(walFile) : Buffer.alloc(0), rawKey, db.subarray(0, 16)).pages),
    ...allFiles(dir).map((file) => readFileSync(file)),
  ];
}

/** Every marker found in a profile. */
const scanProfile = (dir: string) => found(profileHaystacks(dir));

const found = (haystacks: Buffer[]) =>
  new Set(MARKERS.filter((marker) => needles(marker).some((needle) => haystacks.some((h) => h.includes(needle)))));

/** The files a profile's vault holds now (read through SQLCipher with the key unwrapped independently). */
function vaultFiles(dir: string): { name: string; key: Buffer; blobId: string }[] {
  const db = new Database(path.join(dir, 'vault.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma(`cipher = 'sqlcipher'`);
    db.pragma('legacy = 4');
    db.key(Buffer.from(`x'${Buffer.from(unwrapDatabaseKeyIndependently(dir, PASSPHRASE)).toString('hex')}'`));
    return db.prepare('SELECT name, file_key AS key, blob_id AS blobId FROM files').all() as { name: string; key: Buffer; blobId: string }[];
  } finally {
    db.close();
  }
}

test('what expired or burned leaves no trace in any profile or on the relay; what did not is still there', { timeout: 120_000 }, async (t) => {
  const org = await startOrg();
  t.after(() => org.close());
  const admin = org.admin;
  const bob = await org.addUser('bob');
  const admin2 = await org.linkDevice(admin);
  let bob2 = await org.linkDevice(bob);
  const arrived = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `${id} on ${e.username}`);
  const gone = (e: TestEngine, id: string) => e.waitFor(() => e.events.findIndex((x) => x.name === 'message.removed' && (x.payload as { id: string }).id === id) + 1, 20_000, `${id} removed`);
  const shreddedAfter = (e: TestEngine, index: number) => e.waitFor(() => e.events.slice(index).find((x) => x.name === 'vault.shredded'), 20_000, `a shred on ${e.username}`);
  const toBob = await idOf(admin.engine.api, '@bob');

  const hello = await admin.engine.api.call('messages.send', { conversation: toBob, text: 'hello' });
  for (const e of [bob, bob2, admin2]) await arrived(e, hello.id);
  const { fileOf } = scratchFiles('wardroom-forensic-files-');
  const sendFile = (name: string, timers?: { expiresInSeconds?: number; burnAfterReadSeconds?: number }) => {
    const file = fileOf(`${name}.txt`, Buffer.from(`the contents of ${name}`));
    return admin.engine.api.call('messages.send', { conversation: toBob, attachments: [{ path: file }], ...(timers ? { timers } : {}) });
  };
  const controlFile = await sendFile(CONTROL_FILE);
  for (const e of [bob, bob2, admin2]) await arrived(e, controlFile.id);

  // burn-on-read, with every device online: bob reads it on his first device
  const burningFile = await sendFile(BURNING_FILE, { burnAfterReadSeconds: 5 });
  const burning = await admin.engine.api.call('messages.send', { conversation: toBob, text: `burn ${BURNING} after reading`, timers: { burnAfterReadSeconds: 5 } });
  for (const e of [bob, bob2, admin2]) await arrived(e, burning.id);
  await bob.engine.api.call('files.open', { message: burningFile.id });
  await bob.engine.api.call('messages.markRead', { conversation: await idOf(bob.engine.api, '@admin'), upTo: burning.id });

  // expiry, with bob's second device offline until after the deadline; edited, reacted to and replied to meanwhile
  await bob2.engine.close();
  const expiring = await admin.engine.api.call('messages.send', { conversation: toBob, text: `expires ${EXPIRING} soon`, timers: { expiresInSeconds: 8 } });
  const expiringFile = await sendFile(EXPIRING_FILE, { expiresInSeconds: 8 });
  const control = await admin.engine.api.call('messages.send', { conversation: toBob, text: `keep ${CONTROL} around` });
  for (const e of [bob, admin2]) await arrived(e, expiring.id);
  await arrived(bob, expiringFile.id);
  await bob.engine.api.call('files.open', { message: expiringFile.id }); // a decrypted copy in bob's vault
  // the files' keys and blobs, as the sender's vault holds them before any deadline
  const sentFiles = new Map(vaultFiles(admin.profileDir).map((f) => [f.name.replace(/\.txt$/, ''), f]));
  assert.deepEqual([...sentFiles.keys()].sort(), [BURNING_FILE, CONTROL_FILE, EXPIRING_FILE].sort());
  await admin.engine.api.call('messages.edit', { id: expiring.id, text: `now ${EDITED} instead` });
  await bob.waitFor(() => bob.events.find((x) => x.name === 'message.updated' && (x.payload as MessageViewT).text.includes(EDITED)), 15_000, 'the edit');
  await admin2.engine.api.call('messages.react', { id: expiring.id, emoji: '👍' });
  const reply = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@admin'), text: 'noted', replyTo: expiring.id });
  await arrived(admin, reply.id);

  for (const [e, id] of [[admin, burning.id], [admin2, burning.id], [bob, burning.id], [admin, expiring.id], [admin2, expiring.id], [bob, expiring.id],
    [admin, burningFile.id], [admin2, burningFile.id], [bob, burningFile.id], [admin, expiringFile.id], [admin2, expiringFile.id], [bob, expiringFile.id]] as const) {
    const at = await gone(e, id);
    await shreddedAfter(e, at);
  }
  await gone(bob2, burning.id).catch(() => {}); // bob2 heard of the burn before it went offline, or shreds it on reopening

  bob2 = await bob2.reopen();
  await bob2.engine.api.call('sync.now', {});
  await arrived(bob2, control.id);
  assert.ok(!bob2.received().some((m) => m.id === expiring.id), 'the device that was offline never saw the expired message');
  const page = await bob2.engine.api.call('messages.list', { conversation: await idOf(bob2.engine.api, '@admin'), limit: 200 });
  assert.ok(page.messages.some((m) => m.id === reply.id && m.replyTo === expiring.id), 'the reply stays, quoting nothing that is left');
  assert.ok(!page.messages.some((m) => m.id === burning.id));
  await bob2.engine.api.call('vault.shred', {});

  // while the engines still run (their WAL in use): the shredder after the expiry batch already cleared it
  for (const e of [admin2, bob]) assert.deepEqual([...scanProfile(e.profileDir)], [CONTROL, CONTROL_FILE], `${path.basename(e.profileDir)} while open`);
  // the blobs of the files that went leave the relay (their sender's devices delete them); the control's stays
  const relayBlob = (blobId: string) => allFiles(org.server.dataDir).some((file) => path.basename(file) === blobId);
  await admin.waitFor(() => !relayBlob(sentFiles.get(EXPIRING_FILE)!.blobId) && !relayBlob(sentFiles.get(BURNING_FILE)!.blobId), 20_000, 'the blobs to leave the relay');
  assert.ok(relayBlob(sentFiles.get(CONTROL_FILE)!.blobId), 'the control file\'s blob is still at the relay');
  for (const e of [admin, admin2, bob, bob2]) await e.engine.close();
  for (const e of [admin, admin2, bob, bob2]) {
    const haystacks = profileHaystacks(e.profileDir);
    const markers = found(haystacks);
    t.diagnostic(`${path.basename(e.profileDir)}: ${[...markers].join(', ') || 'nothing'}`);
    assert.deepEqual([...markers], [CONTROL, CONTROL_FILE], `${path.basename(e.profileDir)}: only the control message and file are left`);
    const keys = [...sentFiles].filter(([, f]) => haystacks.some((h) => h.includes(f.key))).map(([name]) => name);
    assert.deepEqual(keys, [CONTROL_FILE], `${path.basename(e.profileDir)}: only the control file's key is left`);
  }
  const relayFiles = allFiles(org.server.dataDir).map((file) => readFileSync(file));
  assert.deepEqual([...found(relayFiles)], [], 'the relay never held any of it in the clear');
  assert.ok(!relayFiles.some((h) => [...sentFiles.values()].some((f) => h.includes(f.key))), 'nor any file\'s key');
});
