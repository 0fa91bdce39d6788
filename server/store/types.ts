// The storage contract of the relay. Routes and the WebSocket hub talk only to this interface, so a PostgreSQL
// implementation can replace the embedded SQLite one without touching them. Everything here is routing data or
// opaque bytes the clients encrypted or signed; nothing in it lets the server read a message.
import { CodedError } from '../../core/crypto/coded-error.ts';

export type Role = 'admin' | 'member';
/** Stored devices are active or revoked; a device waiting for approval is a link request (server/link-requests.ts). */
export type DeviceStatus = 'active' | 'revoked';
export type ChannelRole = 'owner' | 'admin' | 'member';

/** An Ed25519 signature over exact bytes; the server verifies it and stores both byte-for-byte. */
export interface SignedBlob {
  data: Uint8Array;
  signature: Uint8Array;
}

export interface Account {
  accountId: string;
  username: string;
  publicKey: Uint8Array;
  role: Role;
  suspended: boolean;
  totpSecret: string | null;
  deviceListVersion: number;
  createdAt: number;
}

export interface Device {
  deviceId: string;
  accountId: string;
  publicKey: Uint8Array;
  certificate: SignedBlob | null;
  status: DeviceStatus;
  createdAt: number;
}

export interface Invite {
  admin: boolean;
  expiresAt: number;
  usedBy: string | null;
}

export interface PrekeyEntry {
  keyId: number;
  data: Uint8Array;
}

/** A device's prekey upload; null and empty fields leave what the relay holds. */
export interface PrekeyUpload {
  signed: PrekeyEntry | null;
  /** The device's X25519 and ML-KEM last-resort keys: each in its own slot, handed out when no one-time key is left, never deleted. */
  lastResort: PrekeyEntry | null;
  kemLastResort: PrekeyEntry | null;
  oneTime: PrekeyEntry[];
  kemOneTime: PrekeyEntry[];
  /** Drop the one-time keys of both kinds held so far, before storing these. */
  replaceOneTime: boolean;
}

/** What the relay holds for a device: the counts its top-ups are decided from, and which current keys it has. */
export interface PrekeyStock {
  oneTime: number;
  kemOneTime: number;
  signedPrekeyId: number | null;
  lastResortId: number | null;
  kemLastResortId: number | null;
}

export interface ClaimedBundle {
  deviceId: string;
  signedPrekey: PrekeyEntry | null;
  /** A one-time key, or the last-resort key (which stays) when none is left. */
  oneTimePrekey: PrekeyEntry | null;
  kemPrekey: PrekeyEntry | null;
  /** One-time keys of each kind left after this claim. */
  remainingOneTime: number;
  remainingKemOneTime: number;
}

/** One envelope bound for one device, as the hub delivers it. */
export interface QueuedEnvelope {
  seq: number;
  msgId: Uint8Array;
  senderAccount: string | null; // null: a server notice (membership change), not a user message
  senderDevice: string | null;
  channelId: string | null;
  body: Uint8Array;
  expiresAt: number;
  sentAt: number;
}

/** A send as the hub hands it to the store: already authorised and resolved to recipient devices. */
export interface SendRequest {
  senderAccount: string | null;
  senderDevice: string | null;
  msgId: Uint8Array;
  channelId: string | null;
  expiresAt: number;
  sentAt: number;
  /** Pairwise sends carry one body per device; a channel send one body for every recipient. */
  parts: { body: Uint8Array; devices: string[] }[];
}

export interface SendResult {
  duplicate: boolean;
  /** The queued rows, per recipient device, so online devices can be served from memory. */
  deliveries: { deviceId: string; envelope: QueuedEnvelope }[];
  /** Set when the send was not stored because it would take its sender or a recipient device over its quota. */
  overQuota?: QuotaRefusal;
}

/** Which queue quota a refused send would have exceeded, and its limit in bytes. */
export interface QuotaRefusal {
  quota: 'sender' | 'device';
  limitBytes: number;
}

/**
 * Caps on what waits in the queue (0: none), so one account cannot fill the relay for everyone. `senderBytes`:
 * bytes stored for envelopes an account sent that are not yet acknowledged or expired (each body once, plus a
 * small amount per recipient row). `deviceBytes`: bytes of direct envelopes waiting for one device.
 */
export interface QueueQuotas {
  senderBytes: number;
  deviceBytes: number;
}

export interface AckRequest {
  deviceId: string;
  seqs: number[];
}

export interface Channel {
  channelId: string;
  name: Uint8Array;
  topic: Uint8Array;
  open: boolean;
  createdBy: string;
  createdAt: number;
}

/** One entry of a channel's membership log: opaque signed bytes at a position the server keeps in order. */
export interface ChannelLogEntry {
  seq: number;
  entry: Uint8Array;
}

export interface ChannelMember {
  accountId: string;
  role: ChannelRole;
}

export interface Blob {
  blobId: string;
  ownerAccount: string;
  size: number;
  uploaded: number;
  expiresAt: number;
  createdAt: number;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export interface OrgPolicyRecord {
  version: number;
  document: SignedBlob;
}

export interface ServerStore {
  close(): void;

