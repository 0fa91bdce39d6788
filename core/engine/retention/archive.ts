// The compliance archive's side: an ordinary account that the org policy names as its archive keeps every message,
// edit, deletion, reaction and attachment it receives as an event of its own (archive_events), beside what the
// engine shows: nothing there expires, burns or is overwritten, and its export is hash-chained and signed.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { sign, toBase64Url } from '../../crypto/sodium.ts';
import type { MembershipEntry } from '../../protocol/membership.ts';
import type { Payload } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { ArchiveFiles, noteFilesStatements } from './archive-files.ts';
import { ARCHIVE_FORMAT, endSignedBytes, filesDirOf, GENESIS, keyFingerprint, lineDigest } from './chain.ts';

/**
 * What the archive keeps a row for: what a person wrote or did to a message, and a change of a conversation's timer
 * (announced to its members); control traffic is not a record. Membership and retention changes, which members see
 * as notices, are recorded by recordMembership and recordRetention.
 */
const RECORDED = { text: 'message', reply: 'message', edit: 'edit', delete: 'delete', reaction: 'reaction', file: 'attachment', timer: 'timer' } as const;
type RecordedKind = keyof typeof RECORDED;
const EXPORT_PAGE = 500;

interface EventRow {
  seq: number;
  kind: string;
  conversation: string;
  members: string | null;
  message_id: string;
  target: string | null;
  sender: string;
  sender_device: string;
  sent_at: number;
  relay_at: number;
  received_at: number;
  body: string | null;
  attachment: string | null;
  expires_at: number | null;
  burn_seconds: number | null;
  detail: string | null;
}

