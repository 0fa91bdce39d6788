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

/** A read starts the burn clocks of at most this many messages at once. */
export const BURNS_STARTED_MAX = 500;

/**
 * Messages others sent at or before `upTo` whose burn-after-read clock has not started: the ones this read displays
 * for the first time (messages_burn finds the few that have a burn timer, whatever the conversation's length).
 */
export function burnsToStartQuery(conversationId: string, upTo: string): Statement {
  return {
    sql: `SELECT message_id FROM messages WHERE conversation_id = ? AND outgoing = 0 AND burn_seconds IS NOT NULL AND burn_started_at IS NULL
          AND id <= (SELECT id FROM messages WHERE message_id = ?) LIMIT ?`,
    params: [conversationId, upTo, BURNS_STARTED_MAX],
  };
}
