// Marking a conversation read: which messages a read receipt names, and starting burn-after-read clocks. Both run
// every time the user reaches the bottom of a conversation, so both must cost the same in a channel of a million
// messages as in one of ten (test/unit/engine/read-queries.test.ts checks their query plans).
import type { Statement } from '../../vault/index.ts';

/** A read receipt names at most this many messages (the newest ones read). */
export const RECEIPT_TARGETS_MAX = 200;

/**
 * The messages others sent at or before `upTo` in history order (the index's (sent_at, id) order, as the user saw
 * them), newest first: the history index is walked backwards from `upTo` and stops after the limit.
 */
export function receiptTargetsQuery(conversationId: string, upTo: string): Statement {
  return {
    sql: `SELECT m.message_id FROM messages m, (SELECT sent_at, id FROM messages WHERE message_id = ? AND conversation_id = ?) AS up
          WHERE m.conversation_id = ? AND (m.sent_at, m.id) <= (up.sent_at, up.id) AND m.outgoing = 0
          ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`,
    params: [upTo, conversationId, conversationId, RECEIPT_TARGETS_MAX],
  };
}

/** Burn-on-read starts at first read and never outlives the sender's expiry (messages_burn finds the few it touches). */
export function burnOnReadStatement(conversationId: string, now: number): Statement {
  return {
    sql: `UPDATE messages SET expires_at = min(coalesce(expires_at, ? + burn_seconds * 1000), ? + burn_seconds * 1000)
          WHERE conversation_id = ? AND burn_seconds IS NOT NULL AND outgoing = 0`,
    params: [now, now, conversationId],
  };
}
