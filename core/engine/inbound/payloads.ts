// What a decrypted payload does to the local record: the statements to commit with its ratchet step, and the
// follow-ups to run after the commit (answers, events). Pure apart from reading the payload: the engine decides
// which conversation a message belongs to before calling here.
import { MAX_TIMER_SECONDS, MIN_TIMER_SECONDS } from '../../api/durations.ts';
import { toBase64Url } from '../../crypto/sodium.ts';
import type { DeviceAddress, Payload } from '../../protocol/wire.ts';
import type { Statement } from '../../vault/index.ts';
import { refOf } from '../conversations/ref.ts';
import { deviceNameStatement } from '../devices/names.ts';
import { safeFileName } from '../files/names.ts';
import { insertFilesStatements } from '../files/store.ts';
import type { PolicyDocument } from '../policy/document.ts';
import { burnStatement, clampNoticeStatement, timerStatements } from '../timers/conversation-timers.ts';
import { timersForReceived } from '../timers/deadlines.ts';
import { flagThreadMentionsStatement } from '../messages/thread-mentions.ts';
import { conversationActivityStatement, deleteStatement, editStatement, insertMessageStatement, reactionStatement, statusStatement } from '../history.ts';
import { storedPreview } from '../previews/view.ts';

export interface Origin {
  conversationId: string;
  sender: string;
  senderDevice: string;
  /** the sender is this account (a copy from one of its other devices) */
  own: boolean;
  /** this account's username (mentions of it are counted) */
  me: string;
  receivedAt: number;
  /** when the relay took the envelope (its own clock): deadlines never start later than this */
  relayReceivedAt: number;
  /** the trusted present (timers/clock.ts): a message whose deadline is past it is never stored */
  now: number;
  policy: PolicyDocument;
}

export type Effect =
  | { kind: 'received'; messageId: string; conversationId: string; sentAt: number; outgoing: boolean; mentionsMe: boolean }
  | { kind: 'updated'; messageId: string }
  | { kind: 'notice'; messageId: string }
  | { kind: 'timer-set'; conversationId: string }
  | { kind: 'deadline'; messageIds: string[] }
  | { kind: 'removed'; messageId: string; conversationId: string }
  | { kind: 'status'; messageIds: string[] }
  | { kind: 'sender-key-request'; requester: DeviceAddress; channelId: string; keyId: number }
  | { kind: 'sender-key-arrived'; channelId: string }
  | { kind: 'channel-key-request'; requester: DeviceAddress; channelId: string; keyId: number }
  | { kind: 'channel-keys-arrived'; channelId: string }
  | { kind: 'delivered-receipt'; messageId: string }
  | { kind: 'profile'; username: string; displayName: string }
  | { kind: 'org-key'; seed: Uint8Array };

const MAX_MENTIONS = 50;
/** Thumbnails a UI may show as an image (anything else, say text/html, is dropped on arrival). */
const THUMBNAIL_TYPES = new Set(['image/webp', 'image/png', 'image/jpeg']);

/** @username mentions in the text, in order, without repeats. */
export function mentionsIn(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:^|[^\w@])@([a-z0-9][a-z0-9._-]{1,31})/g)) {
    found.add(match[1]!.replace(/[._-]+$/, ''));
    if (found.size >= MAX_MENTIONS) break;
  }
  return [...found];
}