  // meta: org key, server settings
  getMeta(key: string): string | null;
  setMeta(key: string, value: string): void;
  /** Sets the value only if the key is unset; returns whether it was set. */
  setMetaOnce(key: string, value: string): boolean;

  // invites
  createInvite(codeHash: string, admin: boolean, expiresAt: number, createdBy: string | null): void;
  getInvite(codeHash: string): Invite | null;

  // accounts and devices
  /** Consumes the invite and creates account + first device atomically; throws StoreConflict on a taken name or used invite. */
  createAccount(input: {
    inviteHash: string; now: number; accountId: string; username: string; publicKey: Uint8Array;
    device: { deviceId: string; publicKey: Uint8Array; certificate: SignedBlob };
    deviceList: SignedBlob; deviceListVersion: number;
  }): Account;
  getAccount(accountId: string): Account | null;
  getAccountByUsername(username: string): Account | null;
  listAccounts(limit: number, offset: number): Account[];
  setSuspended(accountId: string, suspended: boolean): void;
  setTotpSecret(accountId: string, secret: string | null): void;
  getDevice(deviceId: string): Device | null;
  listDevices(accountId: string): Device[];
  /**
   * Adds an approved device, active at once, with the account-signed list that names it (the version must grow),
   * in one transaction; StoreConflict device_exists if the key is registered already.
   */
  addLinkedDevice(device: { deviceId: string; accountId: string; publicKey: Uint8Array; certificate: SignedBlob; now: number },
    deviceList: SignedBlob, version: number): void;
  /** Marks revoked, drops its queue and prekeys; optionally stores a new device list. */
  revokeDevice(deviceId: string, now: number, deviceList: SignedBlob | null, version: number | null): void;
  getDeviceList(accountId: string): { list: SignedBlob; version: number } | null;
  setDeviceList(accountId: string, list: SignedBlob, version: number): void;
  activeDeviceIds(accountIds: string[]): string[];
  /** Active devices of every member of the channel: the fan-out list of a channel send. */
  channelDeviceIds(channelId: string): string[];

  // prekeys
  /** One transaction; refused (StoreConflict too_many_prekeys, nothing stored) beyond `maxOneTime` one-time keys of a kind. */
  putPrekeys(deviceId: string, upload: PrekeyUpload, maxOneTime: number): PrekeyStock;
  /**
   * Atomically removes and returns one one-time key of each kind, with the signed prekey; a kind with no one-time
   * key left gives its last-resort key instead, which is never removed.
   */
  claimPrekeys(deviceId: string): ClaimedBundle;
  prekeyStock(deviceId: string): PrekeyStock;

  // envelopes
  /**
   * Group commit: stores many sends and deletes many acknowledged envelopes in ONE transaction (one fsync).
   * Sends are idempotent by (sender device, msg id); acks are idempotent and only touch the acking device's rows.
   */
  commitBatch(sends: SendRequest[], acks: AckRequest[]): { sends: SendResult[]; acks: number[] };
  /** Queue page for a device: seq > afterSeq, unexpired at `now`, oldest first. */
  pendingFor(deviceId: string, afterSeq: number, now: number, limit: number): QueuedEnvelope[];
  /** Drops expired envelopes and stale idempotency keys; returns how many envelopes went. */
  sweepExpired(now: number): number;

  // channels
  createChannel(channel: Channel, ownerAccount: string): void;
  getChannel(channelId: string): Channel | null;
  /**
   * Runs a membership change in one transaction with the log entry that records it. Returns false (and changes
   * nothing) when the entry is not the next position: someone else's change landed first.
   */
  changeChannel(channelId: string, log: ChannelLogEntry | undefined, apply: () => void): boolean;
  channelLog(channelId: string, afterSeq: number, limit: number): ChannelLogEntry[];
  updateChannel(channelId: string, fields: { name?: Uint8Array; topic?: Uint8Array }): void;
  /** The account's channels and the open ones (`all`: every channel, for the org's compliance archive). */
  listChannelsFor(accountId: string, all?: boolean): (Channel & { role: ChannelRole | null })[];
  getMember(channelId: string, accountId: string): ChannelMember | null;
  listMembers(channelId: string): ChannelMember[];
  setMember(channelId: string, accountId: string, role: ChannelRole): void;
  addMembers(channelId: string, accountIds: string[], role: ChannelRole): void;
  removeMember(channelId: string, accountId: string): void;

  // blobs
  createBlob(blob: Blob, quotaBytes: number): boolean;
  getBlob(blobId: string): Blob | null;
  setBlobUploaded(blobId: string, uploaded: number): void;
  deleteBlob(blobId: string): void;
  expiredBlobs(now: number): string[];

  // org policy and audit
  getPolicy(): OrgPolicyRecord | null;
  /** Stores the policy if its version is greater than the stored one; returns whether it did. */
  putPolicy(policy: OrgPolicyRecord): boolean;
  audit(entry: Omit<AuditEntry, 'seq'>): void;
  listAudit(afterSeq: number, limit: number): AuditEntry[];
}

/** A write refused because it conflicts with existing data (taken username, used invite, stale version). */
export class StoreConflict extends CodedError<string> {
  override readonly name = 'StoreConflict';
}
