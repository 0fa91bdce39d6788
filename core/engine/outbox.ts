// Outgoing frames, persisted in the vault in the same transaction as the ratchet steps that produced them, and
// sent in order until the relay acknowledges each one. The relay stores a (device, msgId) pair once, so sending
// the same stored bytes again after a crash, a timeout or a lost reply never delivers twice.
import { Decoder, Encoder } from 'cbor-x';
import { toBase64Url } from '../crypto/sodium.ts';
import type { SqlExecutor, Statement } from '../vault/index.ts';
import { RelayError, UntrustedRelayError } from './relay-http.ts';
import type { RelaySocket } from './relay-socket.ts';
import { statusStatement } from './history.ts';

export interface Recipient {
  user: string;
  device: string;
  body: Uint8Array;
}

export type OutgoingFrame =
  | { msgId: Uint8Array; expiresAt: number; channel: string; body: Uint8Array; messageId: string | null }
  | { msgId: Uint8Array; expiresAt: number; channel: null; to: Recipient[]; messageId: string | null };

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
/** Pipelined sends per flush round: the relay commits them in one group and answers in order. */
const WINDOW = 64;
/**
 * Errors that will not go away by retrying the same bytes. Everything else is retried later: the relay out of
 * storage (storage_full), the sender or a recipient over its quota (quota_exceeded: room comes back as devices
 * fetch their queues), an internal error, a network fault.
 */
const PERMANENT = new Set(['too_large', 'not_member', 'unknown_device', 'expired', 'duplicate_recipient', 'bad_frame', 'stale_devices', 'no_such_channel', 'over_policy']);

export function outboxStatement(frame: OutgoingFrame): Statement {
  const payload = frame.channel === null ? { to: frame.to } : { body: frame.body };
  return {
    sql: 'INSERT INTO outbox (msg_id, channel, expires_at, frame, message_id) VALUES (?, ?, ?, ?, ?)',
    params: [frame.msgId, frame.channel, frame.expiresAt, encoder.encode(payload), frame.messageId],
  };
}

interface Row {
  seq: number;
  msg_id: Uint8Array;
  channel: string | null;
  expires_at: number;
  frame: Uint8Array;
  message_id: string | null;
}

export interface OutboxEvents {
  /** A user message's status changed (sent, or failed for good). */
  statusChanged(messageIds: string[]): void;
  /** A send was refused because recipients are no longer active devices: refresh their users' device lists. */
  staleRecipients(users: string[]): Promise<void>;
  /** The recipients still on their users' verified device lists. */
  stillListed(to: Recipient[]): Recipient[];
  problem(error: Error): void;
}

/** After a transient refusal (the relay out of storage, an internal error) the outbox retries on its own. */
export interface OutboxRetry {
  firstMs: number;
  maxMs: number;
}

const DEFAULT_RETRY: OutboxRetry = { firstMs: 2000, maxMs: 60_000 };

export class Outbox {
  readonly #sql: SqlExecutor;
  readonly #socket: RelaySocket;
  readonly #events: OutboxEvents;
  readonly #retry: OutboxRetry;
  #running: Promise<void> | null = null;
  #again = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelayMs: number;
  #stopped = false;
  #sent = 0;

  constructor(sql: SqlExecutor, socket: RelaySocket, events: OutboxEvents, retry: OutboxRetry = DEFAULT_RETRY) {
    this.#sql = sql;
    this.#socket = socket;
    this.#events = events;
    this.#retry = retry;
    this.#retryDelayMs = retry.firstMs;
  }

  /** No more retries (the engine is closing); a flush already running finishes. */
  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /**
   * Frames the relay has accepted since this outbox started. A count, not a difference of queue lengths: sends
   * queued while a flush runs would make "queued before minus queued after" negative.
   */
  get sent(): number {
    return this.#sent;
  }

  /** Sends everything queued; resolves when the queue is empty or the relay is unreachable (a later flush retries). */
  flush(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        const rows = await this.#sql.all<Row & Record<string, never>>('SELECT seq, msg_id, channel, expires_at, frame, message_id FROM outbox ORDER BY seq LIMIT ?', [WINDOW]);
        if (rows.length === 0) break;
        const results = await Promise.allSettled(rows.map((row) => this.#send(row)));
        const done: Row[] = [];
        const failed: Row[] = [];
        let transient = false;
        let untrusted = false;
        for (const [i, result] of results.entries()) {
          if (result.status === 'fulfilled') done.push(rows[i]!);
          else if (result.reason instanceof RelayError && PERMANENT.has(result.reason.code)) {
            if (result.reason.code === 'stale_devices') await this.#dropStale(rows[i]!);
            else failed.push(rows[i]!);
          } else if (result.reason instanceof UntrustedRelayError) untrusted = true;
          else transient = true;
        }
        await this.#settle(done, 'sent');
        await this.#settle(failed, 'failed');
        // An impostor relay: the frames stay queued (nothing is lost), but no timer knocks on its door again.
        if (untrusted) return;
        if (transient) {
          this.#scheduleRetry();
          return;
        }
      }
    } while (this.#again);
    this.#retryDelayMs = this.#retry.firstMs; // drained: the next trouble starts the backoff afresh
  }

  /**
   * Without this, frames the relay refused for a while (out of storage, say) would wait for the next send or
   * reconnect. Offline, reconnecting flushes anyway and a retry just fails fast. Doubling delays with jitter, so a
   * relay that is full is not hammered by every client at once.
   */
  #scheduleRetry(): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = this.#retryDelayMs * (0.75 + Math.random() * 0.5);
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, this.#retry.maxMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#stopped) void this.flush().catch((error: Error) => this.#events.problem(error));
    }, delay);
    this.#retryTimer.unref();
  }

  #send(row: Row): Promise<unknown> {
    const payload = decoder.decode(row.frame) as { to?: Recipient[]; body?: Uint8Array };
    if (row.channel !== null) return this.#socket.channelSend(row.msg_id, row.expires_at, row.channel, payload.body!);
    return this.#socket.send(row.msg_id, row.expires_at, payload.to!.map(({ device, body }) => ({ device, body })));
  }

  async #settle(rows: Row[], status: 'sent' | 'failed'): Promise<void> {
    if (rows.length === 0) return;
    const messageIds = rows.flatMap((r) => (r.message_id ? [r.message_id] : []));
    if (status === 'failed') for (const row of rows) this.#events.problem(new Error(`the relay refused message ${toBase64Url(row.msg_id)} for good`));
    await this.#sql.transaction([
      { sql: 'DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))', params: [JSON.stringify(rows.map((r) => r.seq))] },
      ...(messageIds.length ? [statusStatement(messageIds, status)] : []),
    ]);
    if (status === 'sent') this.#sent += rows.length;
    if (messageIds.length) this.#events.statusChanged(messageIds);
  }

  /**
   * Some recipients are no longer active devices (revoked, or the account suspended). The same bytes still go to
   * the others: each recipient's copy is encrypted separately, so dropping some changes nothing for the rest.
   */
  async #dropStale(row: Row): Promise<void> {
    const payload = decoder.decode(row.frame) as { to: Recipient[] };
    await this.#events.staleRecipients([...new Set(payload.to.map((r) => r.user))]);
    const keep = this.#events.stillListed(payload.to);
    if (keep.length === payload.to.length || keep.length === 0) {
      await this.#settle([row], 'failed');
      return;
    }
    await this.#sql.run('UPDATE outbox SET frame = ? WHERE seq = ?', [encoder.encode({ to: keep }), row.seq]);
  }
}
