// The byte formats that cross the network: envelopes (what the relay routes) and the encrypted payload inside
// them. Both are CBOR maps with a version field `v`; decoders refuse unknown versions first (UNKNOWN_VERSION),
// then check every field's type and size. The relay sees only envelopes; everything a user wrote (text, file
// keys and names, reactions, timers) is in the payload, padded to a power-of-two size before encryption.
import { bool, bytes, decodeVersioned, encodeCbor, encodeCborScratch, list, literal, nullable, paddedSize, struct, text, uint, unpaddedLength, variants, writePadding, UINT32_MAX, type Field, type Infer } from './codec.ts';
import { allocBytes } from '../crypto/sodium.ts';
import { ML_KEM_768_CIPHERTEXT_BYTES } from '../crypto/ml-kem.ts';
import { fail } from './errors.ts';
import { idField } from './identity.ts';
import { LIMITS } from './limits.ts';

export const WIRE_VERSION = 1;
const key32 = bytes(32);
const messageId = bytes(16);

// ---------------------------------------------------------------- envelopes

export interface DeviceAddress {
  userId: string;
  deviceId: string;
}

export const deviceAddressSchema = struct({ userId: idField, deviceId: idField });
const address = deviceAddressSchema;

/**
 * A hybrid start adds `kem`; a classic start (from a device from before ML-KEM, or to one) has no such key at all,
 * so it encodes to exactly the bytes it always did and its digest (session.ts) is unchanged.
 */
export const sessionStartSchema = struct({
  certificate: bytes(1, LIMITS.certificateBytes),
  ephemeralKey: key32,
  signedPrekeyId: uint(UINT32_MAX),
  oneTimePrekeyId: nullable(uint(UINT32_MAX)),
}, {
  kem: struct({ prekeyId: uint(UINT32_MAX), ciphertext: bytes(ML_KEM_768_CIPHERTEXT_BYTES) }),
});
export type SessionStart = Infer<typeof sessionStartSchema>;

const ciphertext = bytes(16, LIMITS.payloadBytes + 16);

const pairwiseSchema = struct({
  v: literal(WIRE_VERSION),
  kind: literal('pairwise'),
  from: address,
  to: address,
  sessionId: messageId,
  /** Repeated on every message until the responder replies, so the first message that arrives opens the session. */
  start: nullable(sessionStartSchema),
  ratchetKey: key32,
  previousLength: uint(UINT32_MAX),
  index: uint(UINT32_MAX),
  ciphertext,
});

const channelSchema = struct({
  v: literal(WIRE_VERSION),
  kind: literal('channel'),
  channelId: idField,
  from: address,
  keyId: uint(UINT32_MAX),
  iteration: uint(UINT32_MAX),
  ciphertext,
  signature: bytes(64),
});

export type PairwiseEnvelope = Omit<Infer<typeof pairwiseSchema>, 'v'>;
export type ChannelEnvelope = Omit<Infer<typeof channelSchema>, 'v'>;
export type Envelope = PairwiseEnvelope | ChannelEnvelope;

const envelopeSchema = variants('kind', { pairwise: pairwiseSchema, channel: channelSchema });

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const frame = encodeCbor({ v: WIRE_VERSION, ...envelope });
  if (frame.length > LIMITS.frameBytes) fail('OVERSIZED', 'envelope exceeds the frame limit', { size: frame.length, limit: LIMITS.frameBytes });
  return frame;
}

export function decodeEnvelope(frame: Uint8Array): Envelope {
  const { v: _v, ...envelope } = decodeVersioned(frame, envelopeSchema, { maxBytes: LIMITS.frameBytes, versions: [WIRE_VERSION], what: 'envelope' });
  return envelope as Envelope;
}

// ---------------------------------------------------------------- payloads (encrypted)

const timersSchema = nullable(struct({
  /** Absolute deletion time (ms since epoch), counted from sending. */
  expiresAt: nullable(uint()),
  /** Seconds after the recipient first opens the message. */
  burnAfterReadSeconds: nullable(uint(UINT32_MAX)),
}));

const body = text(LIMITS.textBytes);
const common = {
  v: literal(WIRE_VERSION),
  /** Random 16 bytes chosen by the sender; names the message for edits, replies, receipts and de-duplication. */
  id: messageId,
  sentAt: uint(),
  timers: timersSchema,
  /** On copies sent to the sender's own other devices: the user a direct message went to. */
  syncTo: nullable(idField),
  /** Set on group direct messages: the group's random id and everyone in it (the sender included). */
  group: nullable(struct({ id: messageId, members: list(idField, LIMITS.groupMembers) })),
};

