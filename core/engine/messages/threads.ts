// A thread as its side panel shows it: the root message and the replies that hang off it (history.ts files every
// reply under its thread's first message, so one indexed lookup finds them all).
import type { SqlExecutor } from '../../vault/index.ts';
import { EngineError } from '../errors.ts';
import { MESSAGE_COLUMNS, toViews, type MessageRow } from '../history.ts';

export async function threadPage(sql: SqlExecutor, rootId: string, limit: number, now: number) {
  const alive = '(m.expires_at IS NULL OR m.expires_at > ?)';
  const roots = await sql.all<MessageRow & Record<string, never>>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.message_id = ? AND ${alive}`, [rootId, now]);
  if (roots.length === 0) throw new EngineError('NOT_FOUND', 'that message is gone (it may have expired or been deleted)');
  // the newest replies, one past the limit to learn whether older ones remain
  const newest = await sql.all<MessageRow & Record<string, never>>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.thread_root = ? AND m.conversation_id = ? AND ${alive} ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`,
    [rootId, roots[0]!.conversation_id, now, limit + 1]);
  const [root, ...replies] = await toViews(sql, [...roots, ...newest.slice(0, limit).reverse()]);
  return { root: root!, replies, hasOlder: newest.length > limit };
}
