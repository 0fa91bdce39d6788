// Retention reaches every channel, also one whose owners and admins are all offline: the archive's own device joins
// it by a membership entry citing the org-signed policy, which every member checks under the org key it pinned.
// And a relay that adds the archive on its own (in its member table, or with an entry the archive's key signed
// but no policy that names it) adds no reader: members refuse the entry and give the archive no key.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes, sign, signingKeyPair, utf8 } from '../../../core/crypto/sodium.ts';
import { VaultProtocolStore } from '../../../core/engine/protocol-store.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { applyMembershipEntry, signMembershipEntry, type MembershipState, type ProposedChange } from '../../../core/protocol/membership.ts';
import type { DeviceIdentity } from '../../../core/protocol/identity.ts';
import { openVault } from '../../../core/vault/index.ts';
import { createChannel, idOf, PASSPHRASE, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { tempDir } from '../../support/server-client.ts';

describe('retention: the archive joins by the signed policy', () => {
  const problems: string[] = [];
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;
  let carol: TestEngine;
  let archive: TestEngine;
  let archiveDevice: DeviceIdentity;
  const dir = tempDir();
  const channelIdOf = async (e: TestEngine, name: string) => (await idOf(e.engine.api, `#${name}`)).slice(2);
  const members = async (e: TestEngine, name: string) => (await e.engine.api.call('channels.members', { conversation: await idOf(e.engine.api, `#${name}`) })).members.map((m) => m.username);

  /** Waits for something only an engine call can tell (waitFor takes a synchronous check). */
  const eventually = async (check: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 150; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  /** What a relay can do on its own: write an entry into a channel's log (after the head it holds) and tell the members. */
  const relayAppends = async (channelId: string, change: ProposedChange | null) => {
    const store = org.server.store;
    const account = (name: string) => store.getAccountByUsername(name)!;
    let state: MembershipState | null = null;
    const log = store.channelLog(channelId, -1, 500);
    for (const e of log) state = applyMembershipEntry(state, channelId, e.entry, (u) => account(u).publicKey, () => 'archive').state;
    const entry = change === null ? null : { seq: state!.seq + 1, entry: signMembershipEntry(archiveDevice, channelId, state, change, Date.now()) };
    store.changeChannel(channelId, entry ?? undefined, () => store.setMember(channelId, account('archive').accountId, 'member'));
    const notice = { kind: 'membership' as const, channel: channelId, change: 'joined' as const, accounts: [account('archive').accountId], by: account('archive').accountId, role: 'member' as const };
    await org.server.hub.postNotice(notice, channelId, store.channelDeviceIds(channelId), randomBytes(16));
  };

  before(async () => {
    org = await startOrg({ log: (line: string) => void (line.startsWith('problem:') && problems.push(line)) });
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    carol = await org.addUser('carol');
    archive = await org.addUser('archive');
    await archive.engine.api.call('archive.sync', {});
    // the archive's device key, as a compromised archive host (or a relay holding it) could use it
    await archive.engine.close();
    const vault = await openVault({ dir: archive.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    archiveDevice = (await VaultProtocolStore.load(vault)).device();
    await vault.lock();
    archive = await archive.reopen();
    await org.admin.engine.api.call('policy.set', { maxExpireSeconds: 86_400 }); // the org key, retention off
    for (const e of [alice, bob, carol]) await e.waitFor(() => e.events.some((x) => x.name === 'policy.changed'), 15_000, 'the first policy');
  });
  after(() => org.close());

  it('refuses an archive the relay adds without a policy that names it: no entry, no policy, retention off, or a policy the org did not sign', async () => {
    const forged = utf8(JSON.stringify({ version: 9, retention: true, archiveAccount: 'archive' }));
    const offPolicy = org.server.store.getPolicy()!.document;
    const cases: [string, ProposedChange | null][] = [
      ['no entry at all', null],
      ['a join citing no policy', { change: 'join', targets: ['archive'] }],
      ['a join citing the org\'s policy with retention off', { change: 'join', targets: ['archive'], retention: offPolicy }],
      ['a join citing a policy the org did not sign', { change: 'join', targets: ['archive'], retention: { data: forged, signature: sign(forged, signingKeyPair().secretKey) } }],
    ];
    for (const [i, [what, change]] of cases.entries()) {
      const name = `guarded-${i}`;
      await createChannel(alice, name, ['bob']);
      await eventually(async () => (await members(bob, name)).includes('bob'), `bob in #${name}`);
      const before = problems.length;
      await relayAppends(await channelIdOf(alice, name), change);
      if (change !== null) await bob.waitFor(() => problems.slice(before).some((p) => p.includes('does not verify')), 15_000, `bob refusing ${what}`);
      await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, `#${name}`), text: `not for the archive ${i}` });
      await bob.waitFor(() => bob.received().find((m) => m.text === `not for the archive ${i}`), 15_000, `alice's message in #${name}`);
      assert.deepEqual((await members(bob, name)).sort(), ['alice', 'bob'], what);
      assert.deepEqual((await members(alice, name)).sort(), ['alice', 'bob'], what);
    }
    await archive.engine.api.call('archive.sync', {});
    assert.ok(!archive.received().some((m) => m.text.startsWith('not for the archive')), 'the archive was given no key to read with');
  });

  it('joins a channel whose only owner is offline, everyone online is told, and its messages are archived', async () => {
    await createChannel(carol, 'quiet', ['bob']);
    const quiet = await channelIdOf(carol, 'quiet');
    await eventually(async () => (await members(bob, 'quiet')).includes('bob'), 'bob in #quiet');
    await carol.engine.close(); // the channel's only owner or admin, offline from here on

    await org.admin.engine.api.call('policy.set', { retention: true, archiveAccount: 'archive' });
    await bob.waitFor(() => bob.received().find((m) => m.conversation === `c:${quiet}` && m.notice === 'retention-on'), 15_000, 'retention on in #quiet');
    await archive.engine.api.call('archive.sync', {}); // the archive joins, citing the policy it holds
    const joined = await bob.waitFor(() => bob.received().find((m) => m.conversation === `c:${quiet}` && m.membership?.change === 'joined' && m.membership.members.includes('archive')),
      15_000, 'the archive joined, as bob sees it');
    assert.equal(joined.sender, 'archive', 'it joined by itself, no admin did it');
    assert.deepEqual((await members(bob, 'quiet')).sort(), ['archive', 'bob', 'carol']);

    await bob.engine.api.call('messages.send', { conversation: `c:${quiet}`, text: 'while carol is away' });
    await archive.waitFor(() => archive.received().find((m) => m.text === 'while carol is away'), 15_000, 'the archive receiving it');
    const file = path.join(dir, 'quiet.jsonl');
    await archive.engine.api.call('archive.export', { out: file });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.type === 'message' && l.text === 'while carol is away' && l.conversation === `c:${quiet}`), 'on record');
    assert.ok(lines.some((l) => l.type === 'membership' && l.change === 'join' && l.sender === 'archive' && l.conversation === `c:${quiet}`), 'its own join on record');

    // the owner comes back and accepts the entry: the policy it cites verifies under her pinned org key too
    carol = await carol.reopen();
    await carol.engine.api.call('sync.now', {});
    await eventually(async () => (await members(carol, 'quiet')).includes('archive'), 'carol seeing the archive in #quiet');
    assert.ok(!problems.some((p) => p.includes('does not verify') && p.includes(quiet)), 'nobody refused it');
  });
});
