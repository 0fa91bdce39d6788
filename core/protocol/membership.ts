// A channel's membership as its members can check it: a hash-chained log of changes, each signed by the device of
// the member who made it, with that device's certificate inside. The relay stores the log and hands it out; it
// cannot add an entry (it holds no member's device key), cannot change one (signature), and cannot reorder, drop
// one from the middle or splice two logs (each entry names its position and the digest of the one before). What it
// can still do is refuse or delay: withhold the newest entries, which a member sees as a change that has not
// reached it yet.
//
// Each entry is checked against the state the entries before it built: a member with the right made it (owners
// and admins add and remove, owners change roles, anyone leaves, anyone joins an open channel, and the org's
// compliance archive joins any channel by citing the org-signed policy that names it), about people in the state it
// claims, so the rules here are the relay's rules made checkable. A member shares keys only with the people this
// state lists; a reader the relay adds without an entry stays outside it.
//
// The archive's join carries the whole signed policy document it relies on, so every member (and every later
// reader of the log) checks it under the org key they pinned, with no channel admin online: the relay cannot make
// such an entry (it holds neither the archive's device key nor the org key), and no one else can cite the policy
// for themselves (it names one account).
//
// Like Signal's group state and MLS commits, membership is the members' own signed record rather than the server's
// word; unlike both it is a single chain the relay linearises (it answers "stale" to a second entry at the same
// position), which fits a relay that is trusted for availability and order but never for who may read.
import { blake2b, constantTimeEqual, sign, verify } from '../crypto/sodium.ts';
import { bool, bytes, decodeVersioned, encodeCbor, framed, list, literal, nullable, struct, uint } from './codec.ts';
import { fail } from './errors.ts';
import { decodeDeviceCertificate, idField, type DeviceIdentity } from './identity.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';

export type ChannelRole = 'owner' | 'admin' | 'member';
export type MembershipChange = 'create' | 'add' | 'remove' | 'role' | 'join' | 'leave';

const HEAD_BYTES = 32;
const GENESIS_PREV = new Uint8Array(HEAD_BYTES);
const ROLES: readonly ChannelRole[] = ['owner', 'admin', 'member'];

const bodySchema = struct({
  v: literal(1),
  channel: idField,
  seq: uint(),
  /** the digest of the entry before (zeros for the first): the chain the relay cannot splice */
  prev: bytes(HEAD_BYTES),
  change: literal('create', 'add', 'remove', 'role', 'join', 'leave'),
  targets: list(idField, LIMITS.membersPerChange),
  role: nullable(literal('owner', 'admin', 'member')),
  /** only the first entry says whether anyone may join; it never changes after */
  open: bool,
  /** the signing device's certificate: the entry stays checkable after that device is gone */
  cert: bytes(1, LIMITS.certificateBytes),
  at: uint(),
}, {
  /** only on a "join": the org-signed policy that names the signer as the archive, retention on (its exact bytes) */
  retention: struct({ policy: bytes(1, LIMITS.policyBytes), sig: bytes(64) }),
});
const entrySchema = struct({ v: literal(1), body: bytes(1, LIMITS.membershipEntryBytes), sig: bytes(64) });

export interface MembershipEntry {
  channelId: string;
  seq: number;
  change: MembershipChange;
  targets: string[];
  role: ChannelRole | null;
  open: boolean;
  /** who made the change: the user and device of the certificate that signed it */
  by: { userId: string; deviceId: string };
  at: number;
  /** a join by retention policy: the signed policy it cites */
  retention: SignedPolicy | null;
}

/** An org policy document and the org key's signature over its exact bytes. */
export interface SignedPolicy {
  data: Uint8Array;
  signature: Uint8Array;
}

/**
 * The account a signed policy names as the compliance archive while retention is on, checked under the org key
 * this member pinned; null when it does not verify, retention is off, or it names none. The engine decides (the
 * policy's format is the engine's); without it, no join by policy is accepted.
 */
