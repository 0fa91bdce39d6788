// A pairwise session between two devices: X3DH (hybrid with ML-KEM-768 when the peer publishes it) to start, then
// the Double Ratchet. Pure functions; the caller commits the returned session (and the returned prekey state, on the
// responder) with the decrypted message.
import { blake2b, constantTimeEqual } from '../crypto/sodium.ts';
import { bytes, decodeVersioned, encodeCbor, list, nullable, struct, uint } from './codec.ts';
import { fail } from './errors.ts';
import { decodeDeviceCertificate, idField, verifyDeviceForAccount, type DeviceCertificate, type DeviceIdentity, type KnownAccount } from './identity.ts';
import { LIMITS } from './limits.ts';
import { takePrekeysForSessionStart, type PrekeyState, type VerifiedBundle } from './prekeys.ts';
import { initInitiator, initResponder, ratchetDecrypt, ratchetEncrypt, ratchetFromPlain, ratchetStateSchema, ratchetToPlain, type RatchetState } from './ratchet.ts';
import { sessionStartSchema, type DeviceAddress, type PairwiseEnvelope, type SessionStart } from './wire.ts';
import { sessionAssociatedData, sessionIdFor, x3dhInitiator, x3dhResponder } from './x3dh.ts';

export interface Session {
  id: Uint8Array;
  local: DeviceAddress;
  remote: DeviceAddress;
  remoteAccountKey: Uint8Array;
  associatedData: Uint8Array;
  ratchet: RatchetState;
  /** Set on the initiator until the first reply arrives; sent with every message meanwhile. */
  pendingStart: SessionStart | null;
  /**
   * Set on the responder: a digest of the session start it accepted. Later messages repeating the start must repeat
   * it exactly, so no byte of a frame is left unauthenticated (the start itself is not in the AEAD's associated data).
   */
  startDigest: Uint8Array | null;
  createdAt: number;
}

/** All sessions with one remote device: the one we send on, and a few older ones that late messages may use. */
export interface SessionRecord {
  active: Session;
  previous: Session[];
}

const sameAddress = (a: DeviceAddress, b: DeviceAddress) => a.userId === b.userId && a.deviceId === b.deviceId;
const addressOf = (d: DeviceIdentity): DeviceAddress => ({ userId: d.userId, deviceId: d.deviceId });

/**
 * The device's own certificate, decoded. Its signature was checked when the identity was loaded (and a session start
 * needs only its fields for the associated data), so it is verified once per certificate blob, not on every start:
 * that was two Ed25519 verifications, about a tenth of a session set-up.
 */
const ownCertificates = new WeakMap<Uint8Array, DeviceCertificate>();
function ownCertificate(self: DeviceIdentity): DeviceCertificate {
  let decoded = ownCertificates.get(self.certificate);
  if (!decoded) {
    decoded = decodeDeviceCertificate(self.certificate);
    ownCertificates.set(self.certificate, decoded);
  }
  return decoded;
}

export function initiateSession(self: DeviceIdentity, bundle: VerifiedBundle, now: number): Session {
  const remote = bundle.certificate;
  const { kemPrekey } = bundle;
  const { sharedSecret, ephemeralPublic, kemCiphertext } = x3dhInitiator(self.dh, remote.dhPublicKey, bundle.signedPrekey.publicKey, bundle.oneTimePrekey?.publicKey ?? null, kemPrekey?.publicKey ?? null);
  const id = sessionIdFor(self.dh.publicKey, remote.dhPublicKey, ephemeralPublic);
  const start: SessionStart = { certificate: self.certificate, ephemeralKey: ephemeralPublic, signedPrekeyId: bundle.signedPrekey.id, oneTimePrekeyId: bundle.oneTimePrekey?.id ?? null };
  // a classic start has no `kem` key at all (see wire.ts)
  if (kemPrekey && kemCiphertext) start.kem = { prekeyId: kemPrekey.id, ciphertext: kemCiphertext };
  return {
    id,
    local: addressOf(self),
    remote: { userId: remote.userId, deviceId: remote.deviceId },
    remoteAccountKey: remote.accountPublicKey,
    associatedData: sessionAssociatedData(ownCertificate(self), remote, id),
    ratchet: initInitiator(sharedSecret, bundle.signedPrekey.publicKey),
    pendingStart: start,
    startDigest: null,
    createdAt: now,
  };
}

export function sessionEncrypt(session: Session, plaintext: Uint8Array): { session: Session; envelope: PairwiseEnvelope } {
  const { state, message } = ratchetEncrypt(session.ratchet, plaintext, session.associatedData);
  return {
    session: { ...session, ratchet: state },
    envelope: {
      kind: 'pairwise', from: session.local, to: session.remote, sessionId: session.id, start: session.pendingStart,
      ratchetKey: message.header.ratchetKey, previousLength: message.header.previousLength, index: message.header.index, ciphertext: message.ciphertext,
    },
  };
}

const startDigestOf = (start: SessionStart) => blake2b(encodeCbor(start), 32);

function checkRouting(session: Session, envelope: PairwiseEnvelope): void {
  if (!sameAddress(envelope.to, session.local)) fail('WRONG_RECIPIENT', 'message is addressed to another device');
  if (!sameAddress(envelope.from, session.remote)) fail('WRONG_RECIPIENT', 'message claims a sender other than this session\'s peer');
  if (!constantTimeEqual(envelope.sessionId, session.id)) fail('WRONG_RECIPIENT', 'message belongs to another session');
  if (envelope.start && !(session.startDigest && constantTimeEqual(startDigestOf(envelope.start), session.startDigest))) {
    fail('MALFORMED', 'repeated session start differs from the one that opened this session');
  }
}

