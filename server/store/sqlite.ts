// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a committed transaction survives a
// crash or power loss and an acknowledgement can honestly mean "durably stored". The database is plain SQLite,
// not SQLCipher: it holds only ciphertext, public keys and routing, and a key kept beside it would protect nothing.
// The package's "exports" map hides its bundled index.d.ts from nodenext resolution: load it with require and
// take the types by path (the same way core/vault/sqlite.ts does; the server may not import the vault).
import { createRequire } from 'node:module';
import type DatabaseTypes from '../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';
import type {
  AckRequest, Account, AuditEntry, Blob, Channel, ChannelMember, ChannelRole, ClaimedBundle, Device, DeviceStatus, Invite,
  OrgPolicyRecord, PrekeyEntry, PrekeyStock, PrekeyUpload, QueuedEnvelope, QueueQuotas, Role, SendRequest, SendResult, ServerStore, SignedBlob,
} from './types.ts';
import { StoreConflict } from './types.ts';
import { Tally, tallied } from './tally.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS invites (
  code_hash TEXT PRIMARY KEY, admin INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  used_by TEXT, created_by TEXT, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  account_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE, public_key BLOB NOT NULL,
  role TEXT NOT NULL, suspended INTEGER NOT NULL DEFAULT 0, totp_secret TEXT,
  device_list BLOB, device_list_sig BLOB, device_list_version INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  device_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(account_id), public_key BLOB NOT NULL,
  certificate BLOB, certificate_sig BLOB, status TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS devices_by_account ON devices(account_id);
