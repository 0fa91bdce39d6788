// The protocol as the engine uses it: decrypt an incoming frame, encrypt a payload to a set of devices, keep a
// channel's sender key distributed and rotated. Each function reads state through a ProtocolStore and returns
// the ProtocolWrites to commit together with whatever the engine stores for the message. Nothing is written here,
// so a function that throws (a typed ProtocolError) changes nothing.
import { constantTimeEqual, toHex } from '../crypto/sodium.ts';
import { randomId } from './random.ts';
import { fail } from './errors.ts';
import type { KnownAccount } from './identity.ts';
import { verifyPrekeyBundle, type PrekeyBundle } from './prekeys.ts';
import {
  createOutboundSenderKey, installSenderKey, redistributeSenderKey, senderKeyDecrypt, senderKeyDistribution, senderKeyEncrypt,
  senderKeyRotationReason, type RotationReason, type SignatureCheck,
} from './sender-keys.ts';
import { acceptSessionStart, findSession, initiateSession, putSession, sessionDecrypt, sessionEncrypt, type SessionRecord } from './session.ts';
import type { ProtocolStore, ProtocolWrite } from './store.ts';
import { decodeEnvelope, decodePayload, encodeEnvelope, encodePayload, type DeviceAddress, type Envelope, type Payload, type PayloadContent } from './wire.ts';

export interface OutgoingFrame {
  to: DeviceAddress;
  frame: Uint8Array;
}

export interface Incoming {
  from: DeviceAddress;
  /** Set for channel messages. */
  channelId: string | null;
  payload: Payload;
  writes: ProtocolWrite[];
}

/** A session to (re)start with a device: the account we verified and the bundle the relay handed out. */
export interface NewSession {
  known: KnownAccount;
  bundle: PrekeyBundle;
}

export function newMessageId(): Uint8Array {
  return randomId();
}

const sameAddress = (a: DeviceAddress, b: DeviceAddress) => a.userId === b.userId && a.deviceId === b.deviceId;
const addressKey = (a: DeviceAddress) => JSON.stringify([a.userId, a.deviceId]);

/**
 * Every device a message to `recipient` goes to: each device on the recipient's verified list, plus the
 * sender's own other devices (so they show the sent message), never the sending device itself.
 */
export function fanOutTargets(recipient: KnownAccount, own: KnownAccount, self: DeviceAddress): DeviceAddress[] {
  const targets: DeviceAddress[] = [];
  for (const account of [recipient, own]) {
    for (const deviceId of account.devices) {
      const address = { userId: account.userId, deviceId };
      if (!sameAddress(address, self) && !targets.some((t) => sameAddress(t, address))) targets.push(address);
    }
  }
  return targets;
}

function requireListedDevice(store: ProtocolStore, device: DeviceAddress, cache: Map<string, KnownAccount | null>): KnownAccount {
  if (!cache.has(device.userId)) cache.set(device.userId, store.knownAccount(device.userId));
  const known = cache.get(device.userId);
  if (!known?.devices.includes(device.deviceId)) {
    fail('UNKNOWN_DEVICE', 'device is not on a verified device list', { userId: device.userId, deviceId: device.deviceId });
  }
  return known;
}

/**
 * Encrypts one payload to each target device over its pairwise session. Devices in `newSessions` get a fresh
 * session (X3DH) that becomes the active one; targets with no session and no bundle come back in `missing`
 * (fetch their bundles and call again for them).
 */
export function encryptToDevices(store: ProtocolStore, targets: DeviceAddress[], payload: Payload, now: number, newSessions: NewSession[] = []): { frames: OutgoingFrame[]; missing: DeviceAddress[]; writes: ProtocolWrite[] } {
  const self = store.device();
  const plaintext = encodePayload(payload);
  const started = new Map<string, SessionRecord>();
  for (const { known, bundle } of newSessions) {
    const verified = verifyPrekeyBundle(known, bundle);
    const address = { userId: verified.certificate.userId, deviceId: verified.certificate.deviceId };
    started.set(addressKey(address), putSession(store.sessionRecord(address), initiateSession(self, verified, now), true));
  }
  const frames: OutgoingFrame[] = [];
  const missing: DeviceAddress[] = [];
  const writes: ProtocolWrite[] = [];
  const accounts = new Map<string, KnownAccount | null>();
  const done = new Set<string>();
  for (const to of targets) {
    // each target's new session state is a separate write computed from the stored one: a repeat would fork it
    if (done.has(addressKey(to))) fail('INVALID_ARGUMENT', 'a device appears twice in the targets');
    done.add(addressKey(to));
    const known = requireListedDevice(store, to, accounts);
    const record = started.get(addressKey(to)) ?? store.sessionRecord(to);
    // a session made under an account key the user has since replaced is not used: a new one is needed
    if (!record || !constantTimeEqual(record.active.remoteAccountKey, known.accountPublicKey)) {
      missing.push(to);
      continue;
    }
    const { session, envelope } = sessionEncrypt(record.active, plaintext);
    frames.push({ to, frame: encodeEnvelope(envelope) });
    writes.push({ kind: 'session', peer: to, record: putSession(record, session, true) });
  }
  return { frames, missing, writes };
}

