// The relay store's delivery queue on a real SQLite file: seqs never reused (across restarts and the migration from
// the old `deliveries` table), acknowledgements idempotent and per device, expiry dropping queued envelopes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type DatabaseTypes from '../../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';
import fc from 'fast-check';
import { openSqliteStore } from '../../../server/store/sqlite.ts';
import type { SendRequest } from '../../../server/store/types.ts';

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;
const NOW = 1_800_000_000_000;

function tempDb(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-queue-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'relay.db');
}

function channelSend(devices: string[], marker: number, expiresAt = NOW + 60_000): SendRequest {
  return {
    senderAccount: 'sender-account', senderDevice: 'sender-device', msgId: new Uint8Array(16).fill(marker), channelId: 'channel',
    expiresAt, sentAt: NOW, parts: [{ body: Uint8Array.of(marker), devices }],
  };
}

test('seqs rise across restarts and are never reused after acknowledgement', (t) => {
  const file = tempDb(t);
  let store = openSqliteStore(file);
  const first = store.commitBatch([channelSend(['d1', 'd2'], 1)], []).sends[0]!.deliveries.map((d) => d.envelope.seq);
  // acknowledge everything, so the queue is empty: a rowid table without AUTOINCREMENT would reuse these seqs now
  assert.deepEqual(store.commitBatch([], [{ deviceId: 'd1', seqs: [first[0]!] }, { deviceId: 'd2', seqs: [first[1]!] }]).acks, [1, 1]);
  store.close();
  store = openSqliteStore(file);
  const second = store.commitBatch([channelSend(['d1'], 2)], []).sends[0]!.deliveries[0]!.envelope.seq;
  assert.ok(second > Math.max(...first), `seq ${second} after ${first.join(',')}`);
  store.close();
});

test('an acknowledgement removes only the acking device\'s entry and is idempotent', (t) => {
  const store = openSqliteStore(tempDb(t));
  const [toD1, toD2] = store.commitBatch([channelSend(['d1', 'd2'], 3)], []).sends[0]!.deliveries;
  assert.deepEqual(store.commitBatch([], [{ deviceId: 'd2', seqs: [toD1!.envelope.seq] }]).acks, [0], 'd2 cannot ack d1\'s entry');
  assert.deepEqual(store.commitBatch([], [{ deviceId: 'd1', seqs: [toD1!.envelope.seq] }]).acks, [1]);
  assert.deepEqual(store.commitBatch([], [{ deviceId: 'd1', seqs: [toD1!.envelope.seq] }]).acks, [0], 'a repeated ack removes nothing');
  assert.equal(store.pendingFor('d1', 0, NOW, 10).length, 0);
  assert.deepEqual(store.pendingFor('d2', 0, NOW, 10).map((e) => e.seq), [toD2!.envelope.seq]);
  store.close();
});

test('the expiry sweep drops queued envelopes with their message and leaves live ones', (t) => {
  const store = openSqliteStore(tempDb(t));
  store.commitBatch([channelSend(['d1', 'd2'], 4, NOW + 1000), channelSend(['d1'], 5, NOW + 60_000)], []);
  assert.equal(store.sweepExpired(NOW + 2000), 1);
  assert.deepEqual(store.pendingFor('d1', 0, NOW, 10).map((e) => e.body[0]), [5]);
  assert.equal(store.pendingFor('d2', 0, NOW, 10).length, 0);
  store.close();
});

