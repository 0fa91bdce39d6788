// A pairwise session that one side lost (a restored backup, a damaged vault) heals: the receiver reports what it
// could not read, starts a fresh session, and tells the sender, whose next messages arrive again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEnvelope } from '../../../core/protocol/wire.ts';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { PASSPHRASE, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';

describe('engine: a broken session heals', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;
  let relay: HostileRelay; // only watches here

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
  });
  after(() => org.close());

  const arrives = (on: TestEngine, id: string) => on.waitFor(() => on.received().find((m) => m.id === id), 15_000, `message ${id}`);

  it('starts a new session when the receiver has lost the old one, and says what was lost', async () => {
    const first = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'hello' });
    await arrives(bob, first.id);
    const reply = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@alice'), text: 'hi' });
    await arrives(alice, reply.id); // alice's session is confirmed: her next messages carry no session start

    await bob.engine.close();
    const vault = await openVault({ dir: bob.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    const removed = await vault.run("DELETE FROM kv WHERE key LIKE 'p:session' || char(1) || 'alice' || char(1) || '%'");
    await vault.lock();
    assert.equal(removed.changes, 1, 'bob forgot his session with alice');
    bob = await bob.reopen();

    const aliceDevice = alice.engine.deviceId;
    const seen = (relay.delivered.get(aliceDevice) ?? []).length;
    const lost = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'this one is lost' });
    await bob.waitFor(() => bob.events.some((e) => e.name === 'message.undecryptable' && (e.payload as { reason: string }).reason === 'NO_SESSION'), 15_000, 'the report');
    // bob tells alice with a fresh session (a frame that starts one): wait until alice has committed (acknowledged) it
    const startsSession = (body: Uint8Array) => {
      const envelope = decodeEnvelope(body);
      return envelope.kind === 'pairwise' && envelope.start !== null;
    };
    const reset = await alice.waitFor(() => (relay.delivered.get(aliceDevice) ?? []).slice(seen)
      .find((f) => f.from?.device === bob.engine.deviceId && startsSession(f.body)), 30_000, 'bob\'s session reset');
    await alice.waitFor(() => relay.acked.get(aliceDevice)?.has(reset.seq), 30_000, 'alice processing it');
    const healed = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'and this one arrives' });
    const got = await arrives(bob, healed.id);
    assert.equal(got.text, 'and this one arrives');
    assert.equal(bob.received().some((m) => m.id === lost.id), false, 'a message nobody can decrypt is never shown');
  });
});
