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
import { channelConversationId, directConversationId, groupConversationId, refOf } from './ref.ts';

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
