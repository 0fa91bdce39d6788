// Typed message helpers over any SqlExecutor (the vault's worker, or a plaintext one in benchmarks). Statements
// are also exported unexecuted, so the engine can commit a message together with its ratchet state.
import { z } from 'zod';
import { VaultError } from './errors.ts';
import type { SqlExecutor } from './sql-client.ts';
import type { Statement } from './protocol.ts';

export const LIMITS = { idChars: 200, bodyChars: 100_000, pageSize: 500, searchChars: 1000, searchTerms: 16, batch: 10_000 } as const;

const id = z.string().min(1).max(LIMITS.idChars);
const time = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const messageInputSchema = z.strictObject({
  messageId: id,
  conversationId: id,
  senderId: id,
  sentAt: time,
  receivedAt: time.optional(),
  body: z.string().max(LIMITS.bodyChars),
  expiresAt: time.nullable().optional(),
});

export type MessageInput = z.input<typeof messageInputSchema>;

export interface StoredMessage {
  /** Local row id: stable, increasing with insertion; the attachment and cursor reference. */
  id: number;
  messageId: string;
  conversationId: string;
  senderId: string;
  sentAt: number;
  receivedAt: number;
  body: string;
  editedAt: number | null;
  expiresAt: number | null;
}

/** Position after the last message of a page; pass it back to get the next (older) page. */
export interface HistoryCursor {
  sentAt: number;
  id: number;
}

export interface HistoryPage {
  messages: StoredMessage[];
  next: HistoryCursor | null;
}

const COLUMNS = `m.id AS id, m.message_id AS messageId, m.conversation_id AS conversationId, m.sender_id AS senderId,
  m.sent_at AS sentAt, m.received_at AS receivedAt, m.body AS body, m.edited_at AS editedAt, m.expires_at AS expiresAt`;

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new VaultError('INVALID_ARGUMENT', `invalid ${what}: ${result.error.issues[0]?.message ?? 'rejected'}`);
  return result.data;
}

export function insertMessageStatement(input: MessageInput, now = Date.now()): Statement {
  const m = parse(messageInputSchema, input, 'message');
  return {
    sql: `INSERT INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body, expires_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`,
    params: [m.messageId, m.conversationId, m.senderId, m.sentAt, m.receivedAt ?? now, m.body, m.expiresAt ?? null],
  };
}

/** Inserts a batch in one transaction; returns the new row ids in input order. A duplicate messageId fails the whole batch (CONSTRAINT). */
export async function insertMessages(sql: SqlExecutor, messages: readonly MessageInput[]): Promise<number[]> {
  if (messages.length > LIMITS.batch) throw new VaultError('INVALID_ARGUMENT', `at most ${LIMITS.batch} messages per batch`);
  const now = Date.now();
  const results = await sql.transaction(messages.map((m) => insertMessageStatement(m, now)));
  return results.map((r) => r.lastInsertRowid);
}

const cursorSchema = z.strictObject({ sentAt: time, id: z.number().int().nonnegative() });
const pageOptionsSchema = z.strictObject({ before: cursorSchema.nullable().optional(), limit: z.number().int().min(1).max(LIMITS.pageSize).optional() });

/** One page of a conversation, newest first. Uses the (conversation_id, sent_at, id) index as a range scan. */
export async function historyPage(sql: SqlExecutor, conversationId: string, options: z.input<typeof pageOptionsSchema> = {}): Promise<HistoryPage> {
  parse(id, conversationId, 'conversation id');
  const { before, limit = 50 } = parse(pageOptionsSchema, options, 'page options');
  const rows = before
    ? await sql.all(`SELECT ${COLUMNS} FROM messages m WHERE m.conversation_id = ? AND (m.sent_at, m.id) < (?, ?)
                     ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`, [conversationId, before.sentAt, before.id, limit])
    : await sql.all(`SELECT ${COLUMNS} FROM messages m WHERE m.conversation_id = ?
                     ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`, [conversationId, limit]);
  const messages = rows as unknown as StoredMessage[];
  const last = messages[messages.length - 1];
  return { messages, next: messages.length === limit && last ? { sentAt: last.sentAt, id: last.id } : null };
}

/**
 * Turns user text into a safe FTS5 query: every term is quoted (so FTS5 operators in the text are literal), terms
 * are ANDed, and the last term matches as a prefix for search-as-you-type. Returns null when there is no term.
 */
export function ftsQuery(text: string): string | null {
  if (typeof text !== 'string' || text.length > LIMITS.searchChars) throw new VaultError('INVALID_ARGUMENT', `search text must be at most ${LIMITS.searchChars} characters`);
  // Quotes would end the quoted term and NUL would end the query text early: both only ever separate terms.
  const terms = text.split(/[\s"\u0000-\u001f]+/u).filter((t) => t.length > 0).slice(0, LIMITS.searchTerms);
  if (terms.length === 0) return null;
  return terms.map((t, i) => `"${t}"${i === terms.length - 1 ? '*' : ''}`).join(' ');
}

const searchOptionsSchema = z.strictObject({ conversationId: id.optional(), limit: z.number().int().min(1).max(LIMITS.pageSize).optional() });

/** Full-text search, newest matches first. */
export async function searchMessages(sql: SqlExecutor, text: string, options: z.input<typeof searchOptionsSchema> = {}): Promise<StoredMessage[]> {
  const { conversationId, limit = 50 } = parse(searchOptionsSchema, options, 'search options');
  const match = ftsQuery(text);
  if (match === null) return [];
  const scope = conversationId === undefined ? '' : 'AND m.conversation_id = ?';
  const params = conversationId === undefined ? [match, limit] : [match, conversationId, limit];
  const rows = await sql.all(`SELECT ${COLUMNS} FROM messages_fts f JOIN messages m ON m.id = f.rowid
                              WHERE messages_fts MATCH ? ${scope} ORDER BY f.rowid DESC LIMIT ?`, params);
  return rows as unknown as StoredMessage[];
}

export async function getMessage(sql: SqlExecutor, messageId: string): Promise<StoredMessage | undefined> {
  parse(id, messageId, 'message id');
  return (await sql.get(`SELECT ${COLUMNS} FROM messages m WHERE m.message_id = ?`, [messageId])) as StoredMessage | undefined;
}

export function deleteMessagesStatement(messageIds: readonly string[]): Statement {
  parse(z.array(id).max(LIMITS.batch), messageIds, 'message ids');
  return { sql: 'DELETE FROM messages WHERE message_id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(messageIds)] };
}

/**
 * Deletes messages now: rows, their full-text entries (trigger) and their attachments' keys (cascade; the files
 * are queued in attachment_trash). secure_delete zeroes the freed cells; the next shred() clears the WAL and
 * hands freed pages back. Returns the number of messages deleted.
 */
export async function deleteMessages(sql: SqlExecutor, messageIds: readonly string[]): Promise<number> {
  const [result] = await sql.transaction([deleteMessagesStatement(messageIds)]);
  return result!.changes;
}

/** Statement that deletes every message whose expiry has passed (used by the shredder). */
export function deleteExpiredStatement(now: number): Statement {
  return { sql: 'DELETE FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?', params: [now] };
}