export type ArchiveNamedBy = (policy: SignedPolicy) => string | null;

/** What the log says so far: who is in the channel, with which role, and where the chain stands. */
export interface MembershipState {
  channelId: string;
  /** position of the last entry applied */
  seq: number;
  head: Uint8Array;
  open: boolean;
  members: ReadonlyMap<string, ChannelRole>;
}

/** A change to make; `seq` and `prev` come from the state it extends. */
export interface ProposedChange {
  change: MembershipChange;
  targets: string[];
  role?: ChannelRole;
  open?: boolean;
  /** a join by the org's compliance archive into a channel that is not open: the signed policy naming it */
  retention?: SignedPolicy;
}

/** Signs the next entry after `state` (null: the channel's first entry) with this device's key. */
export function signMembershipEntry(device: DeviceIdentity, channelId: string, state: MembershipState | null, proposed: ProposedChange, at: number): Uint8Array {
  if (proposed.targets.length > LIMITS.membersPerChange) fail('OVERSIZED', `one membership change names at most ${LIMITS.membersPerChange} people`);
  const body = encodeCbor({
    v: 1, channel: channelId, seq: state ? state.seq + 1 : 0, prev: state ? state.head : GENESIS_PREV, change: proposed.change,
    targets: proposed.targets, role: proposed.role ?? null, open: proposed.open ?? false, cert: device.certificate, at,
    ...(proposed.retention ? { retention: { policy: proposed.retention.data, sig: proposed.retention.signature } } : {}),
  });
  if (body.length > LIMITS.membershipEntryBytes) fail('OVERSIZED', 'a membership change names too many people');
  return encodeCbor({ v: 1, body, sig: sign(framed(LABEL.channelMembership, body), device.signing.secretKey) });
}

/**
 * The account key we trust for a user (from its verified device list), or null when we know none: the entry is
 * then refused, because a certificate can only be checked against a key held for its user.
 */
export type AccountKeyOf = (userId: string) => Uint8Array | null;

/** The users whose account keys checking these entries needs (fetch their device lists first). */
export function membershipSigners(entries: Uint8Array[]): string[] {
  return [...new Set(entries.map((blob) => decodeDeviceCertificate(open(blob).parsed.cert).userId))];
}

function open(blob: Uint8Array) {
  const { body, sig } = decodeVersioned(blob, entrySchema, { maxBytes: LIMITS.membershipEntryBytes + 128, versions: [1], what: 'membership entry' });
  return { body, sig, parsed: decodeVersioned(body, bodySchema, { maxBytes: LIMITS.membershipEntryBytes, versions: [1], what: 'membership entry body' }) };
}

/**
 * Checks one entry against the state before it and returns the state after. Refuses (typed errors): another
 * channel's entry, a position or predecessor that does not follow (replayed, reordered, spliced), a certificate not
 * signed by the key we hold for its user, a bad signature, and any change its signer had no right to make.
 */
export function applyMembershipEntry(
  state: MembershipState | null, channelId: string, blob: Uint8Array, accountKeyOf: AccountKeyOf, archiveNamedBy: ArchiveNamedBy = () => null,
): { state: MembershipState; entry: MembershipEntry } {
  const { body, sig, parsed: p } = open(blob);
  if (p.channel !== channelId) fail('WRONG_RECIPIENT', 'membership entry belongs to another channel');
  const expected = state ? state.seq + 1 : 0;
  if (p.seq !== expected || !constantTimeEqual(p.prev, state ? state.head : GENESIS_PREV)) {
    fail('MEMBERSHIP_CHAIN', 'membership entry does not follow the one before it', { seq: p.seq, expected });
  }
  const cert = decodeDeviceCertificate(p.cert);
  const trusted = accountKeyOf(cert.userId);
  if (!trusted || !constantTimeEqual(trusted, cert.accountPublicKey)) fail('UNKNOWN_DEVICE', 'membership entry is signed by a device its user\'s account key did not certify');
  if (!verify(sig, framed(LABEL.channelMembership, body), cert.signingPublicKey)) fail('BAD_SIGNATURE', 'membership entry signature does not verify');
  const entry: MembershipEntry = {
    channelId, seq: p.seq, change: p.change, targets: p.targets, role: p.role, open: p.open, by: { userId: cert.userId, deviceId: cert.deviceId }, at: p.at,
    retention: p.retention ? { data: p.retention.policy, signature: p.retention.sig } : null,
  };
  if (entry.retention && entry.change !== 'join') refuse('only a join cites the retention policy');
  const members = state ? next(state, entry, archiveNamedBy) : genesis(entry);
  return { state: { channelId, seq: p.seq, head: blake2b(body, HEAD_BYTES), open: state ? state.open : p.open, members }, entry };
}

