// An `org-key` payload is kept only from this account's own devices: from anyone else it has no effect at all, so
// no other user (nor a relay replaying someone's envelope) can plant an org key on a device.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { NO_POLICY } from '../../../core/engine/policy/document.ts';
import { applyPayload, type Origin } from '../../../core/engine/inbound/payloads.ts';
import { decodePayload, encodePayload, type Payload } from '../../../core/protocol/wire.ts';

const seed = randomBytes(32);
const payload = { id: randomBytes(16), sentAt: 1, timers: null, syncTo: 'ann', group: null, kind: 'org-key', seed } satisfies Payload;
const origin = (own: boolean): Origin => ({
  conversationId: 'd:ann', sender: own ? 'ann' : 'mallory', senderDevice: 'd1', own, me: 'ann', receivedAt: 2, relayReceivedAt: 2, now: 2, policy: NO_POLICY,
});

test('an org key from this account\'s other device is kept, from anyone else it is dropped, and it is never stored as a message', () => {
  const decoded = decodePayload(encodePayload(payload));
  assert.equal(decoded.kind, 'org-key');
  const own = applyPayload(decoded, origin(true));
  assert.deepEqual(own.statements, []);
  assert.deepEqual(own.effects, [{ kind: 'org-key', seed }]);
  assert.deepEqual(applyPayload(decoded, origin(false)), { statements: [], effects: [] });
});
