// Which conversation something belongs to. Inbound: the conversation a decrypted payload may land in, or none when
// its sender has no business there (a relay can route anything anywhere; the payload and the member lists decide).
// Outbound: the conversation a caller names (`#channel`, `@user`, `@ann,ben`, or a ConversationId).
import { toBase64Url } from '../../crypto/sodium.ts';
import { newMessageId } from '../../protocol/processor.ts';
import type { Payload } from '../../protocol/wire.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import type { SendTarget } from '../outbound/fanout.ts';
import { RelayError } from '../relay-http.ts';
import { ensureDirectStatement, ensureGroupStatement } from '../history.ts';
import { channelConversationId, directConversationId, groupConversationId, parseConversationId, refOf } from './ref.ts';

const MAX_GROUP_MEMBERS = 32;

export class ConversationRouter {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;

  constructor(ctx: EngineContext, channels: ChannelDirectory) {
    this.#ctx = ctx;
    this.#channels = channels;
  }

  /** Which conversation a payload belongs to; null when it must be ignored (e.g. a sender outside the channel). */
  async inboundConversation(channelId: string | null, sender: string, payload: Payload): Promise<string | null> {
    const me = this.#ctx.username;
    if (channelId !== null) {
      if (!(await this.#channels.isMember(channelId, sender))) {
        this.#ctx.emit('message.undecryptable', { conversation: channelConversationId(channelId), sender, reason: 'the sender is not a member of this channel' });
        return null;
      }
      return channelConversationId(channelId);
    }
    if (payload.group) {
      const { id, members } = payload.group;
      const stored = await this.groupMembers(toBase64Url(id));
      // a group is fixed at creation: only its members may speak in it, and only to a group that includes us
      if (!(stored ?? members).includes(sender) || !members.includes(me)) {
        this.#ctx.emit('message.undecryptable', { sender, reason: 'a group message from someone outside the group' });
        return null;
      }
      return groupConversationId(toBase64Url(id));
    }
    if (sender === me) return payload.syncTo ? directConversationId(payload.syncTo) : directConversationId(me);
    return directConversationId(sender);
  }

  async groupMembers(groupId: string): Promise<string[] | null> {
    const row = await this.#ctx.vault.get<{ members: string | null }>('SELECT members FROM conversations WHERE id = ?', [groupConversationId(groupId)]);
    return row?.members ? (JSON.parse(row.members) as string[]) : null;
  }

  /** `#channel`, `@user`, or `@ann,ben` (a group direct message with exactly those people and us). */
  async target(target: string): Promise<SendTarget> {
    if (target.startsWith('@')) {
      const others = [...new Set(target.slice(1).split(','))].filter((u) => u !== this.#ctx.username);
      for (const username of others) {
        await this.#ctx.directory.accountIdOf(username).catch((error: unknown) => {
          if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', `no user @${username} in this organisation`);
          throw error;
        });
      }
      if (others.length <= 1) return { kind: 'direct', username: others[0] ?? this.#ctx.username };
      const members = [...others, this.#ctx.username].sort();
      if (members.length > MAX_GROUP_MEMBERS) throw new EngineError('INVALID', `a group direct message has at most ${MAX_GROUP_MEMBERS} people; use a channel`);
      const existing = await this.#ctx.vault.get<{ remote_id: string }>("SELECT remote_id FROM conversations WHERE kind = 'group' AND members = ? ORDER BY coalesce(last_message_at, 0) DESC", [JSON.stringify(members)]);
      return { kind: 'group', groupId: existing?.remote_id ?? toBase64Url(newMessageId()), members };
    }
    return { kind: 'channel', channelId: await this.#channels.byName(target.slice(1)) };
  }

  /**
   * The conversation a caller names: `#channel`, `@user` or `@ann,ben`. A direct or group conversation that does
   * not exist yet is opened (its row is written), so the id it answers with stays the same the next time.
   */
  async resolve(target: string): Promise<SendTarget> {
    const resolved = await this.target(target);
    if (resolved.kind === 'direct') await this.#ctx.vault.transaction([ensureDirectStatement(resolved.username)]);
    if (resolved.kind === 'group') await this.#ctx.vault.transaction([ensureGroupStatement(resolved.groupId, resolved.members, this.#ctx.username)]);
    return resolved;
  }

  /**
   * A ConversationId from a caller, checked: it must be a conversation this device is in (a channel we are a
   * member of, a group we hold, or a direct conversation with someone in the organisation).
   */
  async fromCaller(id: string): Promise<SendTarget> {
    const ref = parseConversationId(id);
    const row = ref ? await this.#ctx.vault.get<{ member: number }>('SELECT member FROM conversations WHERE id = ?', [id]) : undefined;
    if (ref?.kind === 'channel' && row && !row.member) throw new EngineError('FORBIDDEN', 'you are not in this channel any more');
    if (!ref || (ref.kind !== 'direct' && !row?.member)) throw new EngineError('NOT_FOUND', 'no such conversation on this device (conversations.list names them)');
    if (ref.kind === 'direct' && !row) return this.target(`@${ref.username}`);
    return this.targetOfStored(id);
  }

  /** The channel a caller's ConversationId names (channel commands take only those). */
  async channelFromCaller(id: string): Promise<string> {
    const target = await this.fromCaller(id);
    if (target.kind !== 'channel') throw new EngineError('INVALID', 'that conversation is not a channel');
    return target.channelId;
  }

  /** The send target of a conversation this device holds (a group's members come from its row). */
  async targetOfStored(conversation: string): Promise<SendTarget> {
    const ref = refOf(conversation);
    if (ref.kind !== 'group') return ref;
    const members = await this.groupMembers(ref.groupId);
    if (!members) throw new EngineError('NOT_FOUND', 'no such conversation');
    return { kind: 'group', groupId: ref.groupId, members };
  }

  /** A message this device holds, with the conversation it is in (to edit, delete or react to it). */
  async messageTarget(id: string): Promise<{ conversation: string; target: SendTarget; sender: string }> {
    const row = await this.#ctx.vault.get<{ conversation_id: string; sender_id: string }>('SELECT conversation_id, sender_id FROM messages WHERE message_id = ?', [id]);
    if (!row) throw new EngineError('NOT_FOUND', 'no such message');
    return { conversation: row.conversation_id, target: await this.targetOfStored(row.conversation_id), sender: row.sender_id };
  }
}