function refuse(why: string): never {
  fail('MEMBERSHIP_REFUSED', why);
}

function genesis(entry: MembershipEntry): Map<string, ChannelRole> {
  if (entry.change !== 'create' || entry.targets.length !== 1 || entry.targets[0] !== entry.by.userId || entry.role !== 'owner') {
    refuse('a channel\'s log must start with its creator as owner');
  }
  return new Map([[entry.by.userId, 'owner']]);
}

/** The relay's channel rules (server/routes/messaging.ts), checked by every member. */
function next(state: MembershipState, entry: MembershipEntry, archiveNamedBy: ArchiveNamedBy): Map<string, ChannelRole> {
  const members = new Map(state.members);
  const actor = members.get(entry.by.userId);
  const owners = [...members.values()].filter((r) => r === 'owner').length;
  const self = entry.targets.length === 1 && entry.targets[0] === entry.by.userId;
  const single = () => {
    if (entry.targets.length !== 1) refuse(`a "${entry.change}" entry names exactly one person`);
    return entry.targets[0]!;
  };
  if (entry.open) refuse('only the first entry says whether a channel is open');
  switch (entry.change) {
    case 'create':
      return refuse('a channel is created once');
    case 'add':
      if (actor !== 'owner' && actor !== 'admin') refuse(`${entry.by.userId} may not add members`);
      if (entry.targets.length === 0 || new Set(entry.targets).size !== entry.targets.length) refuse('an "add" entry names each new member once');
      for (const target of entry.targets) {
        if (members.has(target)) refuse(`${target} is already a member of this channel`);
        members.set(target, 'member');
      }
      return members;
    case 'join':
      if (!self || actor) refuse(`${entry.by.userId} may not join this channel by itself`);
      if (entry.retention) {
        if (archiveNamedBy(entry.retention) !== entry.by.userId) refuse(`${entry.by.userId} cites an org policy that does not make it the archive with retention on`);
      } else if (!state.open) {
        refuse(`${entry.by.userId} may not join this channel by itself`);
      }
      members.set(entry.by.userId, 'member');
      return members;
    case 'leave':
      if (!self || !actor) refuse('only a member leaves, and only by itself');
      if (actor === 'owner' && owners === 1 && members.size > 1) refuse('the last owner may not leave while others remain');
      members.delete(entry.by.userId);
      return members;
    case 'remove': {
      const target = single();
      const role = members.get(target);
      if (actor !== 'owner' && actor !== 'admin') refuse(`${entry.by.userId} may not remove members`);
      if (!role || target === entry.by.userId) refuse(`${target} is not a member someone else can remove`);
      if (role === 'owner' || (role === 'admin' && actor !== 'owner')) refuse(`${entry.by.userId} may only remove members below their role`);
      members.delete(target);
      return members;
    }
    case 'role': {
      const target = single();
      if (actor !== 'owner') refuse('only owners change roles');
      if (!members.has(target) || entry.role === null || !ROLES.includes(entry.role)) refuse('a role change names a member and a role');
      if (target === entry.by.userId && entry.role !== 'owner' && owners === 1) refuse('a channel needs at least one owner');
      members.set(target, entry.role);
      return members;
    }
  }
}
