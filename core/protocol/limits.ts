// Every size and count limit of the protocol. Decoders check these before doing any work; docs/protocol.md
// lists the same numbers with the reasons.
export const LIMITS = {
  /** Whole wire frame (one envelope as the relay carries it). */
  frameBytes: 256 * 1024,
  /** Encrypted payload before padding; padding rounds up to the next power of two within frameBytes. */
  payloadBytes: 128 * 1024,
  /** User, device and channel identifiers (assigned by the server, opaque to the protocol). */
  idBytes: 128,
  textBytes: 64 * 1024,
  /** a display name: 64 characters of up to 4 UTF-8 bytes */
  displayNameBytes: 256,
  certificateBytes: 1024,
  deviceListBytes: 16 * 1024,
  devicesPerAccount: 100,
  /** Persisted protocol state (a session with 2,000 skipped keys is about 200 KB). */
  stateBytes: 1024 * 1024,
  /** Message keys kept for out-of-order delivery, per session or per sender key. Oldest are discarded first (and recorded, see discarded.ts). */
  skippedKeys: 2000,
  /** A counter may jump at most this far ahead in one message; further is refused, not derived. */
  maxSkip: 25_000,
  /** Receipts and other lists of message ids. */
  idsPerList: 500,
  /** people in a group direct message, the sender included */
  groupMembers: 32,
  /** A channel's name: what the contract allows (64 characters of a-z, 0-9, dash, underscore). */
  channelNameBytes: 64,
  /** A channel's topic: 256 characters of up to 4 UTF-8 bytes. */
  channelTopicBytes: 1024,
  /** A sealed name or topic as the relay stores it (its own limit). */
  channelMetadataBytes: 4096,
  /** Metadata keys of one channel in one channel-key payload. */
  channelKeysPerPayload: 8,
  /** People one channel membership change may name (the relay adds at most this many at once). */
  membersPerChange: 1000,
  /** One signed membership entry: its body with a certificate and up to membersPerChange ids, or a cited policy. */
  membershipEntryBytes: 160 * 1024,
  /** An org policy document (the relay's own limit, server/routes/admin.ts): a few fields, never a payload. */
  policyBytes: 16 * 1024,
  /** Files in one message, each with a thumbnail of at most thumbnailBytes: together well inside payloadBytes. */
  filesPerMessage: 10,
  thumbnailBytes: 10 * 1024,
  fileNameBytes: 1020,
  /** Old sessions kept per peer device so late messages on a replaced session still decrypt. */
  previousSessions: 4,
  /** A link preview inside a message: the link, a title and description a card can show, a small JPEG thumbnail. */
  previewUrlBytes: 2048,
  previewTitleBytes: 800,
  previewDescriptionBytes: 1600,
  previewImageBytes: 48 * 1024,
  previewImageSide: 1024,
} as const;

/** Sender-key rotation policy defaults (Megolm rotates at 100 messages / 1 week; we trade a little for cost). */
export const SENDER_KEY_ROTATION = {
  maxMessages: 1000,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
} as const;
