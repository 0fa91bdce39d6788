// The messages commands: send, history, edit, delete, react, mark read, search.
import { fromBase64Url } from '../../crypto/sodium.ts';
import type { PayloadContent } from '../../protocol/wire.ts';
import type { Handlers } from '../../api/dispatch.ts';
import { ftsQuery } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { storedConversationId } from '../outbound/fanout.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { deleteStatement, editStatement, historyPage, insertMessageStatements, reactionStatement, searchViews } from '../history.ts';
import { mentionsIn } from '../inbound/payloads.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { ExpiryScheduler } from './expiry.ts';
import { threadPage } from './threads.ts';
import { emitUpdated } from './views.ts';
import { burnOnReadStatement, receiptTargetsQuery } from './read.ts';

type MessageHandlers = Pick<Handlers, 'messages.send' | 'messages.list' | 'messages.thread' | 'messages.edit' | 'messages.delete' | 'messages.react' | 'messages.markRead' | 'messages.search'>;

export function messageHandlers(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound, expiry: ExpiryScheduler): MessageHandlers {
  /** A message of our own, for edits and deletes: only its sender may change it. */
  const ownMessage = async (id: string) => {
    const found = await routing.messageTarget(id);
    if (found.sender !== ctx.username) throw new EngineError('FORBIDDEN', 'you can only change your own messages');
    return found;
  };

  return {
    'messages.send': async ({ conversation, text, replyTo, timers, quote }) => {
      const to = await routing.fromCaller(conversation);
      const now = ctx.now();
      const payloadTimers = timers && (timers.expiresInSeconds || timers.burnAfterReadSeconds)
        ? { expiresAt: timers.expiresInSeconds ? now + timers.expiresInSeconds * 1000 : null, burnAfterReadSeconds: timers.burnAfterReadSeconds ?? null }
        : null;
      const content: PayloadContent = replyTo ? { kind: 'reply', target: fromBase64Url(replyTo), body: text, ...(quote ? { quote: true } : {}) } : { kind: 'text', body: text };
      const messageId = await outbound.sendPayload(to, content, payloadTimers, (id, into, at) => insertMessageStatements({
        messageId: id, conversationId: into, sender: ctx.username, senderDevice: ctx.deviceId, sentAt: at, receivedAt: at, body: text,
        expiresAt: payloadTimers?.expiresAt ?? null, burnSeconds: payloadTimers?.burnAfterReadSeconds ?? null, replyTo: replyTo ?? null,
        quote: quote === true, mentions: mentionsIn(text), outgoing: true, status: 'pending',
      }));
      if (payloadTimers?.expiresAt) expiry.noteDeadline(payloadTimers.expiresAt);
      const sent = await outbound.settleSend(messageId);
      if (sent.threadRoot) await emitUpdated(ctx, [sent.threadRoot]); // its count of replies
      return sent;
    },
    'messages.list': async ({ conversation, before, after, around, limit }) => {
      const to = await routing.fromCaller(conversation);
      const anchor = before ? { before } : after ? { after } : around ? { around } : { newest: true as const };
      return historyPage(ctx.vault, storedConversationId(to), anchor, limit, ctx.now());
    },
    'messages.thread': ({ root, limit }) => threadPage(ctx.vault, root, limit, ctx.now()),
    'messages.edit': async ({ id, text }) => {
      const { conversation, target } = await ownMessage(id);
      await outbound.sendPayload(target, { kind: 'edit', target: fromBase64Url(id), body: text }, null, (_x, _c, at) => [editStatement(conversation, ctx.username, id, text, at)]);
      await emitUpdated(ctx, [id]);
      outbound.flushSoon();
      return {};
    },
    'messages.delete': async ({ id }) => {
      const { conversation, target } = await ownMessage(id);
      await outbound.sendPayload(target, { kind: 'delete', target: fromBase64Url(id) }, null, () => [deleteStatement(conversation, ctx.username, id)]);
      ctx.emit('message.removed', { id, conversation, reason: 'deleted' });
      await outbound.flushBounded();
      return {};
    },
    'messages.react': async ({ id, emoji, remove }) => {
      const { conversation, target } = await routing.messageTarget(id);
      await outbound.sendPayload(target, { kind: 'reaction', target: fromBase64Url(id), emoji, remove }, null, () => [reactionStatement(conversation, ctx.username, id, emoji, remove)]);
      await emitUpdated(ctx, [id]);
      outbound.flushSoon();
      return {};
    },
    'messages.markRead': async ({ conversation: requested, upTo }) => {
      const to = await routing.fromCaller(requested);
      const conversation = storedConversationId(to);
      const now = ctx.now();
      await ctx.vault.transaction([
        { sql: 'UPDATE conversations SET unread = 0, mentions = 0 WHERE id = ?', params: [conversation] },
        burnOnReadStatement(conversation, now),
      ]);
      await expiry.rearm();
      if (to.kind !== 'direct' || !ctx.profile.receipts) return {};
      // only a direct conversation's receipts name messages: a channel's read never looks them up
      const { sql, params } = receiptTargetsQuery(conversation, upTo);
      const unread = await ctx.vault.all<{ message_id: string }>(sql, params);
      if (unread.length) {
        await ctx.lane.run(() => outbound.queueControl(to.username, { kind: 'receipt', receipt: 'read', targets: unread.map((u) => fromBase64Url(u.message_id)) }));
        outbound.flushSoon();
      }
      return {};
    },
    'messages.search': async ({ query, limit }) => {
      const match = ftsQuery(query);
      return { messages: match ? await searchViews(ctx.vault, match, limit, ctx.now()) : [] };
    },
  };
}
