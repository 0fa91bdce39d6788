// What a relay can still do to a signed membership log is withhold entries: hide a removal from some members (who
// then keep handing their sender key to the person removed) or show members different histories (a fork). Group
// protocols catch this by putting the group's version in every message (MLS epochs, Signal's group revision); here
// every channel payload carries, inside its encryption, where its sender's log stood (wire.ts `membership`).
//
// A receiver whose log is behind a member's vouched head reads the log before believing anything else; if the
// relay still does not serve entries that chain up to that head, the channel is out of sync (`behind`). A head at a
// position this device already holds with another digest, or an entry the relay serves that contradicts a
// member's vouched head, is the relay equivocating (`fork`): no entry is applied from then on except by reading the
// whole log again from its first entry and finding it consistent with every head members vouched for. Either way
// the user is told (an event and a notice in the channel) and sends to the channel are held, so no key, old or new,
// is used for a membership this device knows is stale; they go out once the log is consistent again.
//
// A sender behind us is nothing alarming: it is merely behind, and our own messages carry our head to it. Only the
// heads of members count (as the log this device verified says), so a reader the relay made up cannot raise an
// alarm; a member who lies about its head is named in the warning, and for `behind` an owner can remove it.
import { constantTimeEqual, fromBase64Url, fromUtf8, sha256, toBase64Url, utf8 } from '../../crypto/sodium.ts';
import type { MembershipState } from '../../protocol/membership.ts';
import type { MembershipHead } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import { messageViews } from '../history.ts';
import type { HeadWitness, MembershipLogs } from './membership-log.ts';
import { rotationFlagStatement } from './rotation.ts';

export interface SyncProblem {
  kind: 'behind' | 'fork';
  /** the position of the head in question, and the member whose device vouched for it */
  seq: number;
  by: string;
}

interface Vouch {
  seq: number;
  head: Uint8Array;
  /** the log this device verified (or the relay served) has another entry at this position */
  conflict: boolean;
}

/** A head an entry reached while the log was read: what vouches are checked against. */
export interface PassedHead {
  seq: number;
  head: Uint8Array;
}

const vouchesKey = (channelId: string) => `e:membership-vouches:${channelId}`;
/** Non-members' heads remembered as followed (beyond this the memory starts again: at worst one more log read each). */
const FOLLOWED_MAX = 1_000;

export class MembershipSync implements HeadWitness {
  readonly #ctx: EngineContext;
  readonly #logs: MembershipLogs;
  /** channel -> member -> the newest head that member's devices vouched for and this device has not reached */
  readonly #vouches = new Map<string, Map<string, Vouch>>();
  /** the problem last announced per channel (null: in sync) */
  readonly #announced = new Map<string, SyncProblem | null>();
  /** heads from people not (yet) known as members that were followed once: a non-member gets one read, not one per message */
  readonly #followed = new Set<string>();
  #inSync: (channelId: string) => void = () => {};

  constructor(ctx: EngineContext, logs: MembershipLogs) {
    this.#ctx = ctx;
    this.#logs = logs;
    logs.witnessWith(this);
  }

  /** Called when a channel's log is consistent again (held sends can go out). */
  whenInSync(listener: (channelId: string) => void): void {
    this.#inSync = listener;
  }