/**
 * Decrypts one frame from the relay. Throws a ProtocolError (and so changes nothing) if anything is wrong.
 * `checkSignature` lets a caller supply channel signatures it verified ahead of time (see SignatureCheck).
 */
export function decryptFrame(store: ProtocolStore, frame: Uint8Array, now: number, checkSignature?: SignatureCheck): Incoming {
  return decryptEnvelope(store, decodeEnvelope(frame), now, checkSignature);
}

/** decryptFrame for an envelope the caller has already decoded (with decodeEnvelope, which checked it). */
export function decryptEnvelope(store: ProtocolStore, envelope: Envelope, now: number, checkSignature?: SignatureCheck): Incoming {
  const self = store.device();
  const sender = requireListedDevice(store, envelope.from, new Map());
  const writes: ProtocolWrite[] = [];
  let plaintext: Uint8Array;
  if (envelope.kind === 'pairwise') {
    if (!sameAddress(envelope.to, self)) fail('WRONG_RECIPIENT', 'message is addressed to another device');
    const record = store.sessionRecord(envelope.from);
    const existing = findSession(record, envelope.sessionId);
    if (existing) {
      if (!constantTimeEqual(existing.remoteAccountKey, sender.accountPublicKey)) fail('UNKNOWN_DEVICE', 'session was made under an account key the sender has since replaced');
      const opened = sessionDecrypt(existing, envelope);
      plaintext = opened.plaintext;
      writes.push({ kind: 'session', peer: envelope.from, record: putSession(record, opened.session, true) });
    } else if (envelope.start) {
      const opened = acceptSessionStart(self, store.prekeys(), sender, envelope, now);
      plaintext = opened.plaintext;
      writes.push({ kind: 'prekeys', state: opened.prekeys }, { kind: 'session', peer: envelope.from, record: putSession(record, opened.session, true) });
    } else {
      fail('NO_SESSION', 'no session with this device matches the message; start a new one and tell the sender', {
        userId: envelope.from.userId, deviceId: envelope.from.deviceId, sessionId: toHex(envelope.sessionId),
      });
    }
  } else {
    const inbound = store.inboundSenderKey(envelope.channelId, envelope.from, envelope.keyId);
    if (!inbound) {
      fail('MISSING_SENDER_KEY', 'no sender key for this channel message yet; ask the sender device for it', {
        channelId: envelope.channelId, userId: envelope.from.userId, deviceId: envelope.from.deviceId, keyId: envelope.keyId,
      });
    }
    const opened = senderKeyDecrypt(inbound, envelope, checkSignature);
    plaintext = opened.plaintext;
    writes.push({ kind: 'inbound-sender-key', state: opened.state });
  }
  const payload = decodePayload(plaintext);
  if (store.hasSeen(envelope.from.userId, payload.id)) fail('DUPLICATE', 'this message was already delivered', { messageId: toHex(payload.id) });
  writes.push({ kind: 'seen', senderUserId: envelope.from.userId, messageId: payload.id });
  if (payload.kind === 'sender-key') {
    if (envelope.kind !== 'pairwise') fail('MALFORMED', 'sender keys travel only over pairwise sessions');
    const d = payload.distribution;
    writes.push({ kind: 'inbound-sender-key', state: installSenderKey(store.inboundSenderKey(d.channelId, envelope.from, d.keyId), envelope.from, d) });
  }
  return { from: envelope.from, channelId: envelope.kind === 'channel' ? envelope.channelId : null, payload, writes };
}

// ---------------------------------------------------------------- channels

function controlPayload(now: number, content: PayloadContent): Payload {
  return { id: newMessageId(), sentAt: now, timers: null, syncTo: null, group: null, ...content } as Payload;
}

