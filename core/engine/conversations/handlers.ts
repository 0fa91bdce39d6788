// The conversations commands: the list a sidebar shows, resolving `#channel` / `@user` sugar to a conversation,
// and typing indicators.
import type { Handlers } from '../../api/dispatch.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { EngineContext } from '../context.ts';
import type { Typing } from '../typing/typing.ts';
import { storedConversationId } from '../outbound/fanout.ts';
import type { ConversationRouter } from './routing.ts';
import { conversationViews } from './views.ts';

type ConversationHandlers = Pick<Handlers, 'conversations.list' | 'conversations.resolve' | 'conversations.typing'>;

/** `archive`: the account that, while retention is on, is a member of every direct and group conversation too. */
export function conversationHandlers(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter, typing: Typing, lastSeq: () => number, archive: () => string | null = () => null): ConversationHandlers {
  return {
    'conversations.list': async () => {
      await channels.sync().catch((error: Error) => ctx.problem(error));
      // the number is taken before reading: an event racing the read is replayed rather than missed
      const seq = lastSeq();
      return { conversations: await conversationViews(ctx, channels, routing, undefined, undefined, archive()), seq };
    },
    'conversations.resolve': async ({ target }) => {
      const resolved = await routing.resolve(target);
      return (await conversationViews(ctx, channels, routing, 'id = ?', [storedConversationId(resolved)], archive()))[0]!;
    },
    'conversations.typing': async ({ conversation, typing: on }) => {
      await typing.send(conversation, on);
      return {};
    },
  };
}
