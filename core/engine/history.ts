// The engine's local record of conversations and messages, as SQL statements (so a message commits in the same
// vault transaction as the ratchet step that decrypted it) and as the views the API returns.
import { LIMITS, type ConversationViewT, type LinkPreviewViewT, type MembershipNotice, type MessageViewT } from '../api/contract.ts';
import type { SqlExecutor, Statement } from '../vault/index.ts';
import { directConversationId, groupConversationId, type ConversationKind } from './conversations/ref.ts';
import { EngineError } from './errors.ts';
import { fileViews } from './files/store.ts';

/**
 * Notices this device writes itself (never sent): a contact's safety number changed; a channel's membership changed
 * (as its signed log says); retention was turned on or off. Timer notices come from the timers feature.
 */
export type LocalNotice = 'identity-changed' | 'membership' | 'retention-on' | 'retention-off';

export type MessageStatus = 'pending' | 'held' | 'sent' | 'delivered' | 'read' | 'failed';


export interface NewMessage {
  messageId: string;
  conversationId: string;
  sender: string;
  senderDevice: string;
  sentAt: number;
  receivedAt: number;
  body: string;
  expiresAt: number | null;
  burnSeconds: number | null;
  /** the org policy shortened its timers (or gave it one) */
  clamped?: boolean;
  replyTo: string | null;
  /** a quoted reply, shown in the conversation itself: it starts no thread and joins none */
  quote?: boolean;
  mentions: string[];
  outgoing: boolean;
  status: MessageStatus;
  /** the link preview as its view (JSON), see core/engine/previews */
  preview?: string | null;
}

/** What this device shows for a channel: the name and topic it verified (and when each was set), and our role. */
export interface ChannelRow {
  id: string;
  remoteId: string;
  name: string;
  topic: string | null;
  /** when the shown name and topic were sealed; null when not verified (an open channel's listed name, a placeholder) */
  nameSetAt: number | null;
  topicSetAt: number | null;
  role: string | null;
}

export function upsertChannelStatement(c: ChannelRow): Statement {
  return {
    sql: `INSERT INTO conversations (id, kind, remote_id, name, topic, role, member, name_set_at, topic_set_at) VALUES (?, 'channel', ?, ?, ?, ?, 1, ?, ?)
          ON CONFLICT (id) DO UPDATE SET name = excluded.name, topic = excluded.topic, role = excluded.role, member = 1,
            name_set_at = excluded.name_set_at, topic_set_at = excluded.topic_set_at`,
    params: [c.id, c.remoteId, c.name, c.topic, c.role, c.nameSetAt, c.topicSetAt],
  };
}

/** The channels this device holds rows for, with what metadata checks need. */
export async function channelRows(sql: SqlExecutor): Promise<Map<string, ChannelRow & { member: boolean }>> {
  const rows = await sql.all<{ id: string; remote_id: string; name: string; topic: string | null; name_set_at: number | null; topic_set_at: number | null; role: string | null; member: number }>(
    "SELECT id, remote_id, name, topic, name_set_at, topic_set_at, role, member FROM conversations WHERE kind = 'channel'");
  return new Map(rows.map((r) => [r.remote_id, {
    id: r.id, remoteId: r.remote_id, name: r.name, topic: r.topic, nameSetAt: r.name_set_at, topicSetAt: r.topic_set_at, role: r.role, member: r.member === 1,
  }]));
}

/** A direct conversation appears the first time a message goes either way; later messages leave it as it is. */
export function ensureDirectStatement(username: string): Statement {
  return {
    sql: `INSERT OR IGNORE INTO conversations (id, kind, remote_id, name) VALUES (?, 'direct', ?, ?)`,
    params: [directConversationId(username), username, username],
  };
}