const INSERT_EVENT = `INSERT OR IGNORE INTO archive_events (kind, conversation, members, message_id, target, sender, sender_device, sent_at, relay_at, received_at, body, attachment, expires_at, burn_seconds, detail)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const iso = (ms: number) => new Date(ms).toISOString();

export class Archive {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #archiving: () => boolean;
  /** The files it was sent, fetched and kept apart from their messages. */
  readonly files: ArchiveFiles;

  /** `archiving`: whether this profile is the org's archive (retention/retention.ts decides). */
  constructor(ctx: EngineContext, channels: ChannelDirectory, archiving: () => boolean) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#archiving = archiving;
    this.files = new ArchiveFiles(ctx);
  }

  /** Whether this account is the org's archive: then every event it receives is recorded. */
  get recording(): boolean {
    return this.#archiving();
  }

  /**
   * The row for one decrypted payload (none for control traffic, or from someone with no business in the
   * conversation). Committed with the batch that decrypted it, so an event is recorded exactly when it is received.
   */
  async record(channelId: string | null, sender: string, senderDevice: string, payload: Payload, relayAt: number): Promise<Statement[]> {
    if (!this.recording || !(payload.kind in RECORDED)) return [];
    const where = await this.#conversationOf(channelId, sender, payload);
    if (!where) return [];
    const p = payload as Extract<Payload, { kind: RecordedKind }>;
    const target = 'target' in p ? toBase64Url(p.target) : null;
    const body = 'body' in p ? p.body : p.kind === 'reaction' ? `${p.remove ? '-' : '+'}${p.emoji}` : p.kind === 'file' ? p.caption : null;
    const attachment = p.kind === 'file' ? JSON.stringify(p.files.map((f) => ({ digest: toBase64Url(f.digest), size: f.size, name: f.name, mime: f.mime }))) : null;
    const detail = p.kind === 'timer' ? JSON.stringify({ expireSeconds: p.expireSeconds, burnSeconds: p.burnSeconds }) : null;
    return [{
      sql: INSERT_EVENT,
      params: [RECORDED[p.kind], where.conversation, where.members ? JSON.stringify(where.members) : null, toBase64Url(p.id), target, sender, senderDevice,
        p.sentAt, relayAt, this.#ctx.now(), body, attachment, p.timers?.expiresAt ?? null, p.timers?.burnAfterReadSeconds ?? null, detail],
    }, ...(p.kind === 'file' ? noteFilesStatements(p.files) : [])];
  }

  /**
   * A change of a channel's signed membership log, as the archive verified it (members see it as a notice). The
   * relay's time of the entry is not known, so relayAt is when the archive read it.
   */
  recordMembership(channelId: string, entry: MembershipEntry): Statement[] {
    if (!this.recording) return [];
    const now = this.#ctx.now();
    const detail = { change: entry.change, people: entry.targets, ...(entry.role ? { role: entry.role } : {}), logSeq: entry.seq };
    return [{
      sql: INSERT_EVENT,
      params: ['membership', `c:${channelId}`, null, `log:${channelId}:${entry.seq}`, null, entry.by.userId, entry.by.deviceId, entry.at, now, now, null, null, null, null, JSON.stringify(detail)],
    }];
  }

  /** Retention turned on or off by the org policy of this version (every member's device announces it too). */
  recordRetention(on: boolean, version: number): Statement[] {
    if (!this.recording) return [];
    const now = this.#ctx.now();
    return [{
      sql: INSERT_EVENT,
      params: ['retention', 'org', null, `policy:${version}`, null, this.#ctx.username, this.#ctx.deviceId, now, now, now, null, null, null, null, JSON.stringify({ on, policyVersion: version })],
    }];
  }

  /** Channel messages only from members; a direct message is between its sender and whom it went to. */
  async #conversationOf(channelId: string | null, sender: string, payload: Payload): Promise<{ conversation: string; members: string[] | null } | null> {
    if (channelId !== null) return (await this.#channels.isMember(channelId, sender)) ? { conversation: `c:${channelId}`, members: null } : null;
    if (payload.group) return payload.group.members.includes(sender) ? { conversation: `g:${toBase64Url(payload.group.id)}`, members: [...payload.group.members].sort() } : null;
    const members = [...new Set([sender, payload.syncTo ?? this.#ctx.username])].sort();
    return { conversation: `d:${members.join(',')}`, members };
  }

  /** How many events the archive holds. */
  async count(): Promise<number> {
    return (await this.#ctx.vault.get<{ n: number }>('SELECT count(*) AS n FROM archive_events'))?.n ?? 0;
  }

  /** The key exports are signed with: the archive account's identity key, which only the device that joined holds. */
  #signingKey() {
    const account = this.#ctx.account;
    if (!account) throw new EngineError('FORBIDDEN', 'exports are signed with the archive account\'s key, which only the device that joined holds: export there');
    return account;
  }

  get fingerprint(): string | null {
    return this.#ctx.account ? keyFingerprint(this.#ctx.account.publicKey) : null;
  }

  /**
   * Writes every event to `out`, and the files they carry into `out`.files beside it (neither may exist yet: an
   * export never overwrites one). Files not fetched yet are fetched first; one the relay no longer holds is named
   * in its record as unavailable, with why.
   */
  async export(out: string): Promise<{ records: number; fingerprint: string; files: number; unavailable: number }> {
    const account = this.#signingKey();
    const exists = (what: string) => new EngineError('INVALID', `${what} exists already: choose a new file (an export never overwrites one)`);
    const taken = (error: NodeJS.ErrnoException, what: string) => (error.code === 'EEXIST' ? exists(what) : new EngineError('INVALID', `cannot write ${what}: ${error.code ?? 'failed'}`));
    const filesDir = filesDirOf(out);
    if (await access(out).then(() => true, () => false)) throw exists(out);
    await mkdir(filesDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      throw taken(error, filesDir);
    });
    await this.files.fetchPending();
    const file = createWriteStream(out, { flags: 'wx', mode: 0o600 });
    // events.once rejects with the stream's error while it waits for 'open'
    await once(file, 'open').catch((error: NodeJS.ErrnoException) => {
      throw taken(error, out);
    });
    const counts = { files: 0, unavailable: 0 };
    const withFiles = async (record: Record<string, unknown>) => {
      if (!Array.isArray(record.attachment)) return record;
      const attachment = [];
      for (const f of record.attachment as { digest: string }[]) {
        const outcome = await this.files.writeInto(filesDir, f.digest);
        counts['file' in outcome ? 'files' : 'unavailable']++;
        attachment.push({ ...f, ...outcome });
      }
      return { ...record, attachment };
    };
    let seq = 0;
    let prev = GENESIS;
    const write = async (record: Record<string, unknown>) => {
      const line = JSON.stringify({ seq: ++seq, prev, ...record });
      prev = lineDigest(line);
      if (!file.write(`${line}\n`)) await once(file, 'drain');
    };
    try {
      await write({ type: 'header', format: ARCHIVE_FORMAT, archive: this.#ctx.username, publicKey: toBase64Url(account.publicKey), exportedAt: iso(this.#ctx.now()) });
      const names = new Map((await this.#ctx.vault.all<{ id: string; name: string }>("SELECT id, name FROM conversations WHERE kind = 'channel'")).map((r) => [r.id, r.name]));
      for (let after = 0; ;) {
        const rows = await this.#ctx.vault.all<EventRow & Record<string, never>>('SELECT * FROM archive_events WHERE seq > ? ORDER BY seq LIMIT ?', [after, EXPORT_PAGE]);
        for (const r of rows) await write(await withFiles(eventRecord(r, names.get(r.conversation) ?? null)));
        if (rows.length < EXPORT_PAGE) break;
        after = rows.at(-1)!.seq;
      }
      const records = seq - 1;
      const end = seq + 1;
      await write({ type: 'end', records, signature: toBase64Url(sign(endSignedBytes(end, records, prev), account.secretKey)) });
      file.end();
      await once(file, 'finish');
      return { records, fingerprint: keyFingerprint(account.publicKey), ...counts };
    } catch (error) {
      file.destroy();
      throw error;
    }
  }
}

function eventRecord(r: EventRow, channelName: string | null): Record<string, unknown> {
  return {
    type: r.kind,
    conversation: r.conversation,
    ...(channelName ? { channel: channelName } : {}),
    ...(r.members ? { members: JSON.parse(r.members) as string[] } : {}),
    id: r.message_id,
    ...(r.target ? { target: r.target } : {}),
    sender: r.sender,
    device: r.sender_device,
    sentAt: iso(r.sent_at),
    relayAt: iso(r.relay_at),
    receivedAt: iso(r.received_at),
    ...(r.body !== null ? { text: r.body } : {}),
    ...(r.attachment ? { attachment: JSON.parse(r.attachment) as unknown } : {}),
    ...(r.expires_at !== null ? { expiresAt: iso(r.expires_at) } : {}),
    ...(r.burn_seconds !== null ? { burnAfterReadSeconds: r.burn_seconds } : {}),
    ...(r.detail !== null ? (JSON.parse(r.detail) as Record<string, unknown>) : {}),
  };
}
