// The messages commands: send, history, edit, delete, react, mark read, search.
import { fromBase64Url } from '../../crypto/sodium.ts';
import type { Payload, PayloadContent } from '../../protocol/wire.ts';
import type { Handlers } from '../../api/dispatch.ts';
import { ftsQuery } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { storedConversationId } from '../outbound/fanout.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { deleteStatement, editStatement, historyPage, insertMessageStatements, reactionStatement, searchViews } from '../history.ts';
import { mentionsIn } from '../inbound/payloads.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { LinkPreviews } from '../previews/link-previews.ts';
import type { ExpiryScheduler } from './expiry.ts';
import { emitUpdated } from './views.ts';

/** The request's timers as the payload carries them: absolute expiry from now, burn seconds as given. */
export function payloadTimersOf(timers: { expiresInSeconds?: number | undefined; burnAfterReadSeconds?: number | undefined } | undefined, now: number): Payload['timers'] {
  return timers && (timers.expiresInSeconds || timers.burnAfterReadSeconds)
    ? { expiresAt: timers.expiresInSeconds ? now + timers.expiresInSeconds * 1000 : null, burnAfterReadSeconds: timers.burnAfterReadSeconds ?? null }
    : null;
}

type MessageHandlers = Pick<Handlers, 'messages.send' | 'messages.list' | 'messages.edit' | 'messages.delete' | 'messages.react' | 'messages.markRead' | 'messages.search'>;

export function messageHandlers(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound, expiry: ExpiryScheduler, previews: LinkPreviews): MessageHandlers {
  /** A message of our own, for edits and deletes: only its sender may change it. */
  const ownMessage = async (id: string) => {
    const found = await routing.messageTarget(id);
    if (found.sender !== ctx.username) throw new EngineError('FORBIDDEN', 'you can only change your own messages');
    return found;
  };

  return {
    // files go through files/files.ts, which hands text-only sends back here
    'messages.send': async ({ conversation, text, replyTo, timers, linkPreview }) => {
      if (text === undefined) throw new EngineError('INVALID', 'the message is empty');
      const to = await routing.fromCaller(conversation);
      const preview = await previews.forOutgoing(text, linkPreview);
      const payloadTimers = payloadTimersOf(timers, ctx.now());
      const withPreview = preview ? { preview: preview.payload } : {};
      const content: PayloadContent = replyTo ? { kind: 'reply', target: fromBase64Url(replyTo), body: text, ...withPreview } : { kind: 'text', body: text, ...withPreview };
      const messageId = await outbound.sendPayload(to, content, payloadTimers, (id, into, at) => insertMessageStatements({
        messageId: id, conversationId: into, sender: ctx.username, senderDevice: ctx.deviceId, sentAt: at, receivedAt: at, body: text,
        expiresAt: payloadTimers?.expiresAt ?? null, burnSeconds: payloadTimers?.burnAfterReadSeconds ?? null, replyTo: replyTo ?? null,
        mentions: mentionsIn(text), outgoing: true, status: 'pending', preview: preview?.stored ?? null,
      }));
      if (payloadTimers?.expiresAt) expiry.noteDeadline(payloadTimers.expiresAt);
      return outbound.settleSend(messageId);
    },
    'messages.list': async ({ conversation, before, after, around, limit }) => {
      const to = await routing.fromCaller(conversation);
      const anchor = before ? { before } : after ? { after } : around ? { around } : { newest: true as const };
      return historyPage(ctx.vault, storedConversationId(to), anchor, limit, ctx.now());
    },
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
      const unread = await ctx.vault.all<{ message_id: string }>(
        `SELECT message_id FROM messages WHERE conversation_id = ? AND outgoing = 0 AND id <= (SELECT id FROM messages WHERE message_id = ?) ORDER BY id DESC LIMIT 200`, [conversation, upTo]);
      const now = ctx.now();
      // burn-on-read starts at first read and never outlives the sender's expiry
      await ctx.vault.transaction([
        { sql: 'UPDATE conversations SET unread = 0, mentions = 0 WHERE id = ?', params: [conversation] },
        { sql: `UPDATE messages SET expires_at = min(coalesce(expires_at, ? + burn_seconds * 1000), ? + burn_seconds * 1000)
                WHERE conversation_id = ? AND burn_seconds IS NOT NULL AND outgoing = 0`, params: [now, now, conversation] },
      ]);
      await expiry.rearm();
      if (to.kind === 'direct' && ctx.profile.receipts && unread.length) {
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
