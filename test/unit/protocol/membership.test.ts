// The channel membership log: what members accept, and every way a relay (or a member without the right) might
// try to change who is in a channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccountIdentity, createDevice, type DeviceIdentity } from '../../../core/protocol/identity.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { fromUtf8, sign, signingKeyPair, utf8 } from '../../../core/crypto/sodium.ts';
import { archiveNamedBy } from '../../../core/engine/policy/document.ts';
import { applyMembershipEntry, membershipSigners, signMembershipEntry, type MembershipState, type ProposedChange, type SignedPolicy, type ArchiveNamedBy } from '../../../core/protocol/membership.ts';

const NOW = 1_790_000_000_000;
const codeOf = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

function person(name: string) {
  const account = createAccountIdentity();
  return { name, account, device: createDevice(account, name, `${name}-laptop`, NOW) };
}
const alice = person('alice');
const bob = person('bob');
const carol = person('carol');
const mallory = person('mallory'); // the relay's own account
const keys = new Map([alice, bob, carol, mallory].map((p) => [p.name, p.account.publicKey]));
const keyOf = (userId: string) => keys.get(userId) ?? null;

/** A log built entry by entry, each checked as a member would. */
class Log {
  readonly entries: Uint8Array[] = [];
  state: MembershipState | null = null;
  readonly channelId: string;
  constructor(channelId: string) {
    this.channelId = channelId;
  }
  append(by: DeviceIdentity, change: ProposedChange, namedBy?: ArchiveNamedBy): Uint8Array {
    const blob = signMembershipEntry(by, this.channelId, this.state, change, NOW + this.entries.length);
    this.state = applyMembershipEntry(this.state, this.channelId, blob, keyOf, namedBy).state;
    this.entries.push(blob);
    return blob;
  }
  /** What a member who reads the log from the start ends with. */
  replay(entries = this.entries): MembershipState | null {
    let state: MembershipState | null = null;
    for (const blob of entries) state = applyMembershipEntry(state, this.channelId, blob, keyOf).state;
    return state;
  }
}

const roles = (state: MembershipState | null) => Object.fromEntries(state?.members ?? []);

test('a channel\'s members and roles follow its signed log, and a late reader reaches the same state', () => {
  const log = new Log('chan-1');
  log.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  log.append(alice.device, { change: 'add', targets: ['bob', 'carol'] });
  log.append(alice.device, { change: 'role', targets: ['bob'], role: 'admin' });
  log.append(bob.device, { change: 'remove', targets: ['carol'] });
  log.append(alice.device, { change: 'add', targets: ['carol'] });
  log.append(carol.device, { change: 'leave', targets: ['carol'] });
  assert.deepEqual(roles(log.state), { alice: 'owner', bob: 'admin' });
  assert.deepEqual(roles(log.replay()), roles(log.state));
  assert.deepEqual(log.replay()!.head, log.state!.head);
  assert.deepEqual(membershipSigners(log.entries).sort(), ['alice', 'bob', 'carol']);
  const { entry } = applyMembershipEntry(log.replay(log.entries.slice(0, 1)), 'chan-1', log.entries[1]!, keyOf);
  assert.deepEqual({ change: entry.change, targets: entry.targets, by: entry.by }, { change: 'add', targets: ['bob', 'carol'], by: { userId: 'alice', deviceId: 'alice-laptop' } });
});