/** A group direct message: its members are fixed when it is first seen; its name lists the others. */
export function ensureGroupStatement(groupId: string, members: string[], me: string): Statement {
  const sorted = [...new Set(members)].sort();
  return {
    sql: `INSERT OR IGNORE INTO conversations (id, kind, remote_id, name, members) VALUES (?, 'group', ?, ?, ?)`,
    params: [groupConversationId(groupId), groupId, sorted.filter((m) => m !== me).join(', '), JSON.stringify(sorted)],
  };
}

/**
 * Stores a message unless its id is already taken: ids are chosen by senders, so a second message under an id
 * already stored (a replay, or another sender reusing it) is dropped rather than failing the whole batch. Threads
 * hang off their root: a reply to a reply joins the first message's thread.
 */
export function insertMessageStatements(m: NewMessage): Statement[] {
  return [insertMessageStatement(m), conversationActivityStatement(m.conversationId, m.sentAt, m.outgoing ? [] : [m.messageId], 0)];
}

export function insertMessageStatement(m: NewMessage): Statement {
  return {
      sql: `INSERT OR IGNORE INTO messages (message_id, conversation_id, sender_id, sender_device, sent_at, received_at, body, expires_at,
              burn_seconds, reply_to, thread_root, mentions, outgoing, status, clamped, preview)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
              (SELECT coalesce(thread_root, message_id) FROM messages WHERE message_id = ? AND conversation_id = ?), ?, ?, ?, ?, ?)`,
      params: [m.messageId, m.conversationId, m.sender, m.senderDevice, m.sentAt, m.receivedAt, m.body, m.expiresAt, m.burnSeconds, m.replyTo,
        m.quote ? null : m.replyTo, m.conversationId, JSON.stringify(m.mentions), m.outgoing ? 1 : 0, m.status, m.clamped ? 1 : 0, m.preview ?? null],
  };
}

/**
 * New messages in a conversation: its latest time, unread and mention counts (one statement per conversation per
 * batch, after the messages' own rows). Of `arrived`, only those in the conversation's own list count as unread:
 * a reply in a thread is read in its thread panel, so, as Slack does, it does not make the channel unread (its root
 * shows the count of replies); a mention in one does count in `mentions`, which the caller passes.
 */
export function conversationActivityStatement(conversationId: string, lastAt: number, arrived: readonly string[], mentions: number): Statement {
  return {
    sql: `UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), mentions = mentions + ?,
            unread = unread + (SELECT count(*) FROM messages WHERE conversation_id = ? AND thread_root IS NULL AND message_id IN (SELECT value FROM json_each(?)))
          WHERE id = ?`,
    params: [lastAt, mentions, conversationId, JSON.stringify(arrived), conversationId],
  };
}

/** Edits and deletes apply only to the sender's own message in the same conversation. */
export function editStatement(conversationId: string, sender: string, messageId: string, body: string, at: number): Statement {
  return { sql: 'UPDATE messages SET body = ?, edited_at = ? WHERE message_id = ? AND sender_id = ? AND conversation_id = ?', params: [body, at, messageId, sender, conversationId] };
}

export function deleteStatement(conversationId: string, sender: string, messageId: string): Statement {
  return { sql: 'DELETE FROM messages WHERE message_id = ? AND sender_id = ? AND conversation_id = ?', params: [messageId, sender, conversationId] };
}

export function reactionStatement(conversationId: string, user: string, messageId: string, emoji: string, remove: boolean): Statement {
  return remove
    ? { sql: 'DELETE FROM reactions WHERE message_id = ? AND username = ? AND emoji = ?', params: [messageId, user, emoji] }
    : {
      sql: `INSERT OR IGNORE INTO reactions (message_id, username, emoji)
            SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE message_id = ? AND conversation_id = ?)`,
      params: [messageId, user, emoji, messageId, conversationId],
    };
}

const STATUS_ORDER = "CASE status WHEN 'pending' THEN 0 WHEN 'held' THEN 0 WHEN 'failed' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 END";