test('a database with the old deliveries table migrates: queued envelopes kept, old seqs never issued again', (t) => {
  const file = tempDb(t);
  openSqliteStore(file).close(); // the current schema, then the old table put back as an older server left it
  const old = new Database(file);
  old.exec(`DROP TABLE queue;
    CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, message_seq INTEGER NOT NULL);
    INSERT INTO messages(message_seq, msg_id, sender_account, sender_device, channel_id, body, expires_at, sent_at, remaining)
      VALUES (1, x'00', 'a', 'dev', NULL, x'2a', ${NOW + 60_000}, ${NOW}, 1);
    INSERT INTO deliveries(seq, device_id, message_seq) VALUES (41, 'd1', 1);
    UPDATE sqlite_sequence SET seq = 90 WHERE name = 'deliveries';`); // seqs up to 90 were issued, then acknowledged
  old.close();

  const store = openSqliteStore(file);
  const kept = store.pendingFor('d1', 0, NOW, 10);
  assert.deepEqual(kept.map((e) => [e.seq, e.body[0]]), [[41, 42]]);
  const next = store.commitBatch([channelSend(['d1'], 6)], []).sends[0]!.deliveries[0]!.envelope.seq;
  assert.ok(next > 90, `a new seq (${next}) above every seq the old table issued`);
  store.close();
  const after = new Database(file, { readonly: true });
  assert.equal(after.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'").pluck().get(), 0);
  after.close();
});

test('queue rows of expired messages are invisible at once and removed window by window by later sweeps', (t) => {
  const file = tempDb(t);
  const store = openSqliteStore(file);
  const devices = Array.from({ length: 50 }, (_, i) => `d${i}`);
  // 210 fan-outs to 50 devices: 10,500 queue rows, more than one clean-up window; every third message expires
  const sends = Array.from({ length: 210 }, (_, i) => channelSend(devices, i % 250, i % 3 === 0 ? NOW + 1000 : NOW + 60_000));
  store.commitBatch(sends, []);
  const rows = () => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM queue').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  assert.equal(rows(), 10_500);
  assert.equal(store.sweepExpired(NOW + 2000), 70, 'the expired messages (their ciphertext) are deleted at once');
  assert.equal(store.pendingFor('d7', 0, NOW, 1000).length, 140, 'orphaned rows are never delivered');
  assert.ok(rows() > 7_000, 'one sweep cleans one window, not the whole queue');
  for (let sweep = 0; sweep < 3; sweep++) store.sweepExpired(NOW + 2000);
  assert.equal(rows(), 7_000, 'later sweeps removed every orphan and nothing else');
  store.close();
});

test('property: random sends, acks, expiry sweeps and restarts keep every device\'s queue equal to a model', () => {
  const devices = ['d0', 'd1', 'd2', 'd3'];
  const operation = fc.oneof(
    fc.record({ op: fc.constant('send' as const), to: fc.subarray(devices, { minLength: 1 }), shortLived: fc.boolean() }),
    fc.record({ op: fc.constant('ack' as const), device: fc.constantFrom(...devices), pick: fc.array(fc.nat(), { maxLength: 4 }), foreign: fc.boolean() }),
    fc.record({ op: fc.constant('sweep' as const) }),
    fc.record({ op: fc.constant('restart' as const) }),
  );
  fc.assert(fc.property(fc.array(operation, { minLength: 1, maxLength: 40 }), (operations) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wardroom-queue-prop-'));
    const file = path.join(dir, 'relay.db');
    let store = openSqliteStore(file);
    // the model: per device, the envelopes still owed (seq -> marker), and which markers have expired
    const owed = new Map(devices.map((d) => [d, new Map<number, number>()]));
    const expiresAt = new Map<number, number>();
    let now = NOW;
    let highestSeq = 0;
    let marker = 0;
    try {
      for (const step of operations) {
        if (step.op === 'send') {
          marker++;
          const expiry = now + (step.shortLived ? 1000 : 3_600_000);
          expiresAt.set(marker, expiry);
          const { deliveries } = store.commitBatch([channelSend(step.to, marker, expiry)], []).sends[0]!; // marker < 256: distinct ids
          for (const { deviceId, envelope } of deliveries) {
            assert.ok(envelope.seq > highestSeq, `seq ${envelope.seq} after ${highestSeq}: never reused, always rising`);
            highestSeq = envelope.seq;
            owed.get(deviceId)!.set(envelope.seq, marker);
          }
        } else if (step.op === 'ack') {
          const mine = [...owed.get(step.device)!.keys()];
          const seqs = step.pick.map((n) => mine.length > 0 ? mine[n % mine.length]! : n + 1);
          // someone else's seq must change nothing
          if (step.foreign) seqs.push(...[...owed.values()].flatMap((m) => [...m.keys()]).filter((s) => !owed.get(step.device)!.has(s)).slice(0, 2));
          if (seqs.length === 0) continue;
          const expected = new Set(seqs.filter((s) => owed.get(step.device)!.has(s) && expiresAt.get(owed.get(step.device)!.get(s)!)! > now)).size;
          const removed = store.commitBatch([], [{ deviceId: step.device, seqs }]).acks[0]!;
          // an ack of an expired-but-not-yet-cleaned row may remove it too; live rows must match exactly
          assert.ok(removed >= expected, `ack removed ${removed}, at least ${expected} expected`);
          for (const s of seqs) owed.get(step.device)!.delete(s);
        } else if (step.op === 'sweep') {
          now += 2000; // past every short-lived message sent so far
          store.sweepExpired(now);
        } else {
          store.close();
          store = openSqliteStore(file);
        }
        for (const device of devices) {
          const live = [...owed.get(device)!].filter(([, m]) => expiresAt.get(m)! > now).map(([seq]) => seq).sort((a, b) => a - b);
          assert.deepEqual(store.pendingFor(device, 0, now, 1000).map((e) => e.seq), live, `${device} after ${step.op}`);
        }
      }
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }), { seed: 20261130, numRuns: 30 });
});
