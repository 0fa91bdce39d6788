// The messages commands: send, history, edit, delete, react, mark read, search.
import { fromBase64Url } from '../../crypto/sodium.ts';
import type { Payload, PayloadContent } from '../../protocol/wire.ts';
import type { Handlers } from '../../api/dispatch.ts';
import { ftsQuery } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { storedConversationId } from '../outbound/fanout.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { deleteStatement, editStatement, historyPage, insertMessageStatements, messageViews, reactionStatement, searchViews } from '../history.ts';
import { mentionsIn } from '../inbound/payloads.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { LinkPreviews } from '../previews/link-previews.ts';
import { burnStatement, clampNoticeStatement, conversationTimer } from '../timers/conversation-timers.ts';
import { timersForSend, type SendTimers } from '../timers/deadlines.ts';
import type { ExpiryScheduler } from './expiry.ts';
import { threadPage } from './threads.ts';
import { emitUpdated } from './views.ts';
import { burnsToStartQuery, receiptTargetsQuery } from './read.ts';
import { listReadStatement, mentionsQuery, threadReadStatements } from './thread-mentions.ts';

/**
 * A send's timers: the message's own, else the conversation's, else the policy's; capped by the policy. The payload
 * states its deadline on the same clock as its sending time, so its life is exactly expireSeconds. Shared with
 * sends with files (files/files.ts).
 */
export async function sendTimersFor(ctx: EngineContext, to: Parameters<typeof storedConversationId>[0], asked: Parameters<typeof timersForSend>[0]):
  Promise<SendTimers & { payloadTimers: (now: number) => Payload['timers'] }> {
  const resolved = timersForSend(asked, await conversationTimer(ctx.vault, storedConversationId(to)), ctx.policy);
  const { expireSeconds, burnSeconds } = resolved;
  const payloadTimers = (now: number) => (expireSeconds !== null || burnSeconds !== null
    ? { expiresAt: expireSeconds !== null ? now + expireSeconds * 1000 : null, burnAfterReadSeconds: burnSeconds }
    : null);
  return { ...resolved, payloadTimers };
}

type MessageHandlers = Pick<Handlers, 'messages.send' | 'messages.list' | 'messages.thread' | 'messages.edit' | 'messages.delete' | 'messages.react' | 'messages.markRead' | 'messages.search'>;

export function messageHandlers(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound, expiry: ExpiryScheduler, previews: LinkPreviews): MessageHandlers {
  /** A message of our own, for edits and deletes: only its sender may change it. */
  const ownMessage = async (id: string) => {
    const found = await routing.messageTarget(id);
    if (found.sender !== ctx.username) throw new EngineError('FORBIDDEN', 'you can only change your own messages');
    return found;
  };

  return {
    // files go through files/files.ts, which hands text-only sends back here
    'messages.send': async ({ conversation, text, replyTo, timers, quote, linkPreview }) => {
      if (text === undefined) throw new EngineError('INVALID', 'the message is empty');
      const to = await routing.fromCaller(conversation);
      const { expireSeconds, burnSeconds, clamped, payloadTimers } = await sendTimersFor(ctx, to, timers);
      const preview = await previews.forOutgoing(text, linkPreview);
      const withPreview = preview ? { preview: preview.payload } : {};
      let expiresAt: number | null = null;
      let notice: string | null = null;
      const content: PayloadContent = replyTo
        ? { kind: 'reply', target: fromBase64Url(replyTo), body: text, ...(quote ? { quote: true } : {}), ...withPreview }
        : { kind: 'text', body: text, ...withPreview };
      const messageId = await outbound.sendPayload(to, content, payloadTimers, (id, into, at) => {
        expiresAt = expireSeconds !== null ? ctx.clock.trusted(at) + expireSeconds * 1000 : null;
        const clampNotice = clamped ? clampNoticeStatement(into, ctx.policy, at, ctx.username) : null;
        notice = clampNotice?.noticeId ?? null;
        return [...insertMessageStatements({
          messageId: id, conversationId: into, sender: ctx.username, senderDevice: ctx.deviceId, sentAt: at, receivedAt: at, body: text,
          expiresAt, burnSeconds, clamped, replyTo: replyTo ?? null, quote: quote === true, mentions: mentionsIn(text), outgoing: true, status: 'pending',
          preview: preview?.stored ?? null,
        }), ...(clampNotice ? [clampNotice] : [])];
      });
      if (expiresAt !== null) expiry.noteDeadline(expiresAt);
      if (notice) for (const view of await messageViews(ctx.vault, [notice])) ctx.emit('message.received', view);
      const sent = await outbound.settleSend(messageId);
      if (sent.threadRoot) await emitUpdated(ctx, [sent.threadRoot]); // its count of replies
      return sent;
    },
    'messages.list': async ({ conversation, before, after, around, limit }) => {
      const to = await routing.fromCaller(conversation);
      const anchor = before ? { before } : after ? { after } : around ? { around } : { newest: true as const };
      return historyPage(ctx.vault, storedConversationId(to), anchor, limit, ctx.clock.now());
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
    'messages.markRead': async ({ conversation: requested, upTo, thread }) => {
      const to = await routing.fromCaller(requested);
      const conversation = storedConversationId(to);
      const left = mentionsQuery(conversation);
      const mentionsLeft = async () => ({ mentions: (await ctx.vault.get<{ mentions: number }>(left.sql, left.params))?.mentions ?? 0 });
      // a thread panel's read: its mentions only (its replies' burn clocks and receipts go with the list's reads)
      if (thread) {
        await ctx.vault.transaction(threadReadStatements(conversation, thread, upTo));
        return mentionsLeft();
      }
      // burn-on-read starts at the first display (what is read up to upTo was displayed), never past the expiry,
      // and every other device of every participant is told so, to start it too
      const now = ctx.clock.now();
      const burns = burnsToStartQuery(conversation, upTo);
      const displayed = (await ctx.vault.all<{ message_id: string }>(burns.sql, burns.params)).map((r) => r.message_id);
      await ctx.vault.transaction([
        listReadStatement(conversation),
        ...(displayed.length ? [burnStatement(conversation, displayed, now, ctx.username)] : []),
      ]);
      await expiry.rearm();
      if (displayed.length) {
        await emitUpdated(ctx, displayed);
        await outbound.sendPayload(to, { kind: 'burn', targets: displayed.map(fromBase64Url) }, null, () => []);
        outbound.flushSoon();
      }
      if (to.kind !== 'direct' || !ctx.profile.receipts) return mentionsLeft();
      // only a direct conversation's receipts name messages: a channel's read never looks them up
      const { sql, params } = receiptTargetsQuery(conversation, upTo);
      const unread = await ctx.vault.all<{ message_id: string }>(sql, params);
      if (unread.length) {
        await ctx.lane.run(() => outbound.queueControl(to.username, { kind: 'receipt', receipt: 'read', targets: unread.map((u) => fromBase64Url(u.message_id)) }));
        outbound.flushSoon();
      }
      return mentionsLeft();
    },
    'messages.search': async ({ query, limit }) => {
      const match = ftsQuery(query);
      return { messages: match ? await searchViews(ctx.vault, match, limit, ctx.clock.now()) : [] };
    },
  };
}