test('the relay cannot add a reader: an entry from a non-member, a plain member, or a key nobody certified is refused', () => {
  const log = new Log('chan-2');
  log.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  log.append(alice.device, { change: 'add', targets: ['bob'] });
  const apply = (blob: Uint8Array) => applyMembershipEntry(log.state, 'chan-2', blob, keyOf);
  // the relay's own account signs an entry adding itself
  assert.throws(() => apply(signMembershipEntry(mallory.device, 'chan-2', log.state, { change: 'add', targets: ['mallory'] }, NOW)), codeOf('MEMBERSHIP_REFUSED'));
  // a plain member may not add anyone
  assert.throws(() => apply(signMembershipEntry(bob.device, 'chan-2', log.state, { change: 'add', targets: ['mallory'] }, NOW)), codeOf('MEMBERSHIP_REFUSED'));
  // a private channel cannot be joined
  assert.throws(() => apply(signMembershipEntry(mallory.device, 'chan-2', log.state, { change: 'join', targets: ['mallory'] }, NOW)), codeOf('MEMBERSHIP_REFUSED'));
  // a device certified by a key that is not alice's (the relay made up an "alice")
  const fakeAlice = createDevice(createAccountIdentity(), 'alice', 'alice-phone', NOW);
  assert.throws(() => apply(signMembershipEntry(fakeAlice, 'chan-2', log.state, { change: 'add', targets: ['mallory'] }, NOW)), codeOf('UNKNOWN_DEVICE'));
  // a signer whose key we hold for nobody
  assert.throws(() => applyMembershipEntry(log.state, 'chan-2', signMembershipEntry(alice.device, 'chan-2', log.state, { change: 'add', targets: ['mallory'] }, NOW), () => null), codeOf('UNKNOWN_DEVICE'));
  assert.deepEqual(roles(log.state), { alice: 'owner', bob: 'member' });
});

test('the relay cannot replay, reorder, splice or alter entries', () => {
  const log = new Log('chan-3');
  const created = log.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  const added = log.append(alice.device, { change: 'add', targets: ['bob'] });
  const removed = log.append(alice.device, { change: 'remove', targets: ['bob'] });
  const afterCreate = log.replay([created]);
  // replaying the add after the removal (to bring bob back) is out of place
  assert.throws(() => applyMembershipEntry(log.state, 'chan-3', added, keyOf), codeOf('MEMBERSHIP_CHAIN'));
  // skipping the add: the removal does not follow the creation
  assert.throws(() => applyMembershipEntry(afterCreate, 'chan-3', removed, keyOf), codeOf('MEMBERSHIP_CHAIN'));
  // an entry of another channel, even at the right position
  const other = new Log('chan-4');
  other.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  const foreign = other.append(alice.device, { change: 'add', targets: ['mallory'] });
  assert.throws(() => applyMembershipEntry(afterCreate, 'chan-3', foreign, keyOf), codeOf('WRONG_RECIPIENT'));
  // a fork: a second entry at position 1 signed by alice, but on another chain's head, does not follow ours
  const fork = signMembershipEntry(alice.device, 'chan-3', { ...afterCreate!, head: new Uint8Array(32).fill(7) }, { change: 'add', targets: ['mallory'] }, NOW);
  assert.throws(() => applyMembershipEntry(afterCreate, 'chan-3', fork, keyOf), codeOf('MEMBERSHIP_CHAIN'));
  // a flipped byte anywhere is refused (a signature or a decoding error, never accepted)
  for (const at of [20, added.length - 70, added.length - 5]) {
    const tampered = Uint8Array.from(added);
    tampered[at]! ^= 1;
    assert.throws(() => applyMembershipEntry(afterCreate, 'chan-3', tampered, keyOf), ProtocolError);
  }
});

