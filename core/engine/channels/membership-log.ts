// Who is in each channel, as its members' signed log says (core/protocol/membership.ts), never as the relay says.
// This device keeps where each log stands and the roster it built, reads newer entries from the relay when asked
// (a membership notice, a sender it does not know yet), checks every one, and writes a notice in the channel's
// history for each change it saw as a member. Changes it makes are signed here and sent with the request the relay
// applies; the relay answers `stale_log` when another change landed first, and the change is signed again.
//
// An entry is checked against the account key this device holds for its signer, and only while that key is one the
// user accepted: a relay that swaps an owner's key (issue 12, finding 1) gets a held identity, not a member.
import type { MembershipNotice } from '../../api/contract.ts';
import { blake2b, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../../crypto/sodium.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { decodeDeviceCertificate } from '../../protocol/identity.ts';
import {
  applyMembershipEntry, membershipSigners, signMembershipEntry,
  type ChannelRole, type MembershipEntry, type MembershipState, type ProposedChange, type SignedPolicy,
} from '../../protocol/membership.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import { EngineError } from '../errors.ts';
import { messageViews, noticeStatement } from '../history.ts';
import { archiveNamedBy } from '../policy/document.ts';
import { RelayError, relayUnreachable, type LogEntry } from '../relay-http.ts';
import type { PassedHead } from './membership-sync.ts';
import { rotationFlagStatement } from './rotation.ts';

/** The relay's page size for a log (server/routes/messaging.ts): a full page means there may be more. */
const LOG_PAGE = 500;
/** Another member's change may land between our read and our write; after this many, the user hears why. */
const STALE_RETRIES = 3;

const NOTICE_OF: Record<MembershipEntry['change'], MembershipNotice['change']> = {
  create: 'created', add: 'added', remove: 'removed', role: 'role', join: 'joined', leave: 'left',
};

/**
 * The heads members vouched for in their messages (membership-sync.ts): every entry the relay serves is checked
 * against them, and a log that contradicts one is read again from its first entry.
 */
export interface HeadWitness {
  load(channelId: string): Promise<unknown>;
  /** the member whose vouched head at this position is another entry, if any */
  contradiction(channelId: string, seq: number, head: Uint8Array): string | null;
  forked(channelId: string, state: MembershipState): boolean;
  read(channelId: string, state: MembershipState, passed: PassedHead[], contradicted: number | null, adopted: boolean): Promise<void>;
}

/** A fresh channel id (the relay's format: 128 random bits), ours to choose so the first entry can sign it. */
export const newChannelId = (): string => toBase64Url(randomBytes(16));

export class MembershipLogs {
  readonly #ctx: EngineContext;
  /** Brings the channel's conversation row in (a notice needs it): the channel list's sync. */
  readonly #ensureRows: () => Promise<void>;
  readonly #states = new Map<string, MembershipState>();
  readonly #reads = new Map<string, Promise<MembershipState | null>>();
  #witness: HeadWitness | null = null;
  /** What else is committed with each change this device verified (the compliance archive's record of it). */
  #recorder: (channelId: string, entry: MembershipEntry) => Statement[] = () => [];

  constructor(ctx: EngineContext, ensureRows: () => Promise<void>) {
    this.#ctx = ctx;
    this.#ensureRows = ensureRows;
  }

  /**
   * The verified membership of a channel (null: this device has checked no log for it). `refresh` reads what the
   * relay has after the last entry checked; reads of one channel run one after another, so none is lost.
   */
  state(channelId: string, refresh = false): Promise<MembershipState | null> {
    const cached = this.#states.get(channelId);
    const running = this.#reads.get(channelId);
    if (cached && !refresh) return Promise.resolve(cached);
    if (running && !refresh) return running;
    const read = (running ?? Promise.resolve(null)).catch(() => null).then(() => this.#read(channelId, refresh));
    this.#reads.set(channelId, read);
    void read.finally(() => {
      if (this.#reads.get(channelId) === read) this.#reads.delete(channelId);
    }).catch(() => {});
    return read;
  }

  /** What this device verified of the channel's log, without asking the relay (a send carries it, relay down or not). */
  async verified(channelId: string): Promise<MembershipState | null> {
    return this.#states.get(channelId) ?? (await this.#load(channelId));
  }

  witnessWith(witness: HeadWitness): void {
    this.#witness = witness;
  }

  recordWith(recorder: (channelId: string, entry: MembershipEntry) => Statement[]): void {
    this.#recorder = recorder;
  }

  /** The first entry of a new channel, made before the relay knows of it: the creator is its owner. */
  genesis(channelId: string, open: boolean): Uint8Array {
    return signMembershipEntry(this.#ctx.store.device(), channelId, null, { change: 'create', targets: [this.#ctx.username], role: 'owner', open }, this.#ctx.now());
  }

  /**
   * Makes a change: signed after the newest entry, checked here first (the user hears "you may not" from us, not
   * the relay), then sent with `send`. The log is read again afterwards, so the change counts at once.
   */
  async change(channelId: string, proposed: ProposedChange, send: (log: LogEntry) => Promise<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.state(channelId, true);
      if (!state) throw new EngineError('NOT_FOUND', 'this device has not verified who is in that channel yet; try again when it is online');
      if (this.#witness?.forked(channelId, state)) throw new EngineError('HOSTILE_SERVER', 'the relay showed members different histories of who is in this channel: no change is made until they agree');
      const entry = signMembershipEntry(this.#ctx.store.device(), channelId, state, proposed, this.#ctx.now());
      try {
        applyMembershipEntry(state, channelId, entry, (userId) => this.#acceptedKey(userId), this.#archiveNamedBy);
      } catch (error) {
        if (error instanceof ProtocolError && error.code === 'MEMBERSHIP_REFUSED') throw new EngineError('FORBIDDEN', error.message.replace(/^MEMBERSHIP_REFUSED: /, ''));
        throw error;
      }
      try {
        await send({ seq: state.seq + 1, entry });
      } catch (error) {
        if (error instanceof RelayError && error.code === 'stale_log' && attempt < STALE_RETRIES) continue;
        throw error;
      }
      await this.state(channelId, true);
      return;
    }
  }

  /** Whom a cited policy names as the archive, checked under the org key this device pinned (never the relay's word). */
  readonly #archiveNamedBy = (policy: SignedPolicy): string | null => {
    const orgKey = this.#ctx.profile.orgKey;
    return archiveNamedBy(orgKey === null ? null : fromBase64Url(orgKey), policy);
  };

  /** The key an entry's signer must have used: the one we hold, if the user accepted it. */
  #acceptedKey(userId: string): Uint8Array | null {
    const { directory } = this.#ctx;
    if (userId !== this.#ctx.username && directory.identity(userId) !== 'accepted') return null;
    return directory.known(userId)?.accountPublicKey ?? null;
  }

  /**
   * Reads what the relay has after the last entry checked, or, when the relay was caught contradicting a member's
   * vouched head (a fork), the whole log again from its first entry: taken only if nothing in it contradicts one.
   */
  async #read(channelId: string, refresh: boolean): Promise<MembershipState | null> {
    const kept = this.#states.get(channelId) ?? (await this.#load(channelId));
    await this.#witness?.load(channelId);
    const rereading = kept !== null && (this.#witness?.forked(channelId, kept) ?? false);
    const before = rereading ? null : kept;
    let state = before;
    const applied: MembershipEntry[] = [];
    const passed: PassedHead[] = [];
    let contradicted: number | null = null;
    for (;;) {
      let page;
      try {
        page = await this.#ctx.http.channelLog(channelId, state?.seq ?? -1);
      } catch (error) {
        // not a member (any more) or no such channel: what we verified stands; the relay's word changes nothing
        if (error instanceof RelayError && error.status === 404) break;
        // the relay is down: what this device verified stands until it is back (a send is queued, not refused); a
        // refresh asked for explicitly, or a channel never verified here, still says the relay cannot be reached
        if (relayUnreachable(error) && kept !== null && !refresh) return kept;
        throw error;
      }
      const checked = await this.#check(channelId, state, page.map((p) => p.entry));
      state = checked.state;
      applied.push(...checked.applied);
      passed.push(...checked.passed);
      contradicted = checked.contradicted;
      if (checked.stopped || page.length < LOG_PAGE) break;
    }
    if (rereading && (contradicted !== null || !state)) {
      // the relay still serves a history some member's head contradicts: what this device had stands, frozen
      await this.#witness!.read(channelId, kept, [], contradicted, false);
      return kept;
    }
    if (state && (applied.length || rereading)) await this.#store(channelId, before, state, applied, rereading);
    if (state) this.#states.set(channelId, state);
    if (state) await this.#witness?.read(channelId, state, passed, contradicted, rereading);
    return state;
  }

  /**
   * Applies entries in order, stopping at the first that does not verify (nothing after it can be trusted), and
   * before one that contradicts the head a member vouched for at its position (the relay forked the log).
   */
  async #check(channelId: string, start: MembershipState | null, blobs: Uint8Array[]) {
    let state = start;
    const applied: MembershipEntry[] = [];
    const passed: PassedHead[] = [];
    try {
      for (const signer of membershipSigners(blobs)) await this.#ctx.directory.ensure(signer).catch(() => null);
      for (const blob of blobs) {
        const next = applyMembershipEntry(state, channelId, blob, (userId) => this.#acceptedKey(userId), this.#archiveNamedBy);
        const by = this.#witness?.contradiction(channelId, next.state.seq, next.state.head) ?? null;
        if (by !== null) {
          this.#ctx.problem(new EngineError('HOSTILE_SERVER', `the relay served membership change ${next.state.seq} of a channel that ${by}'s device saw otherwise`));
          return { state, applied, passed, stopped: true, contradicted: next.state.seq };
        }
        state = next.state;
        applied.push(next.entry);
        passed.push({ seq: state.seq, head: state.head });
      }
      return { state, applied, passed, stopped: false, contradicted: null };
    } catch (error) {
      const pending = error instanceof ProtocolError && error.code === 'UNKNOWN_DEVICE';
      // a signer whose new key the user has not accepted: checked again after they do; anything else is the relay lying
      this.#ctx.problem(pending ? error : new EngineError('HOSTILE_SERVER', `the relay served a membership change of a channel that does not verify (${(error as Error).message})`));
      return { state, applied, passed, stopped: true, contradicted: null };
    }
  }

  async #load(channelId: string): Promise<MembershipState | null> {
    const { vault } = this.#ctx;
    const row = await vault.get<{ seq: number; head: Uint8Array; open: number }>('SELECT seq, head, open FROM channel_logs WHERE channel_id = ?', [channelId]);
    if (!row) return null;
    const roster = await vault.all<{ username: string; role: ChannelRole }>('SELECT username, role FROM channel_roster WHERE channel_id = ?', [channelId]);
    return { channelId, seq: row.seq, head: row.head, open: row.open === 1, members: new Map(roster.map((r) => [r.username, r.role])) };
  }

  /**
   * Where the log stands, the roster, and a notice for each change this device saw as a member: one transaction.
   * Someone left (or the whole log was read again): our sender key rotates before our next message there, however
   * this device learnt of it (the relay's notice may never come).
   */
  async #store(channelId: string, before: MembershipState | null, after: MembershipState, applied: MembershipEntry[], reread = false): Promise<void> {
    const { vault, username } = this.#ctx;
    const shrank = reread || applied.some((e) => e.change === 'remove' || e.change === 'leave');
    const statements: Statement[] = [
      ...(shrank ? [rotationFlagStatement(channelId)] : []),
      { sql: 'INSERT OR REPLACE INTO channel_logs (channel_id, seq, head, open) VALUES (?, ?, ?, ?)', params: [channelId, after.seq, after.head, after.open ? 1 : 0] },
      { sql: 'DELETE FROM channel_roster WHERE channel_id = ?', params: [channelId] },
      ...[...after.members].map(([member, role]) => ({ sql: 'INSERT INTO channel_roster (channel_id, username, role) VALUES (?, ?, ?)', params: [channelId, member, role] })),
    ];
    // a new member sees the history from the change that let it in, and a linked device from when it was made: not
    // the channel's whole past (by the signer's clock, which is only cosmetic here: membership never depends on it)
    let member = before?.members.has(username) ?? false;
    const since = decodeDeviceCertificate(this.#ctx.store.device().certificate).createdAt;
    const noticeIds: string[] = [];
    for (const entry of applied) {
      statements.push(...this.#recorder(channelId, entry));
      const admitted = entry.targets.includes(username) && (entry.change === 'create' || entry.change === 'add' || entry.change === 'join');
      if ((member || admitted) && entry.at >= since) {
        const id = toBase64Url(blake2b(utf8(`${channelId}:${entry.seq}`), 16));
        const detail: MembershipNotice = { change: NOTICE_OF[entry.change], members: entry.targets, ...(entry.change === 'role' && entry.role ? { role: entry.role } : {}) };
        statements.push(noticeStatement(channelConversationId(channelId), id, entry.by.userId, 'membership', entry.at, detail));
        noticeIds.push(id);
      }
      if (admitted) member = true;
      if (entry.targets.includes(username) && (entry.change === 'remove' || entry.change === 'leave')) member = false;
    }
    if (noticeIds.length && !(await vault.get('SELECT 1 AS x FROM conversations WHERE id = ?', [channelConversationId(channelId)]))) await this.#ensureRows();
    await vault.transaction(statements);
    for (const view of await messageViews(vault, noticeIds)) this.#ctx.emit('message.received', view);
  }
}