/** Receipts only move a status forward (a late "delivered" never undoes "read"). */
export function statusStatement(messageIds: readonly string[], status: MessageStatus, conversationId?: string): Statement {
  const rank = { pending: 0, held: 0, failed: 0, sent: 1, delivered: 2, read: 3 }[status];
  return {
    sql: `UPDATE messages SET status = ? WHERE outgoing = 1 AND message_id IN (SELECT value FROM json_each(?))
          ${conversationId ? 'AND conversation_id = ?' : ''} AND (${STATUS_ORDER} < ? OR ? = 'failed')`,
    params: [status, JSON.stringify(messageIds), ...(conversationId ? [conversationId] : []), rank, status],
  };
}

/** How many replies each of these messages' threads holds (only those that have any). */
async function threadReplyCounts(sql: SqlExecutor, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await sql.all<{ thread_root: string; n: number }>(
    'SELECT thread_root, count(*) AS n FROM messages WHERE thread_root IN (SELECT value FROM json_each(?)) GROUP BY thread_root', [JSON.stringify(ids)]);
  return new Map(rows.map((r) => [r.thread_root, r.n]));
}

export interface MessageRow {
  message_id: string;
  conversation_id: string;
  sender_id: string;
  sender_device: string | null;
  sent_at: number;
  body: string;
  edited_at: number | null;
  expires_at: number | null;
  burn_seconds: number | null;
  reply_to: string | null;
  thread_root: string | null;
  mentions: string | null;
  outgoing: number;
  status: MessageStatus;
  notice: NoticeKind | null;
  notice_detail: string | null;
  clamped: number;
  preview: string | null;
}

export type NoticeKind = LocalNotice | 'timer-changed' | 'policy-clamped' | 'membership-warning';

export const MESSAGE_COLUMNS = `m.message_id, m.conversation_id, m.sender_id, m.sender_device, m.sent_at, m.body, m.edited_at, m.expires_at,
  m.burn_seconds, m.reply_to, m.thread_root, m.mentions, m.outgoing, m.status, m.notice, m.notice_detail, m.clamped, m.preview`;

/** Sets a message's status whatever it was (statusStatement only moves it forward): holding and releasing it. */
export function setStatusStatement(messageId: string, status: MessageStatus): Statement {
  return { sql: 'UPDATE messages SET status = ? WHERE message_id = ?', params: [status, messageId] };
}

/** A notice in a conversation's history, written locally (never sent): shown in place, not counted as unread. */
export function noticeStatement(conversationId: string, messageId: string, sender: string, notice: LocalNotice, at: number, detail: MembershipNotice | null = null): Statement {
  return {
    sql: `INSERT OR IGNORE INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body, mentions, outgoing, status, notice, notice_detail)
          SELECT ?, ?, ?, ?, ?, '', '[]', 0, 'sent', ?, ? WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?)`,
    params: [messageId, conversationId, sender, at, at, notice, detail === null ? null : JSON.stringify(detail), conversationId],
  };
}
const iso = (ms: number) => new Date(ms).toISOString();