export function applyPayload(payload: Payload, origin: Origin): { statements: Statement[]; effects: Effect[] } {
  const id = toBase64Url(payload.id);
  const { conversationId, sender } = origin;
  switch (payload.kind) {
    case 'text':
    case 'reply':
      return storeMessage(payload, origin, payload.body, payload.kind === 'reply' ? toBase64Url(payload.target) : null, payload.kind === 'reply' && payload.quote === true, []);
    case 'file': {
      if (payload.files.length === 0) return { statements: [], effects: [] };
      // what a sender chose is shown: a name that is only a name, a thumbnail only as an image of real size
      const files = payload.files.map((f) => ({ ...f, name: safeFileName(f.name), thumbnail: f.thumbnail && THUMBNAIL_TYPES.has(f.thumbnail.mime) && f.thumbnail.width > 0 && f.thumbnail.height > 0 ? f.thumbnail : null }));
      const replyTo = payload.replyTo ? toBase64Url(payload.replyTo) : null;
      return storeMessage(payload, origin, payload.caption ?? '', replyTo, replyTo !== null && payload.quote === true, insertFilesStatements(id, conversationId, sender, files, origin.own));
    }
    case 'timer': {
      const valid = (n: number | null) => (n === null || (n >= MIN_TIMER_SECONDS && n <= MAX_TIMER_SECONDS) ? n : null);
      const at = Math.min(payload.sentAt, origin.relayReceivedAt);
      return {
        statements: timerStatements(conversationId, sender, { expireSeconds: valid(payload.expireSeconds), burnSeconds: valid(payload.burnSeconds) }, at, id),
        effects: [{ kind: 'notice', messageId: id }, { kind: 'timer-set', conversationId }],
      };
    }
    case 'burn': {
      const targets = payload.targets.map(toBase64Url);
      return { statements: [burnStatement(conversationId, targets, Math.min(payload.sentAt, origin.relayReceivedAt), sender)], effects: [{ kind: 'deadline', messageIds: targets }] };
    }
    case 'edit':
      return { statements: [editStatement(conversationId, sender, toBase64Url(payload.target), payload.body, payload.sentAt)], effects: [{ kind: 'updated', messageId: toBase64Url(payload.target) }] };
    case 'delete':
      return { statements: [deleteStatement(conversationId, sender, toBase64Url(payload.target))], effects: [{ kind: 'removed', messageId: toBase64Url(payload.target), conversationId }] };
    case 'reaction':
      return { statements: [reactionStatement(conversationId, sender, toBase64Url(payload.target), payload.emoji, payload.remove)], effects: [{ kind: 'updated', messageId: toBase64Url(payload.target) }] };
    case 'receipt': {
      if (origin.own) return { statements: [], effects: [] };
      const targets = payload.targets.map(toBase64Url);
      return { statements: [statusStatement(targets, payload.receipt, conversationId)], effects: [{ kind: 'status', messageIds: targets }] };
    }
    case 'sender-key':
      return { statements: [], effects: [{ kind: 'sender-key-arrived', channelId: payload.distribution.channelId }] };
    case 'sender-key-request':
      return { statements: [], effects: [{ kind: 'sender-key-request', requester: { userId: sender, deviceId: origin.senderDevice }, channelId: payload.channelId, keyId: payload.keyId }] };
    case 'channel-key-request':
      return { statements: [], effects: [{ kind: 'channel-key-request', requester: { userId: sender, deviceId: origin.senderDevice }, channelId: payload.channelId, keyId: payload.keyId }] };
    case 'channel-key': // its keys are kept only from a member (channels/key-sharing.ts, asked by receive.ts before this)
      return { statements: [], effects: [] };
    case 'profile':
      if (origin.own) return { statements: payload.deviceName !== null ? [deviceNameStatement(origin.senderDevice, payload.deviceName)] : [], effects: [] };
      return { statements: [], effects: [{ kind: 'profile', username: sender, displayName: payload.displayName }] };
    case 'org-key': // only from this account's own devices: anyone else's is dropped unread
      return { statements: [], effects: origin.own ? [{ kind: 'org-key', seed: payload.seed }] : [] };
    case 'typing': // typing travels only as a live signal (typing/typing.ts); a stored one is dropped
    case 'session-reset':
    case 'call':
      // session resets are handled by the protocol layer; calls arrive with their own issue
      return { statements: [], effects: [] };
  }
}

/**
 * A message with text (and maybe files) stored as it arrived, counted as unread unless it is our own; its deadline
 * as the policy here allows (a message already past it is not stored at all).
 */
function storeMessage(payload: Payload, origin: Origin, body: string, replyTo: string | null, quote: boolean, extra: Statement[]): { statements: Statement[]; effects: Effect[] } {
  const id = toBase64Url(payload.id);
  const { conversationId, sender } = origin;
  const timers = timersForReceived(payload.timers ? { sentAt: payload.sentAt, ...payload.timers } : null, origin.relayReceivedAt, origin.policy);
  // a device that comes back after the deadline never shows it, not even until the next sweep
  if (timers.expiresAt !== null && timers.expiresAt <= origin.now) return { statements: [], effects: [] };
  const mentions = mentionsIn(body);
  const statement = insertMessageStatement({
    messageId: id, conversationId, sender, senderDevice: origin.senderDevice, sentAt: payload.sentAt, receivedAt: origin.receivedAt,
    body, expiresAt: timers.expiresAt, burnSeconds: timers.burnSeconds, clamped: timers.clamped,
    replyTo, quote, mentions, outgoing: origin.own, status: 'sent',
    preview: 'preview' in payload && payload.preview ? storedPreview(payload.preview, body) : null,
  });
  const clampNotice = timers.clamped ? [clampNoticeStatement(conversationId, origin.policy, origin.receivedAt, origin.me)] : [];
  const effects: Effect[] = [{ kind: 'received', messageId: id, conversationId, sentAt: payload.sentAt, outgoing: origin.own, mentionsMe: !origin.own && mentions.includes(origin.me) }];
  if (!origin.own && refOf(conversationId).kind === 'direct') effects.push({ kind: 'delivered-receipt', messageId: id });
  effects.push(...clampNotice.map((n) => ({ kind: 'notice' as const, messageId: n.noticeId })));
  return { statements: [statement, ...extra, ...clampNotice], effects };
}

/** One activity update per conversation for the messages a batch stored: latest time, what may count as unread. */
export function activityStatements(effects: readonly Effect[]): Statement[] {
  const byConversation = new Map<string, { lastAt: number; arrived: string[]; mentioned: string[] }>();
  for (const e of effects) {
    if (e.kind !== 'received') continue;
    const c = byConversation.get(e.conversationId) ?? { lastAt: 0, arrived: [], mentioned: [] };
    c.lastAt = Math.max(c.lastAt, e.sentAt);
    if (!e.outgoing) c.arrived.push(e.messageId);
    if (e.mentionsMe) c.mentioned.push(e.messageId);
    byConversation.set(e.conversationId, c);
  }
  return [...byConversation].flatMap(([id, c]) => [
    conversationActivityStatement(id, c.lastAt, c.arrived, c.mentioned.length),
    ...(c.mentioned.length ? [flagThreadMentionsStatement(id, c.mentioned)] : []),
  ]);
}
