// Conversations as the contract shows them: the row, its members (a channel's from the relay's list, a group's
// fixed at creation, a direct conversation's the two people) and its newest message.
import type { ConversationViewT } from '../../api/contract.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import { conversationRows, conversationView } from '../history.ts';
import { refOf } from './ref.ts';
import type { ConversationRouter } from './routing.ts';

/** `archive`: the retention archive, listed in direct and group conversations (channels list it as the relay does). */
export async function conversationViews(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter, where?: string, params?: string[], archive: string | null = null): Promise<ConversationViewT[]> {
  const rows = await conversationRows(ctx.vault, where, params);
  const now = ctx.now();
  return Promise.all(rows.map(async (r) => {
    const ref = refOf(r.id);
    const members = ref.kind === 'channel' ? await channels.memberNames(ref.channelId)
      : ref.kind === 'group' ? (await routing.groupMembers(ref.groupId)) ?? [] : [...new Set([ctx.username, ref.username])].sort();
    return conversationView(ctx.vault, r, ref.kind !== 'channel' && archive !== null ? [...new Set([...members, archive])].sort() : members, now);
  }));
}