export async function toViews(sql: SqlExecutor, rows: MessageRow[]): Promise<MessageViewT[]> {
  const reactions = rows.length === 0 ? [] : await sql.all<{ message_id: string; username: string; emoji: string }>(
    'SELECT message_id, username, emoji FROM reactions WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY emoji, username',
    [JSON.stringify(rows.map((r) => r.message_id))]);
  const replies = await threadReplyCounts(sql, rows.filter((r) => r.thread_root === null).map((r) => r.message_id));
  const files = await fileViews(sql, rows.map((r) => r.message_id));
  return rows.map((r) => {
    const byEmoji = new Map<string, string[]>();
    for (const x of reactions) if (x.message_id === r.message_id) byEmoji.set(x.emoji, [...(byEmoji.get(x.emoji) ?? []), x.username]);
    return {
      id: r.message_id,
      conversation: r.conversation_id,
      sender: r.sender_id,
      senderDevice: r.sender_device ?? '',
      text: r.body,
      sentAt: iso(r.sent_at),
      ...(r.edited_at !== null ? { editedAt: iso(r.edited_at) } : {}),
      ...(r.reply_to !== null ? { replyTo: r.reply_to } : {}),
      ...(r.thread_root !== null ? { threadRoot: r.thread_root } : {}),
      ...(replies.has(r.message_id) ? { replyCount: replies.get(r.message_id)! } : {}),
      mentions: r.mentions ? (JSON.parse(r.mentions) as string[]) : [],
      reactions: [...byEmoji].map(([emoji, users]) => ({ emoji, users })),
      ...(r.expires_at !== null ? { expiresAt: iso(r.expires_at) } : {}),
      ...(r.burn_seconds !== null ? { burnAfterReadSeconds: r.burn_seconds } : {}),
      ...(r.clamped ? { clampedByPolicy: true } : {}),
      status: r.status,
      outgoing: r.outgoing === 1,
      ...(r.notice !== null ? { notice: r.notice } : {}),
      ...(r.notice_detail !== null ? { membership: JSON.parse(r.notice_detail) as MembershipNotice } : {}),
      ...(r.preview !== null ? { preview: JSON.parse(r.preview) as LinkPreviewViewT } : {}),
      ...(files.has(r.message_id) ? { files: files.get(r.message_id)! } : {}),
    };
  });
}

export async function messageViews(sql: SqlExecutor, messageIds: readonly string[]): Promise<MessageViewT[]> {
  if (messageIds.length === 0) return [];
  const rows = await sql.all<MessageRow & Record<string, never>>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.message_id IN (SELECT value FROM json_each(?))`, [JSON.stringify(messageIds)]);
  const order = new Map(messageIds.map((id, i) => [id, i]));
  return toViews(sql, rows.sort((a, b) => order.get(a.message_id)! - order.get(b.message_id)!));
}

export type PageAnchor = { before: string } | { after: string } | { around: string } | { newest: true };

export interface HistoryPage {
  /** oldest first */
  messages: MessageViewT[];
  hasOlder: boolean;
  hasNewer: boolean;
}

/**
 * One side of a page: up to `limit` messages strictly older (or newer) than the cursor, nearest first, fetched one
 * past the limit to learn whether more lie that way. (sent_at, id) orders history: the index's own order.
 */
async function side(sql: SqlExecutor, conversationId: string, now: number, cursor: { sent_at: number; id: number } | null, older: boolean, limit: number, inclusive = false) {
  const compare = older ? (inclusive ? '<=' : '<') : (inclusive ? '>=' : '>');
  const order = older ? 'DESC' : 'ASC';
  const rows = await sql.all<MessageRow & Record<string, never>>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ? AND (m.expires_at IS NULL OR m.expires_at > ?)
     ${cursor ? `AND (m.sent_at, m.id) ${compare} (?, ?)` : ''} ORDER BY m.sent_at ${order}, m.id ${order} LIMIT ?`,
    cursor ? [conversationId, now, cursor.sent_at, cursor.id, limit + 1] : [conversationId, now, limit + 1]);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/** A page of history in either direction, oldest first, not counting messages whose time is up (the sweeper removes them). */