CREATE TABLE IF NOT EXISTS signed_prekeys (device_id TEXT PRIMARY KEY, key_id INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS one_time_prekeys (
  device_id TEXT NOT NULL, key_id INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device_id, key_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kem_one_time_prekeys (
  device_id TEXT NOT NULL, key_id INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device_id, key_id)) WITHOUT ROWID;
-- kind 'x25519' or 'ml-kem-768': one slot each per device, replaced by uploads, never removed by claims
CREATE TABLE IF NOT EXISTS last_resort_prekeys (
  device_id TEXT NOT NULL, kind TEXT NOT NULL, key_id INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (device_id, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sends (
  sender_device TEXT NOT NULL, msg_id BLOB NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (sender_device, msg_id)) WITHOUT ROWID;
-- recipient_device: the one device a direct envelope is for (NULL for a channel fan-out), for its queue quota.
CREATE TABLE IF NOT EXISTS messages (
  message_seq INTEGER PRIMARY KEY, msg_id BLOB NOT NULL, sender_account TEXT, sender_device TEXT, channel_id TEXT,
  body BLOB NOT NULL, expires_at INTEGER NOT NULL, sent_at INTEGER NOT NULL, remaining INTEGER NOT NULL,
  recipient_device TEXT);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_at);
-- One row per envelope a device has still to receive, clustered by device: pushing, paging and acknowledging each
-- touch one b-tree (the former rowid table with AUTOINCREMENT and two indexes touched four, and at a 50-device
-- fan-out those writes were most of the relay's work). seq comes from meta 'last_seq' and is never reused, so
-- "seq > cursor" is a safe resume point. No index by message: expired messages leave orphan rows, which a bounded
-- clean-up removes a window at a time (see the expiry sweep).
CREATE TABLE IF NOT EXISTS queue (
  device_id TEXT NOT NULL, seq INTEGER NOT NULL, message_seq INTEGER NOT NULL,
  PRIMARY KEY (device_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS channels (
  channel_id TEXT PRIMARY KEY, name BLOB NOT NULL, topic BLOB NOT NULL, open INTEGER NOT NULL,
  created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS channel_members (
  channel_id TEXT NOT NULL, account_id TEXT NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY (channel_id, account_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_account ON channel_members(account_id);
-- the members' signed membership log, stored and served as it came (the server cannot read or sign entries)
CREATE TABLE IF NOT EXISTS channel_log (
  channel_id TEXT NOT NULL, seq INTEGER NOT NULL, entry BLOB NOT NULL,
  PRIMARY KEY (channel_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
  blob_id TEXT PRIMARY KEY, owner_account TEXT NOT NULL, size INTEGER NOT NULL, uploaded INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_by_owner ON blobs(owner_account);
CREATE TABLE IF NOT EXISTS policy (
  id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, data BLOB NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, detail TEXT);
`;

type Row = Record<string, unknown>;
const LAST_RESORT_X25519 = 'x25519';
const LAST_RESORT_ML_KEM = 'ml-kem-768';
const bytes = (value: unknown): Uint8Array => new Uint8Array(value as Buffer);

function toAccount(r: Row): Account {
  return {
    accountId: r.account_id as string, username: r.username as string, publicKey: bytes(r.public_key),
    role: r.role as Role, suspended: r.suspended === 1, totpSecret: (r.totp_secret as string | null) ?? null,
    deviceListVersion: r.device_list_version as number, createdAt: r.created_at as number,
  };
}

function toDevice(r: Row): Device {
  return {
    deviceId: r.device_id as string, accountId: r.account_id as string, publicKey: bytes(r.public_key),
    certificate: r.certificate ? { data: bytes(r.certificate), signature: bytes(r.certificate_sig) } : null,
    status: r.status as DeviceStatus, createdAt: r.created_at as number,
  };
}

function toEnvelope(r: Row): QueuedEnvelope {
  return {
    seq: r.seq as number, msgId: bytes(r.msg_id), senderAccount: (r.sender_account as string | null) ?? null,
    senderDevice: (r.sender_device as string | null) ?? null, channelId: (r.channel_id as string | null) ?? null,
    body: bytes(r.body), expiresAt: r.expires_at as number, sentAt: r.sent_at as number,
  };
}

function toChannel(r: Row): Channel {
  return {
    channelId: r.channel_id as string, name: bytes(r.name), topic: bytes(r.topic), open: r.open === 1,
    createdBy: r.created_by as string, createdAt: r.created_at as number,
  };
}

function toBlob(r: Row): Blob {
  return {
    blobId: r.blob_id as string, ownerAccount: r.owner_account as string, size: r.size as number,
    uploaded: r.uploaded as number, expiresAt: r.expires_at as number, createdAt: r.created_at as number,
  };
}

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;

/**
 * Databases from before the clustered queue keep undelivered envelopes in a rowid table `deliveries`: move its rows
 * into `queue` and carry its AUTOINCREMENT high-water mark into meta 'last_seq', so that no seq a device may already
 * have seen (and acknowledged) is ever issued again. One transaction: a crash leaves the old table in place.
 */
function migrateDeliveriesToQueue(db: DatabaseTypes.Database): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'").get()) return;
  db.transaction(() => {
    db.exec('INSERT INTO queue(device_id, seq, message_seq) SELECT device_id, seq, message_seq FROM deliveries');
    const hasSequence = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
    const issued = hasSequence ? (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'").pluck().get() as number | undefined) : undefined;
    const highWater = Math.max(issued ?? 0, (db.prepare('SELECT max(seq) FROM deliveries').pluck().get() as number | null) ?? 0);
    db.prepare("INSERT INTO meta(key, value) VALUES ('last_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(String(highWater));
    db.exec('DROP TABLE deliveries');
  })();
}

/**
 * Relays before link requests stored anonymous "pending" devices that nothing ever cleaned up (and that counted
 * against their account's linking). Such a device never logged in and holds nothing: the waiting device asks again.
 */
function dropPendingDevices(db: DatabaseTypes.Database): void {
  db.prepare("DELETE FROM devices WHERE status = 'pending'").run();
}

/** Databases from before queue quotas have no recipient_device column; their envelopes count for senders only. */
function addRecipientDevice(db: DatabaseTypes.Database): void {
  const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('messages') as string[];
  if (!columns.includes('recipient_device')) db.exec('ALTER TABLE messages ADD COLUMN recipient_device TEXT');
}

/**
 * What a queue row costs beyond the body it points to (its key, its b-tree entry), counted against the sender's
 * quota, so a fan-out to many devices is not free.
 */
const QUEUE_ROW_BYTES = 64;

export interface SqliteStoreOptions {
  /** Caps the database file (0: no cap): a write that would grow it further fails with SQLITE_FULL. */
  maxBytes?: number;
  quotas?: QueueQuotas;
}

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): ServerStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // an ack means committed to disk, not only to the OS cache
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000'); // the `invite` CLI may write while the server runs
  db.exec(SCHEMA);
  addRecipientDevice(db);
  migrateDeliveriesToQueue(db);
  dropPendingDevices(db);
  if (options.maxBytes) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    // never below what the file already holds: SQLite would refuse every write, acks included
    const pages = Math.max(Math.ceil(options.maxBytes / pageSize), db.pragma('page_count', { simple: true }) as number);
    db.pragma(`max_page_count = ${pages}`);
  }

  const s = (sql: string) => db.prepare(sql);
  // Which devices a channel send fans out to: asked on every channel message, changed only when membership or a
  // device's status changes. Every statement that writes channel_members or devices is made with `membership`, whose
  // run() empties the cache first, so a removed member or a revoked device is never sent to from a stale entry.
  const channelDevicesCache = new Map<string, string[]>();
  const membership = (sql: string) => {
    const statement = db.prepare(sql);
    return {
      run: (...params: unknown[]) => {
        channelDevicesCache.clear();
        return statement.run(...params);
      },
    };
  };
  const q = {
    getMeta: s('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: s('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    setMetaOnce: s('INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)'),
    createInvite: s('INSERT INTO invites(code_hash, admin, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?)'),
    getInvite: s('SELECT * FROM invites WHERE code_hash = ?'),
    useInvite: s('UPDATE invites SET used_by = ? WHERE code_hash = ? AND used_by IS NULL AND expires_at > ?'),
    insertAccount: s(`INSERT INTO accounts(account_id, username, public_key, role, device_list, device_list_sig,
      device_list_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    accountById: s('SELECT * FROM accounts WHERE account_id = ?'),
    accountByName: s('SELECT * FROM accounts WHERE username = ?'),
    listAccounts: s('SELECT * FROM accounts ORDER BY created_at, account_id LIMIT ? OFFSET ?'),
    setSuspended: s('UPDATE accounts SET suspended = ? WHERE account_id = ?'),
    setTotp: s('UPDATE accounts SET totp_secret = ? WHERE account_id = ?'),
    insertDevice: membership(`INSERT INTO devices(device_id, account_id, public_key, certificate, certificate_sig, status, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    deviceById: s('SELECT * FROM devices WHERE device_id = ?'),
    devicesOf: s('SELECT * FROM devices WHERE account_id = ? ORDER BY created_at, device_id'),
    revoke: membership("UPDATE devices SET status = 'revoked', revoked_at = ? WHERE device_id = ? AND status != 'revoked'"),
    deviceList: s('SELECT device_list, device_list_sig, device_list_version FROM accounts WHERE account_id = ?'),
    setDeviceList: s(`UPDATE accounts SET device_list = ?, device_list_sig = ?, device_list_version = ?
      WHERE account_id = ? AND device_list_version < ?`),
    putSigned: s('INSERT INTO signed_prekeys(device_id, key_id, data) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET key_id = excluded.key_id, data = excluded.data'),
    putOneTime: s('INSERT OR REPLACE INTO one_time_prekeys(device_id, key_id, data) VALUES (?, ?, ?)'),
    putKemOneTime: s('INSERT OR REPLACE INTO kem_one_time_prekeys(device_id, key_id, data) VALUES (?, ?, ?)'),
    putLastResort: s(`INSERT INTO last_resort_prekeys(device_id, kind, key_id, data) VALUES (?, ?, ?, ?)
      ON CONFLICT(device_id, kind) DO UPDATE SET key_id = excluded.key_id, data = excluded.data`),
    getSigned: s('SELECT key_id, data FROM signed_prekeys WHERE device_id = ?'),
    getLastResort: s('SELECT key_id, data FROM last_resort_prekeys WHERE device_id = ? AND kind = ?'),
    // One statement picks and deletes the lowest one-time prekey, so two claims can never share one.
    claimOneTime: s(`DELETE FROM one_time_prekeys WHERE device_id = @device AND key_id =
      (SELECT key_id FROM one_time_prekeys WHERE device_id = @device ORDER BY key_id LIMIT 1) RETURNING key_id, data`),
    claimKemOneTime: s(`DELETE FROM kem_one_time_prekeys WHERE device_id = @device AND key_id =
      (SELECT key_id FROM kem_one_time_prekeys WHERE device_id = @device ORDER BY key_id LIMIT 1) RETURNING key_id, data`),
    countOneTime: s('SELECT count(*) FROM one_time_prekeys WHERE device_id = ?').pluck(),
    countKemOneTime: s('SELECT count(*) FROM kem_one_time_prekeys WHERE device_id = ?').pluck(),
    dropPrekeys: s('DELETE FROM one_time_prekeys WHERE device_id = ?'),
    dropKemPrekeys: s('DELETE FROM kem_one_time_prekeys WHERE device_id = ?'),
    dropLastResort: s('DELETE FROM last_resort_prekeys WHERE device_id = ?'),
    dropSigned: s('DELETE FROM signed_prekeys WHERE device_id = ?'),
    insertSend: s('INSERT OR IGNORE INTO sends(sender_device, msg_id, expires_at) VALUES (?, ?, ?)'),
    insertMessage: s(`INSERT INTO messages(msg_id, sender_account, sender_device, channel_id, body, expires_at, sent_at, remaining, recipient_device)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    forgetSend: s('DELETE FROM sends WHERE sender_device = ? AND msg_id = ?'),
    insertDelivery: s('INSERT INTO queue(device_id, seq, message_seq) VALUES (?, ?, ?)'),
    // An ack frame's seqs in one statement (a JSON array of integers, checked by the frame schema): measured here
    // about 40% cheaper than a statement per seq, and acks are half of the relay's database work.
    deleteDeliveries: s('DELETE FROM queue WHERE device_id = ? AND seq IN (SELECT value FROM json_each(?)) RETURNING message_seq').pluck(),
    decrementMessage: s(`UPDATE messages SET remaining = remaining - ? WHERE message_seq = ?
      RETURNING sender_account, recipient_device, length(body) AS size, remaining`),
    deleteMessageRow: s('DELETE FROM messages WHERE message_seq = ?'),
    senderUsage: s(`SELECT sender_account AS key, sum(length(body) + remaining * ${QUEUE_ROW_BYTES}) AS bytes FROM messages
      WHERE sender_account IS NOT NULL GROUP BY sender_account`),
    deviceUsage: s(`SELECT recipient_device AS key, sum(length(body)) AS bytes FROM messages
      WHERE recipient_device IS NOT NULL GROUP BY recipient_device`),
    pending: s(`SELECT d.seq, m.msg_id, m.sender_account, m.sender_device, m.channel_id, m.body, m.expires_at, m.sent_at
      FROM queue d JOIN messages m ON m.message_seq = d.message_seq
      WHERE d.device_id = ? AND d.seq > ? AND m.expires_at > ? ORDER BY d.seq LIMIT ?`),
    dropQueue: s('DELETE FROM queue WHERE device_id = ? RETURNING message_seq').pluck(),
    expiredMessages: s(`SELECT message_seq, sender_account, recipient_device, length(body) AS size, remaining FROM messages
      WHERE expires_at <= ?`),
    // The next window of queue rows after a resume point, in key order: its last key, and the orphans in it.
    orphanWindowEnd: s(`SELECT device_id, seq FROM queue WHERE (device_id, seq) > (@device, @seq)
      ORDER BY device_id, seq LIMIT 1 OFFSET @window - 1`),
    // Two statements, not one with an optional bound: an OR on a parameter keeps SQLite from using the key range
    // (measured: 88 ms a window instead of 9 on a million-row queue).
    deleteOrphansTo: s(`DELETE FROM queue WHERE (device_id, seq) > (@device, @seq) AND (device_id, seq) <= (@endDevice, @endSeq)
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_seq = queue.message_seq)`),
    deleteOrphansAfter: s(`DELETE FROM queue WHERE (device_id, seq) > (@device, @seq)
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.message_seq = queue.message_seq)`),
    expireSends: s('DELETE FROM sends WHERE expires_at <= ?'),
    insertChannel: s('INSERT INTO channels(channel_id, name, topic, open, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    channelById: s('SELECT * FROM channels WHERE channel_id = ?'),
    logHead: s('SELECT coalesce(max(seq), -1) FROM channel_log WHERE channel_id = ?').pluck(),
    logAppend: s('INSERT INTO channel_log(channel_id, seq, entry) VALUES (?, ?, ?)'),
    logAfter: s('SELECT seq, entry FROM channel_log WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    setName: s('UPDATE channels SET name = ? WHERE channel_id = ?'),
    setTopic: s('UPDATE channels SET topic = ? WHERE channel_id = ?'),
    channelsFor: s(`SELECT c.*, m.role AS member_role FROM channels c
      LEFT JOIN channel_members m ON m.channel_id = c.channel_id AND m.account_id = ?
      WHERE m.account_id IS NOT NULL OR c.open = 1 ORDER BY c.created_at, c.channel_id`),
    allChannelsFor: s(`SELECT c.*, m.role AS member_role FROM channels c
      LEFT JOIN channel_members m ON m.channel_id = c.channel_id AND m.account_id = ? ORDER BY c.created_at, c.channel_id`),
    member: s('SELECT account_id, role FROM channel_members WHERE channel_id = ? AND account_id = ?'),
    members: s('SELECT account_id, role FROM channel_members WHERE channel_id = ? ORDER BY account_id'),
    setMember: membership('INSERT INTO channel_members(channel_id, account_id, role) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role'),
    channelDevices: s(`SELECT d.device_id FROM channel_members m JOIN devices d ON d.account_id = m.account_id
      WHERE m.channel_id = ? AND d.status = 'active' ORDER BY d.device_id`).pluck(),
    removeMember: membership('DELETE FROM channel_members WHERE channel_id = ? AND account_id = ?'),
    blobUsage: s('SELECT coalesce(sum(size), 0) FROM blobs WHERE owner_account = ?').pluck(),
    insertBlob: s('INSERT INTO blobs(blob_id, owner_account, size, uploaded, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    blobById: s('SELECT * FROM blobs WHERE blob_id = ?'),
    setUploaded: s('UPDATE blobs SET uploaded = ? WHERE blob_id = ?'),
    deleteBlob: s('DELETE FROM blobs WHERE blob_id = ?'),
    expiredBlobs: s('SELECT blob_id FROM blobs WHERE expires_at <= ?').pluck(),
    getPolicy: s('SELECT version, data, signature FROM policy WHERE id = 1'),
    putPolicy: s(`INSERT INTO policy(id, version, data, signature) VALUES (1, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET version = excluded.version, data = excluded.data, signature = excluded.signature
      WHERE excluded.version > policy.version`),
    audit: s('INSERT INTO audit(at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)'),
    listAudit: s('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?'),
  };

  // Bytes queued per sender account and per recipient device (QueueQuotas), rebuilt from the database at start and
  // kept in step by every statement that stores or removes a message or a queue row.
  const quotas = options.quotas ?? { senderBytes: 0, deviceBytes: 0 };
  const senderBytes = new Tally();
  const deviceBytes = new Tally();
  for (const [statement, tally] of [[q.senderUsage, senderBytes], [q.deviceUsage, deviceBytes]] as const) {
    for (const row of statement.all() as { key: string; bytes: number }[]) tally.add(row.key, row.bytes);
    tally.commit();
  }
  interface MessageUsage { sender_account: string | null; recipient_device: string | null; size: number; remaining: number }
  /** A message row leaves the queue: its body and its remaining rows stop counting. */
  const uncount = (message: MessageUsage) => {
    if (message.sender_account) senderBytes.add(message.sender_account, -(message.size + Math.max(0, message.remaining) * QUEUE_ROW_BYTES));
    if (message.recipient_device) deviceBytes.add(message.recipient_device, -message.size);
  };

  /** A message row lives while deliveries reference it; `released` counts the deliveries just deleted. */
  const releaseMessage = (messageSeq: number, released: number) => {
    // nothing comes back for a message already gone (expired, and counted out then)
    const message = q.decrementMessage.get(released, messageSeq) as MessageUsage | undefined;
    if (!message) return;
    if (message.sender_account) senderBytes.add(message.sender_account, -released * QUEUE_ROW_BYTES);
    if (message.remaining > 0) return;
    q.deleteMessageRow.run(messageSeq);
    uncount(message);
  };

  /** Which quota, if any, this send would take over its limit. */
  const overQuota = (send: SendRequest): SendResult['overQuota'] => {
    if (quotas.senderBytes > 0 && send.senderAccount !== null) {
      const cost = send.parts.reduce((sum, part) => sum + (part.devices.length > 0 ? part.body.length + part.devices.length * QUEUE_ROW_BYTES : 0), 0);
      if (senderBytes.get(send.senderAccount) + cost > quotas.senderBytes) return { quota: 'sender', limitBytes: quotas.senderBytes };
    }
    if (quotas.deviceBytes > 0 && send.channelId === null) {
      for (const part of send.parts) {
        const device = part.devices.length === 1 ? part.devices[0]! : null;
        if (device !== null && deviceBytes.get(device) + part.body.length > quotas.deviceBytes) return { quota: 'device', limitBytes: quotas.deviceBytes };
      }
    }
    return undefined;
  };

  // Seqs are allocated here and the high-water mark saved in the same transaction as the rows that use it. A rolled
  // back transaction leaves this counter ahead of the database: a gap, never a reuse.
  let lastSeq = Math.max(Number(q.getMeta.get('last_seq') ?? 0), (db.prepare('SELECT max(seq) FROM queue').pluck().get() as number | null) ?? 0);

  const createAccount = db.transaction((input: Parameters<ServerStore['createAccount']>[0]): Account => {
    const invite = q.getInvite.get(input.inviteHash) as Row | undefined;
    if (!invite || q.useInvite.run(input.accountId, input.inviteHash, input.now).changes !== 1) {
      throw new StoreConflict('invite_invalid', 'the invite code is unknown, used or expired');
    }
    if (q.accountByName.get(input.username)) throw new StoreConflict('username_taken', 'that username is taken');
    if (q.deviceById.get(input.device.deviceId)) throw new StoreConflict('device_exists', 'that device key is already registered');
    const role: Role = invite.admin === 1 ? 'admin' : 'member';
    q.insertAccount.run(input.accountId, input.username, input.publicKey, role, input.deviceList.data,
      input.deviceList.signature, input.deviceListVersion, input.now);
    q.insertDevice.run(input.device.deviceId, input.accountId, input.device.publicKey, input.device.certificate.data,
      input.device.certificate.signature, 'active', input.now);
    return toAccount(q.accountById.get(input.accountId) as Row);
  });

  const setDeviceListOrThrow = (accountId: string, list: SignedBlob, version: number) => {
    if (q.setDeviceList.run(list.data, list.signature, version, accountId, version).changes !== 1) {
      throw new StoreConflict('stale_device_list', 'the device list version must be greater than the stored one');
    }
  };

  const addLinkedDevice = db.transaction((d: Parameters<ServerStore['addLinkedDevice']>[0], list: SignedBlob, version: number) => {
    if (q.deviceById.get(d.deviceId)) throw new StoreConflict('device_exists', 'that device key is already registered');
    setDeviceListOrThrow(d.accountId, list, version);
    q.insertDevice.run(d.deviceId, d.accountId, d.publicKey, d.certificate.data, d.certificate.signature, 'active', d.now);
  });

  const dropAllPrekeys = (deviceId: string) => {
    for (const statement of [q.dropPrekeys, q.dropKemPrekeys, q.dropLastResort, q.dropSigned]) statement.run(deviceId);
  };

  const revokeDevice = tallied([senderBytes, deviceBytes], db.transaction((deviceId: string, now: number, list: SignedBlob | null, version: number | null) => {
    const device = q.deviceById.get(deviceId) as Row | undefined;
    if (!device) throw new StoreConflict('device_unknown', 'no such device');
    if (list && version !== null) setDeviceListOrThrow(device.account_id as string, list, version);
    q.revoke.run(now, deviceId);
    for (const messageSeq of q.dropQueue.all(deviceId) as number[]) releaseMessage(messageSeq, 1);
    dropAllPrekeys(deviceId);
  }));

  const entry = (row: Row | undefined): PrekeyEntry | null => (row ? { keyId: row.key_id as number, data: bytes(row.data) } : null);
  const keyIdOf = (row: unknown): number | null => ((row as Row | undefined)?.key_id as number | undefined) ?? null;
  const prekeyStock = (deviceId: string): PrekeyStock => ({
    oneTime: q.countOneTime.get(deviceId) as number,
    kemOneTime: q.countKemOneTime.get(deviceId) as number,
    signedPrekeyId: keyIdOf(q.getSigned.get(deviceId)),
    lastResortId: keyIdOf(q.getLastResort.get(deviceId, LAST_RESORT_X25519)),
    kemLastResortId: keyIdOf(q.getLastResort.get(deviceId, LAST_RESORT_ML_KEM)),
  });

  const putPrekeys = db.transaction((deviceId: string, upload: PrekeyUpload, maxOneTime: number): PrekeyStock => {
    if (upload.replaceOneTime) {
      q.dropPrekeys.run(deviceId);
      q.dropKemPrekeys.run(deviceId);
    }
    if (upload.signed) q.putSigned.run(deviceId, upload.signed.keyId, upload.signed.data);
    if (upload.lastResort) q.putLastResort.run(deviceId, LAST_RESORT_X25519, upload.lastResort.keyId, upload.lastResort.data);
    if (upload.kemLastResort) q.putLastResort.run(deviceId, LAST_RESORT_ML_KEM, upload.kemLastResort.keyId, upload.kemLastResort.data);
    for (const key of upload.oneTime) q.putOneTime.run(deviceId, key.keyId, key.data);
    for (const key of upload.kemOneTime) q.putKemOneTime.run(deviceId, key.keyId, key.data);
    const stock = prekeyStock(deviceId);
    if (stock.oneTime > maxOneTime || stock.kemOneTime > maxOneTime) {
      // thrown inside the transaction, so nothing of this upload is kept
      throw new StoreConflict('too_many_prekeys', `a device may keep at most ${maxOneTime} one-time prekeys of each kind on the relay`);
    }
    return stock;
  });

  const claimPrekeys = db.transaction((deviceId: string): ClaimedBundle => {
    const signed = entry(q.getSigned.get(deviceId) as Row | undefined);
    const oneTime = entry(q.claimOneTime.get({ device: deviceId }) as Row | undefined)
      ?? entry(q.getLastResort.get(deviceId, LAST_RESORT_X25519) as Row | undefined);
    const kem = entry(q.claimKemOneTime.get({ device: deviceId }) as Row | undefined)
      ?? entry(q.getLastResort.get(deviceId, LAST_RESORT_ML_KEM) as Row | undefined);
    return {
      deviceId, signedPrekey: signed, oneTimePrekey: oneTime, kemPrekey: kem,
      remainingOneTime: q.countOneTime.get(deviceId) as number, remainingKemOneTime: q.countKemOneTime.get(deviceId) as number,
    };
  });

  const commitSend = (send: SendRequest): SendResult => {
    if (send.senderDevice !== null && q.insertSend.run(send.senderDevice, send.msgId, send.expiresAt).changes === 0) {
      return { duplicate: true, deliveries: [] };
    }
    // After the duplicate check, so a retry of a send that was stored is answered as such even when over quota;
    // and the idempotency key is taken back, so the refused send can be retried later.
    const refused = overQuota(send);
    if (refused) {
      if (send.senderDevice !== null) q.forgetSend.run(send.senderDevice, send.msgId);
      return { duplicate: false, deliveries: [], overQuota: refused };
    }
    const deliveries: SendResult['deliveries'] = [];
    for (const part of send.parts) {
      if (part.devices.length === 0) continue;
      const recipient = send.channelId === null && part.devices.length === 1 ? part.devices[0]! : null;
      const messageSeq = Number(q.insertMessage.run(send.msgId, send.senderAccount, send.senderDevice, send.channelId,
        part.body, send.expiresAt, send.sentAt, part.devices.length, recipient).lastInsertRowid);
      if (send.senderAccount !== null) senderBytes.add(send.senderAccount, part.body.length + part.devices.length * QUEUE_ROW_BYTES);
      if (recipient !== null) deviceBytes.add(recipient, part.body.length);
      for (const deviceId of part.devices) {
        const seq = ++lastSeq;
        q.insertDelivery.run(deviceId, seq, messageSeq);
        deliveries.push({
          deviceId,
          envelope: {
            seq, msgId: send.msgId, senderAccount: send.senderAccount, senderDevice: send.senderDevice,
            channelId: send.channelId, body: part.body, expiresAt: send.expiresAt, sentAt: send.sentAt,
          },
        });
      }
    }
    return { duplicate: false, deliveries };
  };

  const commitAck = ({ deviceId, seqs }: AckRequest, released: Map<number, number>): number => {
    // Seqs already acked, expired, or not this device's match nothing: acks are idempotent.
    const messageSeqs = q.deleteDeliveries.all(deviceId, JSON.stringify(seqs)) as number[];
    for (const messageSeq of messageSeqs) released.set(messageSeq, (released.get(messageSeq) ?? 0) + 1);
    return messageSeqs.length;
  };

  const commitBatch = tallied([senderBytes, deviceBytes], db.transaction((sends: SendRequest[], acks: AckRequest[]) => {
    const seqBefore = lastSeq;
    const sendResults = sends.map(commitSend);
    if (lastSeq !== seqBefore) q.setMeta.run('last_seq', String(lastSeq));
    // A channel message is acked by hundreds of devices, often in the same batch: settle its count once.
    const released = new Map<number, number>();
    const ackResults = acks.map((ack) => commitAck(ack, released));
    for (const [messageSeq, count] of released) releaseMessage(messageSeq, count);
    return { sends: sendResults, acks: ackResults };
  }));

  // Expired messages (the ciphertext) are deleted at once. Their queue rows hold no content, only routing, and with
  // no index by message finding them means scanning the queue (0.44 s per million rows here, a stall the relay
  // cannot afford), so while orphans may exist each sweep cleans one window of the queue in key order (about 9 ms
  // for 10,000 rows) and resumes after it next time, until a whole pass has run with no expiry during it. Until
  // then an orphan row is invisible: paging joins the queue to its message.
  const ORPHAN_WINDOW_ROWS = 10_000;
  const passStart = { device: '', seq: -1 };
  const orphans = { cursor: passStart, cleaning: false, expiredDuringPass: false };
  const cleanOrphanWindow = () => {
    const end = q.orphanWindowEnd.get({ ...orphans.cursor, window: ORPHAN_WINDOW_ROWS }) as { device_id: string; seq: number } | undefined;
    if (end) {
      q.deleteOrphansTo.run({ ...orphans.cursor, endDevice: end.device_id, endSeq: end.seq });
      orphans.cursor = { device: end.device_id, seq: end.seq };
      return;
    }
    q.deleteOrphansAfter.run(orphans.cursor);
    // a pass is complete: another is needed only if messages expired during this one (their rows may lie behind)
    orphans.cursor = passStart;
    orphans.cleaning = orphans.expiredDuringPass;
    orphans.expiredDuringPass = false;
  };
  const sweepExpired = tallied([senderBytes, deviceBytes], db.transaction((now: number): number => {
    const expired = q.expiredMessages.all(now) as (MessageUsage & { message_seq: number })[];
    for (const message of expired) {
      q.deleteMessageRow.run(message.message_seq);
      uncount(message);
    }
    if (expired.length > 0) {
      orphans.cleaning = true;
      orphans.expiredDuringPass = true;
    }
    if (orphans.cleaning) cleanOrphanWindow();
    q.expireSends.run(now);
    return expired.length;
  }));

  const createBlob = db.transaction((blob: Blob, quotaBytes: number): boolean => {
    if ((q.blobUsage.get(blob.ownerAccount) as number) + blob.size > quotaBytes) return false;
    q.insertBlob.run(blob.blobId, blob.ownerAccount, blob.size, blob.uploaded, blob.expiresAt, blob.createdAt);
    return true;
  });

  return {
    close: () => db.close(),
    getMeta: (key) => (q.getMeta.get(key) as string | undefined) ?? null,
    setMeta: (key, value) => { q.setMeta.run(key, value); },
    setMetaOnce: (key, value) => q.setMetaOnce.run(key, value).changes === 1,
    createInvite: (codeHash, admin, expiresAt, createdBy) => {
      q.createInvite.run(codeHash, admin ? 1 : 0, expiresAt, createdBy, Date.now());
    },
    getInvite: (codeHash) => {
      const r = q.getInvite.get(codeHash) as Row | undefined;
      return r ? { admin: r.admin === 1, expiresAt: r.expires_at as number, usedBy: (r.used_by as string | null) ?? null } satisfies Invite : null;
    },
    createAccount: (input) => createAccount(input),
    getAccount: (id) => { const r = q.accountById.get(id) as Row | undefined; return r ? toAccount(r) : null; },
    getAccountByUsername: (name) => { const r = q.accountByName.get(name) as Row | undefined; return r ? toAccount(r) : null; },
    listAccounts: (limit, offset) => (q.listAccounts.all(limit, offset) as Row[]).map(toAccount),
    setSuspended: (id, suspended) => { q.setSuspended.run(suspended ? 1 : 0, id); },
    setTotpSecret: (id, secret) => { q.setTotp.run(secret, id); },
    getDevice: (id) => { const r = q.deviceById.get(id) as Row | undefined; return r ? toDevice(r) : null; },
    listDevices: (accountId) => (q.devicesOf.all(accountId) as Row[]).map(toDevice),
    addLinkedDevice: (device, list, version) => addLinkedDevice(device, list, version),
    revokeDevice: (id, now, list, version) => revokeDevice(id, now, list, version),
    getDeviceList: (accountId) => {
      const r = q.deviceList.get(accountId) as Row | undefined;
      if (!r || !r.device_list) return null;
      return { list: { data: bytes(r.device_list), signature: bytes(r.device_list_sig) }, version: r.device_list_version as number };
    },
    setDeviceList: (accountId, list, version) => setDeviceListOrThrow(accountId, list, version),
    activeDeviceIds: (accountIds) => {
      if (accountIds.length === 0) return [];
      const out: string[] = [];
      // Chunked IN-lists: SQLite caps bound parameters, and channels may have thousands of members.
      for (let i = 0; i < accountIds.length; i += 500) {
        const chunk = accountIds.slice(i, i + 500);
        const rows = db.prepare(`SELECT device_id FROM devices WHERE status = 'active' AND account_id IN (${chunk.map(() => '?').join(',')})
          ORDER BY device_id`).pluck().all(...chunk) as string[];
        out.push(...rows);
      }
      return out;
    },
    channelDeviceIds: (channelId) => {
      let devices = channelDevicesCache.get(channelId);
      if (!devices) {
        devices = q.channelDevices.all(channelId) as string[];
        channelDevicesCache.set(channelId, devices);
      }
      return [...devices]; // a copy, so no caller can change the cached list
    },
    putPrekeys: (deviceId, upload, maxOneTime) => putPrekeys(deviceId, upload, maxOneTime),
    claimPrekeys: (deviceId) => claimPrekeys(deviceId),
    prekeyStock: (deviceId) => prekeyStock(deviceId),
    commitBatch: (sends, acks) => {
      if (sends.length > 0) return commitBatch(sends, acks);
      // A batch of acks alone commits without its own fsync (WAL + synchronous=NORMAL): it survives a process
      // crash, and the next send's FULL commit flushes it to disk. Only a power loss can undo it, and then the
      // worst case is a redelivery that clients drop by message id. Acks outnumber sends 50:1 in a busy channel.
      db.pragma('synchronous = NORMAL');
      try {
        return commitBatch(sends, acks);
      } finally {
        db.pragma('synchronous = FULL');
      }
    },
    pendingFor: (deviceId, afterSeq, now, limit) => (q.pending.all(deviceId, afterSeq, now, limit) as Row[]).map(toEnvelope),
    sweepExpired: (now) => sweepExpired(now),
    createChannel: (c, owner) => {
      db.transaction(() => {
        q.insertChannel.run(c.channelId, c.name, c.topic, c.open ? 1 : 0, c.createdBy, c.createdAt);
        q.setMember.run(c.channelId, owner, 'owner');
      })();
    },
    changeChannel: (channelId, log, apply) => db.transaction(() => {
      if (log) {
        if (log.seq !== (q.logHead.get(channelId) as number) + 1) return false;
        q.logAppend.run(channelId, log.seq, log.entry);
      }
      apply();
      return true;
    })(),
    channelLog: (channelId, afterSeq, limit) => (q.logAfter.all(channelId, afterSeq, limit) as Row[])
      .map((r) => ({ seq: r.seq as number, entry: r.entry as Uint8Array })),
    getChannel: (id) => { const r = q.channelById.get(id) as Row | undefined; return r ? toChannel(r) : null; },
    updateChannel: (id, fields) => {
      db.transaction(() => {
        if (fields.name) q.setName.run(fields.name, id);
        if (fields.topic) q.setTopic.run(fields.topic, id);
      })();
    },
    listChannelsFor: (accountId, all = false) => ((all ? q.allChannelsFor : q.channelsFor).all(accountId) as Row[])
      .map((r) => ({ ...toChannel(r), role: (r.member_role as ChannelRole | null) ?? null })),
    getMember: (channelId, accountId) => {
      const r = q.member.get(channelId, accountId) as Row | undefined;
      return r ? { accountId: r.account_id as string, role: r.role as ChannelRole } : null;
    },
    listMembers: (channelId) => (q.members.all(channelId) as Row[])
      .map((r): ChannelMember => ({ accountId: r.account_id as string, role: r.role as ChannelRole })),
    setMember: (channelId, accountId, role) => { q.setMember.run(channelId, accountId, role); },
    addMembers: (channelId, accountIds, role) => {
      db.transaction(() => { for (const accountId of accountIds) q.setMember.run(channelId, accountId, role); })();
    },
    removeMember: (channelId, accountId) => { q.removeMember.run(channelId, accountId); },
    createBlob: (blob, quota) => createBlob(blob, quota),
    getBlob: (id) => { const r = q.blobById.get(id) as Row | undefined; return r ? toBlob(r) : null; },
    setBlobUploaded: (id, uploaded) => { q.setUploaded.run(uploaded, id); },
    deleteBlob: (id) => { q.deleteBlob.run(id); },
    expiredBlobs: (now) => q.expiredBlobs.all(now) as string[],
    getPolicy: () => {
      const r = q.getPolicy.get() as Row | undefined;
      return r ? { version: r.version as number, document: { data: bytes(r.data), signature: bytes(r.signature) } } : null;
    },
    putPolicy: (p: OrgPolicyRecord) => q.putPolicy.run(p.version, p.document.data, p.document.signature).changes === 1,
    audit: (e) => { q.audit.run(e.at, e.actor, e.action, e.target, e.detail); },
    listAudit: (afterSeq, limit) => (q.listAudit.all(afterSeq, limit) as Row[]).map((r): AuditEntry => ({
      seq: r.seq as number, at: r.at as number, actor: r.actor as string, action: r.action as string,
      target: (r.target as string | null) ?? null, detail: (r.detail as string | null) ?? null,
    })),
  };
}
