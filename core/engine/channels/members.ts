// The relay's view of our channels: who is in each (and their role), cached until a notice says it changed, and
// the local conversation rows kept in step with the relay's channel list (names and topics as metadata.ts opens them).
import type { ConversationViewT } from '../../api/contract.ts';
import type { ServerNotice } from '../../relay/frames.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { channelRows, conversationRows, conversationView, upsertChannelStatement } from '../history.ts';
import { channelConversationId } from '../conversations/ref.ts';
import { RelayError } from '../relay-http.ts';
import type { ChannelMetadata } from './metadata.ts';
import { rotationFlagStatement } from './rotation.ts';

/** How long resolving a name waits for the connection, then for the queue, when a key may be in it. */
const CATCH_UP_MS = 5_000;

export interface ChannelInfo {
  channelId: string;
  name: string;
  members: Map<string, string>; // accountId -> role
}

export class ChannelDirectory {
  readonly #ctx: EngineContext;
  readonly #metadata: ChannelMetadata;
  readonly #channels = new Map<string, ChannelInfo>();
  readonly #fetches = new Map<string, Promise<ChannelInfo | null>>();

  constructor(ctx: EngineContext, metadata: ChannelMetadata) {
    this.#ctx = ctx;
    this.#metadata = metadata;
  }

  /** The relay's view of a channel (members and roles); cached until a notice says it changed. */
  channel(channelId: string, refresh = false): Promise<ChannelInfo | null> {
    const cached = this.#channels.get(channelId);
    if (cached && !refresh) return Promise.resolve(cached);
    // one fetch at a time per channel: a backlog's first batch asks for the same channel hundreds of times
    const inFlight = this.#fetches.get(channelId);
    if (inFlight && !refresh) return inFlight;
    const fetched = this.#fetch(channelId, cached).finally(() => this.#fetches.delete(channelId));
    this.#fetches.set(channelId, fetched);
    return fetched;
  }

  /** Drops what we know of a channel's members: the next use asks the relay again. */
  forget(channelId: string): void {
    this.#channels.delete(channelId);
  }

  async #fetch(channelId: string, cached: ChannelInfo | undefined): Promise<ChannelInfo | null> {
    let members;
    try {
      members = await this.#ctx.http.channelMembers(channelId);
    } catch (error) {
      if (error instanceof RelayError && error.status === 404) {
        this.#channels.delete(channelId);
        return null;
      }
      throw error;
    }
    const name = cached?.name ?? (await this.#ctx.vault.get<{ name: string }>('SELECT name FROM conversations WHERE id = ?', [channelConversationId(channelId)]))?.name ?? channelId;
    const info = { channelId, name, members: new Map(members.map((m) => [m.accountId, m.role])) };
    this.#channels.set(channelId, info);
    return info;
  }

  /** Member lists are needed to accept the first channel message: fetched while the socket connects. */
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

  async onNotice(notice: ServerNotice): Promise<void> {
    this.#channels.delete(notice.channel);
    await this.sync();
    const view = await this.view(notice.channel);
    if (view) this.#ctx.emit('conversation.updated', view);
  }

  async view(channelId: string): Promise<ConversationViewT | undefined> {
    const row = (await conversationRows(this.#ctx.vault, 'id = ?', [channelConversationId(channelId)]))[0];
    return row ? conversationView(this.#ctx.vault, row, await this.memberNames(channelId), this.#ctx.now()) : undefined;
  }

  async memberNames(channelId: string): Promise<string[]> {
    const channel = await this.channel(channelId).catch(() => null);
    if (!channel) return [];
    const names: string[] = [];
    for (const accountId of channel.members.keys()) names.push(await this.#ctx.directory.usernameOf(accountId).catch(() => accountId));
    return names.filter((n) => /^[a-z0-9][a-z0-9._-]{1,31}$/.test(n)).sort();
  }

  /** The channel's members by username with their roles, owners first, then admins, then by name. */
  async membersWithRoles(channelId: string): Promise<{ username: string; role: 'owner' | 'admin' | 'member' }[]> {
    const channel = await this.channel(channelId);
    if (!channel) throw new EngineError('NOT_FOUND', 'the relay no longer has this channel');
    const rank = { owner: 0, admin: 1, member: 2 } as const;
    type Role = keyof typeof rank;
    const members = await Promise.all([...channel.members].map(async ([accountId, role]) => ({
      username: await this.#ctx.directory.usernameOf(accountId).catch(() => accountId),
      role: (role === 'owner' || role === 'admin' ? role : 'member') as Role,
    })));
    return members.filter((m) => /^[a-z0-9][a-z0-9._-]{1,31}$/.test(m.username))
      .sort((a, b) => rank[a.role] - rank[b.role] || a.username.localeCompare(b.username));
  }

  /** Whether the relay lists this person in the channel (a channel message is accepted only from members). */
  async isMember(channelId: string, username: string, refresh = false): Promise<boolean> {
    const channel = await this.channel(channelId, refresh);
    return channel !== null && channel.members.has(await this.#ctx.directory.accountIdOf(username));
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

  /** The members' account ids, as the relay lists them (who); their devices come from verified device lists. */
  async memberAccounts(channelId: string): Promise<string[]> {
    const channel = await this.channel(channelId);
    if (!channel) throw new EngineError('NOT_FOUND', 'no such channel');
    return [...channel.members.keys()];
  }
}