const ratchetMessageOf = (e: PairwiseEnvelope) => ({ header: { ratchetKey: e.ratchetKey, previousLength: e.previousLength, index: e.index }, ciphertext: e.ciphertext });

export function sessionDecrypt(session: Session, envelope: PairwiseEnvelope): { session: Session; plaintext: Uint8Array } {
  checkRouting(session, envelope);
  const { state, plaintext } = ratchetDecrypt(session.ratchet, ratchetMessageOf(envelope), session.associatedData);
  // any authenticated message from the peer proves it has the session, so stop repeating the start
  return { session: { ...session, ratchet: state, pendingStart: null }, plaintext };
}

/**
 * Responder: opens a new session from an envelope that carries a session start. The sender's certificate must
 * be valid for the account we know and the device must be on its signed list. Returns the new session, the
 * prekey state without the used one-time key, and the first plaintext.
 */
export function acceptSessionStart(self: DeviceIdentity, prekeys: PrekeyState, senderAccount: KnownAccount, envelope: PairwiseEnvelope, now: number): { session: Session; prekeys: PrekeyState; plaintext: Uint8Array } {
  const start = envelope.start;
  if (!start) fail('NO_SESSION', 'no session matches and the message does not start one');
  if (!sameAddress(envelope.to, addressOf(self))) fail('WRONG_RECIPIENT', 'message is addressed to another device');
  const sender = verifyDeviceForAccount(senderAccount, start.certificate);
  if (!sameAddress(envelope.from, sender)) fail('UNKNOWN_DEVICE', 'session start certificate does not match the sending device');
  const id = sessionIdFor(sender.dhPublicKey, self.dh.publicKey, start.ephemeralKey);
  if (!constantTimeEqual(id, envelope.sessionId)) fail('MALFORMED', 'session id does not match the session start');
  const taken = takePrekeysForSessionStart(prekeys, { signedPrekeyId: start.signedPrekeyId, oneTimePrekeyId: start.oneTimePrekeyId, kemPrekeyId: start.kem?.prekeyId ?? null });
  const kem = start.kem && taken.kem ? { ...taken.kem, ciphertext: start.kem.ciphertext } : null;
  const sharedSecret = x3dhResponder(self.dh, taken.signed, taken.oneTime, sender.dhPublicKey, start.ephemeralKey, kem);
  const fresh: Session = {
    id,
    local: addressOf(self),
    remote: { userId: sender.userId, deviceId: sender.deviceId },
    remoteAccountKey: sender.accountPublicKey,
    associatedData: sessionAssociatedData(sender, ownCertificate(self), id),
    ratchet: initResponder(sharedSecret, taken.signed),
    pendingStart: null,
    startDigest: startDigestOf(start),
    createdAt: now,
  };
  const { session, plaintext } = sessionDecrypt(fresh, envelope);
  return { session, prekeys: taken.state, plaintext };
}

/** Finds the session an envelope names, active first. */
export function findSession(record: SessionRecord | null, sessionId: Uint8Array): Session | null {
  if (!record) return null;
  if (constantTimeEqual(record.active.id, sessionId)) return record.active;
  return record.previous.find((s) => constantTimeEqual(s.id, sessionId)) ?? null;
}

/** Returns the record with `session` stored: a new session becomes active and the old active one is kept as previous. */
export function putSession(record: SessionRecord | null, session: Session, makeActive: boolean): SessionRecord {
  if (!record) return { active: session, previous: [] };
  const others = record.previous.filter((s) => !constantTimeEqual(s.id, session.id));
  if (constantTimeEqual(record.active.id, session.id)) return { active: session, previous: others };
  if (makeActive) return { active: session, previous: [record.active, ...others].slice(0, LIMITS.previousSessions) };
  return { active: record.active, previous: record.previous.map((s) => (constantTimeEqual(s.id, session.id) ? session : s)) };
}

// ---------------------------------------------------------------- persistence

const key32 = bytes(32);
const address = struct({ userId: idField, deviceId: idField });
const sessionSchema = struct({
  id: bytes(16),
  local: address,
  remote: address,
  remoteAccountKey: key32,
  associatedData: bytes(1, 2048),
  ratchet: ratchetStateSchema,
  pendingStart: nullable(sessionStartSchema),
  startDigest: nullable(key32),
  createdAt: uint(),
});
const recordSchema = struct({ v: uint(), active: sessionSchema, previous: list(sessionSchema, LIMITS.previousSessions) });

const sessionToPlain = (s: Session) => ({ ...s, ratchet: ratchetToPlain(s.ratchet) });
const sessionFromPlain = (p: ReturnType<typeof sessionSchema.parse>): Session => ({ ...p, ratchet: ratchetFromPlain(p.ratchet) });

export function serializeSessionRecord(record: SessionRecord): Uint8Array {
  return encodeCbor({ v: 1, active: sessionToPlain(record.active), previous: record.previous.map(sessionToPlain) });
}

export function deserializeSessionRecord(blob: Uint8Array): SessionRecord {
  const r = decodeVersioned(blob, recordSchema, { maxBytes: LIMITS.stateBytes * (1 + LIMITS.previousSessions), versions: [1], what: 'session record' });
  return { active: sessionFromPlain(r.active), previous: r.previous.map(sessionFromPlain) };
}
