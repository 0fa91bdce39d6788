// Decrypting a queued batch in one transaction through StagedProtocolStore: out-of-order frames all decrypt once,
// a bad frame in the middle costs only itself, and nothing reaches the real store until the batch commits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { decryptFrame, encryptToDevices } from '../../../core/protocol/processor.ts';
import { serializeSessionRecord } from '../../../core/protocol/session.ts';
import { StagedProtocolStore } from '../../../core/protocol/store.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload } from './world.ts';

test('a staged batch: each frame decrypts once, a bad frame costs only itself, nothing is stored before the one commit', () => {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1);
  const bob = makeUser(relay, 'bob', 1);
  introduce([alice, bob]);
  const a = alice.devices[0]!;
  const [b] = bob.devices;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) {
    const out = encryptToDevices(a.store, [b!.address], textPayload(`m${i}`), NOW, i === 0 ? [{ known: knownAccountOf(bob), bundle: relay.bundle(b!.address) }] : []);
    a.store.commit(out.writes);
    frames.push(out.frames[0]!.frame);
  }
  const order = [0, 3, 1, 7, 2, 6, 4, 5];
  const staged = new StagedProtocolStore(b!.store);
  const bodies: string[] = [];
  const tampered = Uint8Array.from(frames[6]!);
  tampered[tampered.length - 1]! ^= 1;
  for (const i of [...order.slice(0, 4), -1, ...order.slice(4)]) {
    try {
      const incoming = decryptFrame(staged, i < 0 ? tampered : frames[i]!, NOW);
      staged.commit(incoming.writes);
      bodies.push(incoming.payload.kind === 'text' ? incoming.payload.body : '?');
    } catch (error) {
      assert.ok(error instanceof ProtocolError && error.code === 'DECRYPT_FAILED');
      bodies.push('rejected');
    }
  }
  assert.deepEqual(bodies, ['m0', 'm3', 'm1', 'm7', 'rejected', 'm2', 'm6', 'm4', 'm5']);
  // nothing reached the real store yet: a crash here loses no state and the whole batch decrypts again
  assert.equal(b!.store.sessionRecord(a.address), null);
  const writes = staged.takeWrites();
  b!.store.commit(writes);
  assert.equal(staged.takeWrites().length, 0);
  for (const frame of frames) {
    assert.throws(() => decryptFrame(b!.store, frame, NOW), (e: unknown) => e instanceof ProtocolError && e.code === 'DUPLICATE');
  }
  // the committed session has no skipped keys left: every message of the chain was consumed exactly once
  const record = b!.store.sessionRecord(a.address)!;
  assert.equal(record.active.ratchet.skipped.length, 0);
  assert.equal(record.active.ratchet.receiving!.index, 8);
  assert.ok(serializeSessionRecord(record).length > 0);
});
