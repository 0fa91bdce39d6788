// Mentions of the user in thread replies: counted in their conversation's `mentions` like any other, but read only
// by reading their thread (messages.markRead with `thread`), as a thread is read in its own panel. Reading the
// conversation's own list clears the rest and leaves these; each reply that is one carries `thread_mention` = 1.
import type { Statement } from '../../vault/index.ts';

/** Of `mentioned` (messages of this batch that name the user), the replies in a thread: flagged as unread mentions. */
export function flagThreadMentionsStatement(conversationId: string, mentioned: readonly string[]): Statement {
  return {
    sql: `UPDATE messages SET thread_mention = 1
          WHERE conversation_id = ? AND thread_root IS NOT NULL AND message_id IN (SELECT value FROM json_each(?))`,
    params: [conversationId, JSON.stringify(mentioned)],
  };
}

/** The conversation's own list read: nothing unread there, and the mentions left are those of unread threads. */
export function listReadStatement(conversationId: string): Statement {
  return {
    sql: `UPDATE conversations SET unread = 0,
            mentions = (SELECT count(*) FROM messages WHERE conversation_id = ? AND thread_mention = 1)
          WHERE id = ?`,
    params: [conversationId, conversationId],
  };
}

/** A thread read up to `upTo` (a reply, or its root): its mentions up to there leave the count; the rest stays. */
export function threadReadStatements(conversationId: string, root: string, upTo: string): Statement[] {
  const these = `conversation_id = ? AND thread_root = ? AND thread_mention = 1
    AND sent_at <= (SELECT sent_at FROM messages WHERE message_id = ? AND conversation_id = ?)`;
  const params = [conversationId, root, upTo, conversationId];
  return [
    { sql: `UPDATE conversations SET mentions = max(0, mentions - (SELECT count(*) FROM messages WHERE ${these})) WHERE id = ?`, params: [...params, conversationId] },
    { sql: `UPDATE messages SET thread_mention = 0 WHERE ${these}`, params },
  ];
}

/** What the conversation still counts as mentions after a read (the answer of messages.markRead). */
export function mentionsQuery(conversationId: string): Statement {
  return { sql: 'SELECT mentions FROM conversations WHERE id = ?', params: [conversationId] };
}