/**
 * A file sent with a message (core/engine/files/blob-format.ts): the blob the relay holds, the fresh key that
 * encrypted it, and everything the relay must not learn (name, type, exact size), plus an image's thumbnail.
 */
const fileSchema = struct({
  blobId: idField,
  key: key32,
  /** BLAKE2b-256 of the blob as stored (padding included), checked as it downloads. */
  digest: key32,
  /** the plaintext's size; the blob's padded size follows from it */
  size: uint(),
  name: text(LIMITS.fileNameBytes, 1),
  mime: text(127),
  thumbnail: nullable(struct({ mime: text(32), width: uint(4096), height: uint(4096), data: bytes(1, LIMITS.thumbnailBytes) })),
});

/** A link preview the sender's device made (the recipients never contact the site): see core/engine/previews. */
export const linkPreviewSchema = struct({
  url: text(LIMITS.previewUrlBytes, 1),
  title: text(LIMITS.previewTitleBytes, 1),
  description: nullable(text(LIMITS.previewDescriptionBytes)),
  image: nullable(struct({ jpeg: bytes(1, LIMITS.previewImageBytes), width: uint(LIMITS.previewImageSide), height: uint(LIMITS.previewImageSide) })),
});
export type LinkPreviewPayload = Infer<typeof linkPreviewSchema>;

export const senderKeyDistributionSchema = struct({
  channelId: idField,
  keyId: uint(UINT32_MAX),
  iteration: uint(UINT32_MAX),
  chainKey: key32,
  signingPublicKey: key32,
});
export type SenderKeyDistribution = Infer<typeof senderKeyDistributionSchema>;

export const channelMetaKeySchema = struct({ keyId: uint(UINT32_MAX), key: key32 });
export type ChannelMetaKey = Infer<typeof channelMetaKeySchema>;

/**
 * Where the sender's membership log of the channel stood when it wrote (core/protocol/membership.ts: the position
 * and digest of the newest entry it checked), on every payload sent under a sender key. It travels inside the
 * encryption, so the relay cannot change it: a receiver that is behind reads the log before it believes it, and
 * one whose log has another entry at that position has caught the relay showing members different histories
 * (core/engine/channels/membership-sync.ts). Left out elsewhere, so pairwise payloads encode as they always did.
 */
const inChannel = { membership: struct({ seq: uint(), head: bytes(32) }) };
export type MembershipHead = Infer<(typeof inChannel)['membership']>;

