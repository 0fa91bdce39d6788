// Our channels: who is in each (and their role) as its members' signed log says (membership-log.ts), and the local
// conversation rows kept in step with the relay's channel list (names and topics as metadata.ts opens them).
import type { ConversationViewT } from '../../api/contract.ts';
import type { ServerNotice } from '../../relay/frames.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { channelRows, conversationRows, conversationView, upsertChannelStatement } from '../history.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ChannelRole } from '../../protocol/membership.ts';
import type { ChannelMetadata } from './metadata.ts';
import { MembershipLogs } from './membership-log.ts';
import { MembershipSync } from './membership-sync.ts';
import { rotationFlagStatement } from './rotation.ts';

/** How long resolving a name waits for the connection, then for the queue, when a key may be in it. */
const CATCH_UP_MS = 5_000;

export interface ChannelInfo {
  channelId: string;
  /** username -> role, as the channel's signed membership log says */
  members: ReadonlyMap<string, ChannelRole>;
}

export class ChannelDirectory {
  readonly #ctx: EngineContext;
  readonly #metadata: ChannelMetadata;
  readonly logs: MembershipLogs;
  /** whether the log this device holds is the one members' messages vouch for (the relay may withhold or fork it) */
  readonly heads: MembershipSync;

  constructor(ctx: EngineContext, metadata: ChannelMetadata) {
    this.#ctx = ctx;
    this.#metadata = metadata;
    this.logs = new MembershipLogs(ctx, () => this.sync());
    this.heads = new MembershipSync(ctx, this.logs);
  }

  /** Who is in a channel, as its verified log says (null: no log this device could check); `refresh` reads newer entries. */
  async channel(channelId: string, refresh = false): Promise<ChannelInfo | null> {
    const state = await this.logs.state(channelId, refresh);
    return state ? { channelId, members: state.members } : null;
  }

  /** Member lists are needed to accept the first channel message: read (and brought up to date) while the socket connects. */
  async warm(): Promise<void> {
    const rows = await conversationRows(this.#ctx.vault, "kind = 'channel' AND member = 1");
    await Promise.all(rows.map((r) => this.channel(r.remote_id)));
  }

  /**
   * Brings the local channel rows in line with the relay's list: new channels appear, ones we left are marked (and
   * their metadata keys dropped), names and topics change only to what the channel's members sealed.
   */
  async sync(): Promise<void> {
    const channels = (await this.#ctx.http.listChannels()).filter((c) => c.role !== null);
    const [stored, keys] = await Promise.all([channelRows(this.#ctx.vault), this.#metadata.keys()]);
    const statements = channels.map((c) => upsertChannelStatement(this.#metadata.reconcile(c, stored.get(c.channelId), keys.get(c.channelId) ?? [])));
    const current = new Set(channels.map((c) => c.channelId));
    for (const row of stored.values()) {
      if (row.member && !current.has(row.remoteId)) {
        statements.push({ sql: 'UPDATE conversations SET member = 0, role = NULL WHERE id = ?', params: [row.id] }, this.#metadata.forgetStatement(row.remoteId));
      }
    }
    if (statements.length) await this.#ctx.vault.transaction(statements);
  }

  /** Channel keys arrived: names and topics sealed under them can be shown now. */
  async keysArrived(channelIds: string[]): Promise<void> {
    await this.sync();
    for (const channelId of channelIds) {
      const view = await this.view(channelId);
      if (view) this.#ctx.emit('conversation.updated', view);
    }
  }

  /** The relay says a channel changed: its list and its log are read again (the notice itself proves nothing). */
  async onNotice(notice: ServerNotice): Promise<void> {
    await this.sync();
    await this.logs.state(notice.channel, true).catch((error: unknown) => this.#ctx.problem(error as Error));
    const view = await this.view(notice.channel);
    if (view) this.#ctx.emit('conversation.updated', view);
  }

  async view(channelId: string): Promise<ConversationViewT | undefined> {
    const row = (await conversationRows(this.#ctx.vault, 'id = ?', [channelConversationId(channelId)]))[0];
    return row ? conversationView(this.#ctx.vault, row, await this.memberNames(channelId), this.#ctx.now()) : undefined;
  }

  async memberNames(channelId: string): Promise<string[]> {
    const channel = await this.channel(channelId).catch(() => null);
    return channel ? [...channel.members.keys()].sort() : [];
  }

  /** The channel's members by username with their roles (as its verified log says), owners first, then admins, then by name. */
  async membersWithRoles(channelId: string): Promise<{ username: string; role: ChannelRole }[]> {
    const channel = await this.channel(channelId);
    if (!channel) throw new EngineError('NOT_FOUND', 'this device has not verified who is in that channel');
    const rank = { owner: 0, admin: 1, member: 2 } as const;
    return [...channel.members].map(([username, role]) => ({ username, role }))
      .sort((a, b) => rank[a.role] - rank[b.role] || a.username.localeCompare(b.username));
  }

  /** Whether the channel's verified log lists this person (a channel message is accepted only from members). */
  async isMember(channelId: string, username: string, refresh = false): Promise<boolean> {
    const channel = await this.channel(channelId, refresh);
    return channel !== null && channel.members.has(username);
  }

  /**
   * When anyone loses a device (or their key changes), our channels rotate their sender keys at the next send:
   * cheaper than working out which channels that person shares with us, and rotation is cheap.
   */
  async rotateAll(): Promise<void> {
    const rows = await conversationRows(this.#ctx.vault, "kind = 'channel' AND member = 1");
    if (rows.length) await this.#ctx.vault.transaction(rows.map((r) => rotationFlagStatement(r.remote_id)));
  }

  async byName(name: string): Promise<string> {
    const find = async () => (await conversationRows(this.#ctx.vault, "kind = 'channel' AND name = ?", [name]))[0];
    let row = await find();
    if (!row) {
      await this.sync();
      row = await find();
    }
    if (!row && (await this.#ctx.vault.get("SELECT 1 AS x FROM conversations WHERE kind = 'channel' AND member = 1 AND name_set_at IS NULL"))) {
      // a channel whose name is sealed under a key not received yet: it may be in the queue the relay holds for us
      await this.#caughtUp();
      await this.sync();
      row = await find();
    }
    if (!row || !row.member) throw new EngineError('NOT_FOUND', `you are not in a channel named #${name}`);
    return row.remote_id;
  }

  /** Waits (bounded) until what the relay held for us when we connected is committed. */
  async #caughtUp(): Promise<void> {
    const { socket, lane } = this.#ctx;
    await socket.waitOnline(CATCH_UP_MS).then(() => socket.drained(CATCH_UP_MS)).catch(() => {});
    await lane.run(async () => {});
    await lane.settled();
  }

  /**
   * The members, as the channel's verified log lists them (who); their devices come from verified device lists. A
   * channel whose log does not list this account is one the relay says we are in, not one we were let into.
   */
  async memberUsernames(channelId: string): Promise<string[]> {
    const channel = await this.channel(channelId);
    if (!channel) throw new EngineError('NOT_FOUND', 'no such channel');
    if (!channel.members.has(this.#ctx.username)) throw new EngineError('FORBIDDEN', 'no member of this channel let you in (its signed member list does not name you)');
    return [...channel.members.keys()];
  }
}