/**
 * Makes sure every device in `members` (all member devices, the sender's own other devices included) holds this
 * device's current sender key for the channel, rotating first when the policy says so. Call it when membership
 * changes (`membersLeft` true if anyone left or was removed) and before sending when a rotation is due.
 */
export function prepareChannelKey(store: ProtocolStore, channelId: string, members: DeviceAddress[], now: number, membersLeft: boolean, newSessions: NewSession[] = []): { frames: OutgoingFrame[]; missing: DeviceAddress[]; writes: ProtocolWrite[]; rotated: RotationReason | null } {
  let outbound = store.outboundSenderKey(channelId);
  const rotated = senderKeyRotationReason(outbound, now, membersLeft);
  const writes: ProtocolWrite[] = [];
  if (rotated || !outbound) {
    outbound = createOutboundSenderKey(channelId, now, outbound);
    writes.push({ kind: 'outbound-sender-key', state: outbound });
  }
  const { keyId } = outbound;
  const needing = rotated ? members : members.filter((d) => store.senderKeyShare(channelId, keyId, d) === null);
  const distribution = controlPayload(now, { kind: 'sender-key', distribution: senderKeyDistribution(outbound) });
  const sent = encryptToDevices(store, needing, distribution, now, newSessions);
  for (const { to } of sent.frames) writes.push({ kind: 'sender-key-share', channelId, keyId, device: to, iteration: outbound.iteration });
  return { frames: sent.frames, missing: sent.missing, writes: [...writes, ...sent.writes], rotated };
}

/** The per-message path: cost does not depend on the channel's size. */
export function encryptChannelMessage(store: ProtocolStore, channelId: string, payload: Payload, now: number): { frame: Uint8Array; writes: ProtocolWrite[] } {
  const outbound = store.outboundSenderKey(channelId);
  const due = senderKeyRotationReason(outbound, now, false);
  if (due || !outbound) fail('INVALID_ARGUMENT', `sender key rotation due (${due}); call prepareChannelKey first`);
  const self = store.device();
  const { state, envelope } = senderKeyEncrypt(outbound, { userId: self.userId, deviceId: self.deviceId }, encodePayload(payload));
  return { frame: encodeEnvelope(envelope), writes: [{ kind: 'outbound-sender-key', state }] };
}

/** A receiver that got MISSING_SENDER_KEY asks the sending device (its error details name it). */
export function requestSenderKey(store: ProtocolStore, sender: DeviceAddress, channelId: string, keyId: number, now: number, newSessions: NewSession[] = []) {
  return encryptToDevices(store, [sender], controlPayload(now, { kind: 'sender-key-request', channelId, keyId }), now, newSessions);
}

/**
 * The sender's answer to a request: the key (current, or one of the last retired ones) from the iteration the
 * requester was first given it, never earlier. A requester that was never given this key gets UNKNOWN_DEVICE (it
 * joined after, or was never a member); a key too old to be kept gets MISSING_SENDER_KEY.
 */
export function answerSenderKeyRequest(store: ProtocolStore, requester: DeviceAddress, channelId: string, keyId: number, now: number, newSessions: NewSession[] = []) {
  const outbound = store.outboundSenderKey(channelId);
  if (!outbound) fail('MISSING_SENDER_KEY', 'this device has no sender key for the channel', { channelId, keyId });
  const entitledFrom = store.senderKeyShare(channelId, keyId, requester);
  if (entitledFrom === null) fail('UNKNOWN_DEVICE', 'requester was never given this sender key', { userId: requester.userId, deviceId: requester.deviceId });
  const payload = controlPayload(now, { kind: 'sender-key', distribution: redistributeSenderKey(outbound, keyId, entitledFrom) });
  return encryptToDevices(store, [requester], payload, now, newSessions);
}

/**
 * Recovery from a broken session (NO_SESSION or repeated DECRYPT_FAILED from a peer): a fresh X3DH session that
 * becomes active, whose first message tells the peer which session broke so it can resend what we missed.
 */
export function resetSession(store: ProtocolStore, peer: NewSession, brokenSessionId: Uint8Array | null, reason: 'decrypt-failed' | 'no-session', now: number) {
  const cert = verifyPrekeyBundle(peer.known, peer.bundle).certificate;
  const payload = controlPayload(now, { kind: 'session-reset', brokenSessionId, reason });
  return encryptToDevices(store, [{ userId: cert.userId, deviceId: cert.deviceId }], payload, now, [peer]);
}