const payloadSchemas = {
  text: struct({ ...common, kind: literal('text'), body }, { preview: linkPreviewSchema, ...inChannel }),
  /**
   * An answer to `target`: in its thread, or with `quote` set, in the conversation itself with the target quoted
   * above it (left out when false, so a thread reply encodes to the bytes it always did).
   */
  reply: struct({ ...common, kind: literal('reply'), target: messageId, body }, { quote: bool, preview: linkPreviewSchema, ...inChannel }),
  edit: struct({ ...common, kind: literal('edit'), target: messageId, body }, inChannel),
  delete: struct({ ...common, kind: literal('delete'), target: messageId }, inChannel),
  reaction: struct({ ...common, kind: literal('reaction'), target: messageId, emoji: text(64, 1), remove: bool }, inChannel),
  /** Files, with a caption; with `replyTo` in its thread, or with `quote` also set, quoting it in the conversation (as reply). */
  file: struct({ ...common, kind: literal('file'), files: list(fileSchema, LIMITS.filesPerMessage), caption: nullable(body), replyTo: nullable(messageId) }, { quote: bool, ...inChannel }),
  call: struct({
    ...common, kind: literal('call'), callId: messageId,
    signal: literal('offer', 'answer', 'candidate', 'hangup', 'reject'), data: text(LIMITS.textBytes),
  }, inChannel),
  'sender-key': struct({ ...common, kind: literal('sender-key'), distribution: senderKeyDistributionSchema }, inChannel),
  'sender-key-request': struct({ ...common, kind: literal('sender-key-request'), channelId: idField, keyId: uint(UINT32_MAX) }, inChannel),
  receipt: struct({ ...common, kind: literal('receipt'), receipt: literal('delivered', 'read'), targets: list(messageId, LIMITS.idsPerList) }, inChannel),
  'session-reset': struct({ ...common, kind: literal('session-reset'), brokenSessionId: nullable(messageId), reason: literal('decrypt-failed', 'no-session') }, inChannel),
  /** Sent as a live signal, never stored: who is typing where (a channel's id, or the direct or group conversation). */
  typing: struct({ ...common, kind: literal('typing'), typing: bool, channel: nullable(idField) }, inChannel),
  /**
   * The name its sender chose to be shown by (empty: none), sent to the people they share conversations with; and,
   * to the sender's own other devices only, the sending device's name.
   */
  profile: struct({ ...common, kind: literal('profile'), displayName: text(LIMITS.displayNameBytes), deviceName: nullable(text(LIMITS.displayNameBytes)) }, inChannel),
  /**
   * A channel's metadata keys (its name and topic are sealed under them, channel-meta.ts), pairwise only, to a member's
   * devices: by whoever added them, to the sealing device's other devices, and in answer to a request.
   */
  'channel-key': struct({ ...common, kind: literal('channel-key'), channelId: idField, keys: list(channelMetaKeySchema, LIMITS.channelKeysPerPayload) }, inChannel),
  /** A member asks for the metadata key a channel's name or topic names and it lacks. */
  'channel-key-request': struct({ ...common, kind: literal('channel-key-request'), channelId: idField, keyId: uint(UINT32_MAX) }, inChannel),
  /** A member set the conversation's default timers (null: none); every member's devices announce it in place. */
  timer: struct({ ...common, kind: literal('timer'), expireSeconds: nullable(uint(UINT32_MAX)), burnSeconds: nullable(uint(UINT32_MAX)) }, inChannel),
  /** A recipient's device first displayed these messages: their burn-on-read starts now on every device. */
  burn: struct({ ...common, kind: literal('burn'), targets: list(messageId, LIMITS.idsPerList) }, inChannel),
  /**
   * The org key's seed, from an admin's device to the same account's other devices only (`orgKey.share`): a device
   * keeps it only from its own account and only if it is the org key it pinned (engine policy/org-key-backup.ts).
   */
  'org-key': struct({ ...common, kind: literal('org-key'), seed: key32 }, inChannel),
} satisfies Record<string, Field<unknown>>;

type PayloadOf<K extends keyof typeof payloadSchemas> = Omit<Infer<(typeof payloadSchemas)[K]>, 'v'>;
export type Payload = { [K in keyof typeof payloadSchemas]: PayloadOf<K> }[keyof typeof payloadSchemas];
export type PayloadKind = Payload['kind'];
/** A payload without the envelope-like fields every kind shares (id, sentAt, timers, syncTo, group). */
export type PayloadContent = Payload extends infer P ? (P extends unknown ? Omit<P, 'id' | 'sentAt' | 'timers' | 'syncTo' | 'group'> : never) : never;
export type Timers = NonNullable<Payload['timers']>;

const payloadSchema = variants('kind', payloadSchemas);
const MIN_PADDED = 256;

/** Encodes and pads: 0x80 then zeros up to the next power of two (at least 256 bytes), ISO/IEC 7816-4 style. */
export function encodePayload(payload: Payload): Uint8Array {
  // validate on the way out too, so a local bug cannot send something every receiver will reject
  const versioned = { v: WIRE_VERSION, ...payload };
  payloadSchema.parse(versioned, 'payload');
  const encoded = encodeCborScratch(versioned); // copied once, straight into the padded buffer below
  if (encoded.length >= LIMITS.payloadBytes) fail('OVERSIZED', 'payload exceeds the limit', { size: encoded.length, limit: LIMITS.payloadBytes });
  const padded = allocBytes(paddedSize(encoded.length, MIN_PADDED));
  padded.set(encoded, 0);
  writePadding(padded, encoded.length);
  return padded;
}

export function decodePayload(padded: Uint8Array): Payload {
  if (padded.length > LIMITS.payloadBytes) fail('OVERSIZED', 'padded payload exceeds the limit', { size: padded.length, limit: LIMITS.payloadBytes });
  const { v: _v, ...payload } = decodeVersioned(padded.subarray(0, unpaddedLength(padded)), payloadSchema, { maxBytes: LIMITS.payloadBytes, versions: [WIRE_VERSION], what: 'payload' });
  return payload as Payload;
}
