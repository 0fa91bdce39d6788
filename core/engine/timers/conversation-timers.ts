// A conversation's default timers, set by any member and sent to the conversation as an encrypted `timer` payload:
// every member's devices (and the setter's own) store it and show "ann set messages to disappear after 1 day" in
// place. The newest setting wins (by its sending time), so devices that hear of two changes in either order agree.
import { formatDuration } from '../../api/durations.ts';
import { sha256, toBase64Url, utf8 } from '../../crypto/sodium.ts';
import type { SqlExecutor, Statement } from '../../vault/index.ts';
import type { PolicyDocument } from '../policy/document.ts';
import type { ConversationTimer } from './deadlines.ts';

export async function conversationTimer(sql: SqlExecutor, conversationId: string): Promise<ConversationTimer | null> {
  const row = await sql.get<{ expire_seconds: number | null; burn_seconds: number | null }>(
    'SELECT expire_seconds, burn_seconds FROM conversation_timers WHERE conversation_id = ?', [conversationId]);
  return row ? { expireSeconds: row.expire_seconds, burnSeconds: row.burn_seconds } : null;
}

/** What the announcement says, in the conversation's history. */
export function timerNoticeText(setBy: string, timer: ConversationTimer): string {
  const parts = [
    timer.expireSeconds !== null ? `disappear after ${formatDuration(timer.expireSeconds)}` : null,
    timer.burnSeconds !== null ? `burn ${formatDuration(timer.burnSeconds)} after reading` : null,
  ].filter(Boolean);
  return parts.length ? `${setBy} set messages to ${parts.join(' and ')}` : `${setBy} turned disappearing messages off`;
}

/** Stores the setting if it is newer than the one held, and its announcement as a notice (not unread). */
export function timerStatements(conversationId: string, setBy: string, timer: ConversationTimer, at: number, noticeId: string): Statement[] {
  return [
    {
      sql: `INSERT INTO conversation_timers (conversation_id, expire_seconds, burn_seconds, set_by, set_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (conversation_id) DO UPDATE SET expire_seconds = excluded.expire_seconds, burn_seconds = excluded.burn_seconds,
              set_by = excluded.set_by, set_at = excluded.set_at WHERE excluded.set_at >= conversation_timers.set_at`,
      params: [conversationId, timer.expireSeconds, timer.burnSeconds, setBy, at],
    },
    {
      sql: `INSERT OR IGNORE INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body, mentions, outgoing, status, notice)
            SELECT ?, ?, ?, ?, ?, ?, '[]', 0, 'sent', 'timer-changed' WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
      params: [noticeId, conversationId, setBy, at, at, timerNoticeText(setBy, timer), conversationId],
    },
  ];
}

/** A first display on this device, or a `burn` from another: burn-on-read starts at `at` for these messages. */
export function burnStatement(conversationId: string, messageIds: readonly string[], at: number, notSentBy: string): Statement {
  return {
    // the earliest display anywhere wins: a later or repeated one never moves the deadline
    sql: `UPDATE messages SET burn_started_at = min(coalesce(burn_started_at, ?), ?),
            expires_at = min(coalesce(expires_at, ? + burn_seconds * 1000), ? + burn_seconds * 1000)
          WHERE conversation_id = ? AND burn_seconds IS NOT NULL AND sender_id != ? AND message_id IN (SELECT value FROM json_each(?))`,
    params: [at, at, at, at, conversationId, notSentBy, JSON.stringify(messageIds)],
  };
}

/**
 * Said once per conversation and policy version, the first time the policy shortens a message there: the view's
 * clampedByPolicy marks each message, this says why.
 */
export function clampNoticeStatement(conversationId: string, policy: PolicyDocument, at: number, me: string): Statement & { noticeId: string } {
  const limits = [
    policy.maxExpireSeconds !== undefined ? `messages disappear after at most ${formatDuration(policy.maxExpireSeconds)}` : null,
    policy.maxBurnSeconds !== undefined ? `burn at most ${formatDuration(policy.maxBurnSeconds)} after reading` : null,
    policy.maxExpireSeconds === undefined && policy.defaultExpireSeconds !== undefined ? `messages without a timer disappear after ${formatDuration(policy.defaultExpireSeconds)}` : null,
  ].filter(Boolean);
  const id = toBase64Url(sha256(utf8(`policy-clamped:${policy.version}:${conversationId}`))).slice(0, 22);
  return {
    noticeId: id,
    sql: `INSERT OR IGNORE INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body, mentions, outgoing, status, notice)
          SELECT ?, ?, ?, ?, ?, ?, '[]', 0, 'sent', 'policy-clamped' WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
    params: [id, conversationId, me, at, at, `The organisation's policy shortens timers here: ${limits.join('; ')}`, conversationId],
  };
}