  /**
   * A member's device vouched for where the log stands, inside a channel message. Called before the message is
   * routed: a head ahead of ours is read up to first (it may be what let the sender in). In the lane.
   */
  async vouched(channelId: string, sender: string, head: MembershipHead): Promise<void> {
    let state = await this.#logs.state(channelId);
    if (!state || head.seq < state.seq) return; // the sender is behind: our next message carries our head to it
    if (head.seq === state.seq && constantTimeEqual(head.head, state.head)) return; // the same log: the usual case
    const vouches = await this.load(channelId);
    const known = vouches.get(sender);
    if (known && (known.seq > head.seq || (known.seq === head.seq && constantTimeEqual(known.head, head.head)))) return; // heard already
    if (!state.members.has(sender)) {
      // perhaps added in an entry this device has not read yet: read once while our log stands where it does,
      // and count the head only if that made the sender a member
      const followed = `${channelId}:${sender}:${state.seq}`;
      if (head.seq === state.seq || this.#followed.has(followed)) return;
      if (this.#followed.size >= FOLLOWED_MAX) this.#followed.clear();
      this.#followed.add(followed);
      state = await this.#logs.state(channelId, true);
      if (!state?.members.has(sender) || head.seq < state.seq) return;
    }
    if (head.seq === state.seq && constantTimeEqual(head.head, state.head)) return;
    // a member once caught on another branch stays so until the whole log is read again and agrees with it
    vouches.set(sender, { seq: head.seq, head: head.head, conflict: (known?.conflict ?? false) || head.seq === state.seq });
    await this.#logs.state(channelId, true).catch((error: Error) => this.#ctx.problem(error));
    const now = await this.#logs.state(channelId);
    if (now) await this.#settle(channelId, now);
  }

  /** Why sends to this channel must wait (null: they need not). */
  async problem(channelId: string): Promise<SyncProblem | null> {
    const state = await this.#logs.state(channelId);
    if (!state) return null;
    await this.load(channelId);
    return this.#problemOf(channelId, state);
  }

  // ------------------------------------------------------------ HeadWitness (membership-log.ts reads through these)

  async load(channelId: string): Promise<Map<string, Vouch>> {
    let vouches = this.#vouches.get(channelId);
    if (vouches) return vouches;
    const row = await this.#ctx.vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', [vouchesKey(channelId)]);
    const stored = row ? (JSON.parse(fromUtf8(row.value)) as [string, number, string, boolean][]) : [];
    vouches = this.#vouches.get(channelId) ?? new Map(stored.map(([member, seq, head, conflict]) => [member, { seq, head: fromBase64Url(head), conflict }]));
    this.#vouches.set(channelId, vouches);
    return vouches;
  }

  contradiction(channelId: string, seq: number, head: Uint8Array): string | null {
    for (const [member, vouch] of this.#vouches.get(channelId) ?? []) {
      if (vouch.seq === seq && !constantTimeEqual(vouch.head, head)) return member;
    }
    return null;
  }

  forked(channelId: string, state: MembershipState): boolean {
    return this.#problemOf(channelId, state)?.kind === 'fork';
  }

  /**
   * The log was read. `adopted`: it was read again from its first entry and what it served is now the log (so
   * earlier conflicts are forgotten and checked again against it); `passed`: the heads of the entries applied;
   * `contradicted`: the position where the relay served an entry a member's head contradicts.
   */
  async read(channelId: string, state: MembershipState, passed: PassedHead[], contradicted: number | null, adopted: boolean): Promise<void> {
    const vouches = await this.load(channelId);
    if (adopted) for (const vouch of vouches.values()) vouch.conflict = false;
    for (const [member, vouch] of vouches) {
      const reached = passed.find((p) => p.seq === vouch.seq);
      if (reached && constantTimeEqual(reached.head, vouch.head)) vouches.delete(member);
      else if (vouch.seq === contradicted) vouch.conflict = true;
    }
    await this.#settle(channelId, state);
  }

  // ------------------------------------------------------------

  #problemOf(channelId: string, state: MembershipState): SyncProblem | null {
    let found: SyncProblem | null = null;
    for (const [member, vouch] of this.#vouches.get(channelId) ?? []) {
      if (!state.members.has(member)) continue; // no longer (or never) a member: its word counts for nothing
      if (vouch.conflict || (vouch.seq === state.seq && !constantTimeEqual(vouch.head, state.head))) return { kind: 'fork', seq: vouch.seq, by: member };
      if (vouch.seq > state.seq && (!found || vouch.seq > found.seq)) found = { kind: 'behind', seq: vouch.seq, by: member };
    }
    return found;
  }

  /** Drops what the log has caught up with, keeps the rest, and tells the user when the channel's standing changed. */
  async #settle(channelId: string, state: MembershipState): Promise<void> {
    const vouches = this.#vouches.get(channelId) ?? new Map<string, Vouch>();
    // reached, or no longer a member's word (a member removed since): nothing to wait for
    for (const [member, vouch] of vouches) if ((!vouch.conflict && vouch.seq <= state.seq) || !state.members.has(member)) vouches.delete(member);
    const rows = [...vouches].map(([member, v]) => [member, v.seq, toBase64Url(v.head), v.conflict]);
    const statements: Statement[] = [rows.length
      ? { sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [vouchesKey(channelId), utf8(JSON.stringify(rows))] }
      : { sql: 'DELETE FROM kv WHERE key = ?', params: [vouchesKey(channelId)] }];
    const problem = this.#problemOf(channelId, state);
    const before = this.#announced.has(channelId) ? this.#announced.get(channelId)! : null;
    const changed = problem?.kind !== before?.kind || problem?.seq !== before?.seq || problem?.by !== before?.by;
    const warning = changed ? warningOf(channelId, problem ?? before, problem === null, state) : null;
    // a log that was in dispute may have let in or out anyone: the next send rotates the sender key
    if (warning && problem === null) statements.push(rotationFlagStatement(channelId));
    if (warning) statements.push(warning.statement(this.#ctx.now()));
    await this.#ctx.vault.transaction(statements);
    this.#announced.set(channelId, problem);
    if (!warning) return;
    for (const view of await messageViews(this.#ctx.vault, [warning.id])) this.#ctx.emit('message.received', view);
    this.#ctx.emit('channel.membershipWarning', { conversation: channelConversationId(channelId), state: problem?.kind ?? 'resolved', by: warning.by, seq: warning.seq, message: warning.text });
    if (problem === null) this.#inSync(channelId);
  }
}

/** The notice (and event text) for a change in a channel's standing; `resolved`: the problem it had is over. */
function warningOf(channelId: string, problem: SyncProblem | null, resolved: boolean, state: MembershipState) {
  if (!problem) return null;
  const { kind, seq, by } = problem;
  const ours = state.seq;
  const text = resolved
    ? 'The relay now serves this channel\'s membership changes consistently again: messages held here are sent.'
    : kind === 'behind'
      ? `${by}'s device has seen membership change ${seq} of this channel, but the relay serves only up to change ${ours}: it may be withholding a change (someone removed). Your messages here wait until it shows it.`
      : `The relay showed ${by} a different change ${seq} to who is in this channel than it showed this device: it is equivocating. No membership change is accepted, and your messages here wait, until the histories agree.`;
  const conversation = channelConversationId(channelId);
  const id = toBase64Url(sha256(utf8(`membership-warning:${channelId}:${resolved ? 'resolved' : kind}:${seq}:${by}:${ours}:${toBase64Url(state.head)}`))).slice(0, 22);
  return {
    id, text, by, seq,
    statement: (at: number): Statement => ({
      sql: `INSERT OR IGNORE INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body, mentions, outgoing, status, notice)
            SELECT ?, ?, ?, ?, ?, ?, '[]', 0, 'sent', 'membership-warning' WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
      params: [id, conversation, by, at, at, text, conversation],
    }),
  };
}