export async function historyPage(sql: SqlExecutor, conversationId: string, anchor: PageAnchor, limit: number, now: number): Promise<HistoryPage> {
  const id = 'before' in anchor ? anchor.before : 'after' in anchor ? anchor.after : 'around' in anchor ? anchor.around : null;
  const cursor = id === null ? null : await sql.get<{ sent_at: number; id: number }>('SELECT sent_at, id FROM messages WHERE message_id = ? AND conversation_id = ?', [id, conversationId]);
  if (id !== null && !cursor) throw new EngineError('NOT_FOUND', 'that message is not in this conversation (it may have expired or been deleted)');
  if ('newest' in anchor || 'before' in anchor) {
    const older = await side(sql, conversationId, now, cursor ?? null, true, limit);
    return { messages: await toViews(sql, older.rows.reverse()), hasOlder: older.more, hasNewer: 'before' in anchor };
  }
  if ('after' in anchor) {
    const newer = await side(sql, conversationId, now, cursor!, false, limit);
    return { messages: await toViews(sql, newer.rows), hasOlder: true, hasNewer: newer.more };
  }
  // around: the message itself and about half the page on each side
  const older = await side(sql, conversationId, now, cursor!, true, Math.ceil(limit / 2), true);
  const newer = await side(sql, conversationId, now, cursor!, false, Math.max(0, limit - older.rows.length));
  return { messages: await toViews(sql, [...older.rows.reverse(), ...newer.rows]), hasOlder: older.more, hasNewer: newer.more };
}

/** The newest message of a conversation that is still alive, for the sidebar. */
async function lastMessage(sql: SqlExecutor, conversationId: string, now: number): Promise<ConversationViewT['lastMessage']> {
  const row = await sql.get<{ message_id: string; sender_id: string; body: string; sent_at: number }>(
    `SELECT message_id, sender_id, body, sent_at FROM messages WHERE conversation_id = ? AND (expires_at IS NULL OR expires_at > ?)
     ORDER BY sent_at DESC, id DESC LIMIT 1`, [conversationId, now]);
  return row ? { id: row.message_id, sender: row.sender_id, text: [...row.body].slice(0, LIMITS.previewMax).join('').slice(0, LIMITS.previewMax), sentAt: iso(row.sent_at) } : undefined;
}

export async function searchViews(sql: SqlExecutor, match: string, limit: number, now: number): Promise<MessageViewT[]> {
  const rows = await sql.all<MessageRow & Record<string, never>>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages_fts f JOIN messages m ON m.id = f.rowid
     WHERE messages_fts MATCH ? AND (m.expires_at IS NULL OR m.expires_at > ?) ORDER BY f.rowid DESC LIMIT ?`, [match, now, limit]);
  return toViews(sql, rows);
}

interface ConversationRow {
  id: string;
  kind: ConversationKind;
  remote_id: string;
  name: string;
  topic: string | null;
  role: 'owner' | 'admin' | 'member' | null;
  member: number;
  unread: number;
  mentions: number;
  last_message_at: number | null;
}

export async function conversationView(sql: SqlExecutor, row: ConversationRow, members: string[], now: number): Promise<ConversationViewT> {
  const last = await lastMessage(sql, row.id, now);
  const timer = await sql.get<{ expire_seconds: number | null; burn_seconds: number | null }>('SELECT expire_seconds, burn_seconds FROM conversation_timers WHERE conversation_id = ?', [row.id]);
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    ...(row.topic ? { topic: row.topic } : {}),
    ...(row.role ? { role: row.role } : {}),
    members,
    unread: row.unread,
    mentions: row.mentions,
    ...(row.last_message_at !== null ? { lastMessageAt: iso(row.last_message_at) } : {}),
    ...(last ? { lastMessage: last } : {}),
    // once set, always there (empty when turned off), so a client merging views sees it turned off
    ...(timer ? {
      timer: { ...(timer.expire_seconds !== null ? { expireSeconds: timer.expire_seconds } : {}), ...(timer.burn_seconds !== null ? { burnSeconds: timer.burn_seconds } : {}) },
    } : {}),
  };
}

export async function conversationRows(sql: SqlExecutor, where = 'member = 1', params: (string | number)[] = []): Promise<ConversationRow[]> {
  return sql.all<ConversationRow & Record<string, never>>(
    `SELECT id, kind, remote_id, name, topic, role, member, unread, mentions, last_message_at FROM conversations WHERE ${where}
     ORDER BY coalesce(last_message_at, 0) DESC, name`, params);
}