test('the rules hold: open channels only are joined, the last owner stays, admins cannot remove owners, the open flag is set once', () => {
  const open = new Log('chan-5');
  open.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner', open: true });
  open.append(bob.device, { change: 'join', targets: ['bob'] });
  assert.deepEqual(roles(open.state), { alice: 'owner', bob: 'member' });
  const refused = (by: DeviceIdentity, change: ProposedChange) =>
    assert.throws(() => applyMembershipEntry(open.state, 'chan-5', signMembershipEntry(by, 'chan-5', open.state, change, NOW), keyOf), codeOf('MEMBERSHIP_REFUSED'), JSON.stringify(change));
  refused(carol.device, { change: 'join', targets: ['mallory'] }); // joins only itself
  refused(bob.device, { change: 'join', targets: ['bob'] }); // already in
  refused(alice.device, { change: 'leave', targets: ['alice'] }); // the last owner, with bob still there
  refused(alice.device, { change: 'role', targets: ['alice'], role: 'member' });
  refused(bob.device, { change: 'role', targets: ['bob'], role: 'owner' });
  refused(alice.device, { change: 'add', targets: ['carol'], open: true });
  refused(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  open.append(alice.device, { change: 'role', targets: ['bob'], role: 'admin' });
  refused(bob.device, { change: 'remove', targets: ['alice'] });
  refused(bob.device, { change: 'remove', targets: ['bob'] });
  // the first entry must make its signer the owner
  assert.throws(() => applyMembershipEntry(null, 'chan-6', signMembershipEntry(mallory.device, 'chan-6', null, { change: 'create', targets: ['alice'], role: 'owner' }, NOW), keyOf), codeOf('MEMBERSHIP_REFUSED'));
  assert.throws(() => applyMembershipEntry(null, 'chan-6', signMembershipEntry(alice.device, 'chan-6', null, { change: 'add', targets: ['alice'] }, NOW), keyOf), codeOf('MEMBERSHIP_REFUSED'));
});

test('the org\'s archive joins any channel citing the org-signed policy that names it, and nobody else can', () => {
  const archive = person('archive');
  keys.set('archive', archive.account.publicKey);
  const org = signingKeyPair();
  const policy = (document: object, key = org.secretKey) => {
    const data = utf8(JSON.stringify(document));
    return { data, signature: sign(data, key) };
  };
  // what a member's engine decides: the policy verifies under the org key it pinned and names this archive
  const namedBy = (signed: SignedPolicy) => archiveNamedBy(org.publicKey, signed);
  const on = policy({ version: 3, retention: true, archiveAccount: 'archive' });
  const log = new Log('chan-7');
  log.append(alice.device, { change: 'create', targets: ['alice'], role: 'owner' });
  log.append(alice.device, { change: 'add', targets: ['bob'] });
  const join = (by: DeviceIdentity, change: ProposedChange, check = namedBy) =>
    applyMembershipEntry(log.state, 'chan-7', signMembershipEntry(by, 'chan-7', log.state, change, NOW), keyOf, check);
  const refused = (by: DeviceIdentity, change: ProposedChange, why: string, check = namedBy) => assert.throws(() => join(by, change, check), codeOf('MEMBERSHIP_REFUSED'), why);

  refused(archive.device, { change: 'join', targets: ['archive'] }, 'a closed channel, no policy cited');
  refused(archive.device, { change: 'join', targets: ['archive'], retention: policy({ version: 4, retention: false, archiveAccount: 'archive' }) }, 'retention off');
  refused(archive.device, { change: 'join', targets: ['archive'], retention: policy({ version: 3, retention: true, archiveAccount: 'archive' }, signingKeyPair().secretKey) }, 'not signed by the org');
  refused(archive.device, { change: 'join', targets: ['archive'], retention: { ...on, data: utf8(fromUtf8(on.data).replace('"version":3', '"version":9')) } }, 'altered after signing');
  refused(mallory.device, { change: 'join', targets: ['mallory'], retention: on }, 'the policy names another account');
  refused(archive.device, { change: 'join', targets: ['archive'], retention: on }, 'a member without the engine\'s check accepts no join by policy', () => null);
  refused(alice.device, { change: 'add', targets: ['archive'], retention: on }, 'only a join cites the policy');
  refused(bob.device, { change: 'add', targets: ['archive'], retention: on }, 'nor does it let a plain member add the archive');

  const { entry } = join(archive.device, { change: 'join', targets: ['archive'], retention: on });
  assert.deepEqual(entry.retention, on, 'the cited policy is in the entry for every reader');
  log.append(archive.device, { change: 'join', targets: ['archive'], retention: on }, namedBy);
  assert.deepEqual(roles(log.state), { alice: 'owner', bob: 'member', archive: 'member' });
  // a late reader (a new member, a new device) checks the same entry with the same result
  let replayed: MembershipState | null = null;
  for (const blob of log.entries) replayed = applyMembershipEntry(replayed, 'chan-7', blob, keyOf, namedBy).state;
  assert.deepEqual(roles(replayed), roles(log.state));
  refused(archive.device, { change: 'join', targets: ['archive'], retention: on }, 'already in');
});

test('decoding is bounded: garbage and oversized entries are refused before any signature work', () => {
  assert.throws(() => applyMembershipEntry(null, 'c', new Uint8Array([1, 2, 3]), keyOf), ProtocolError);
  assert.throws(() => applyMembershipEntry(null, 'c', new Uint8Array(400 * 1024), keyOf), codeOf('OVERSIZED'));
  const many = Array.from({ length: 1001 }, (_, i) => `user${i}`);
  assert.throws(() => signMembershipEntry(alice.device, 'c', null, { change: 'add', targets: many }, NOW), ProtocolError);
});
