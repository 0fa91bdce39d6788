// The files table (migrations/015-files.ts): statements committed with a message, and the views a list shows.
import type { FileViewT } from '../../api/contract.ts';
import type { SqlExecutor, Statement } from '../../vault/index.ts';

export interface Thumbnail {
  mime: string;
  width: number;
  height: number;
  data: Uint8Array;
}

/** A file as a message carries it (the wire's fileSchema). */
export interface FileRecord {
  blobId: string;
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
  name: string;
  mime: string;
  thumbnail: Thumbnail | null;
}

export interface StoredFile extends FileRecord {
  messageRowId: number;
  ownBlob: boolean;
  attachment: string | null;
}

const encodeThumbnail = (t: Thumbnail | null) => (t ? JSON.stringify({ mime: t.mime, width: t.width, height: t.height, data: Buffer.from(t.data).toString('base64') }) : null);

/**
 * The files of a message just stored, in the same transaction. Only a message by this sender in this conversation
 * gets them: an id reused by someone else (ids are the sender's choice) finds no row and stores nothing.
 */
export function insertFilesStatements(messageId: string, conversationId: string, sender: string, files: readonly FileRecord[], ownBlob: boolean): Statement[] {
  return files.map((f, idx) => ({
    sql: `INSERT OR IGNORE INTO files (message, idx, blob_id, file_key, digest, size, name, mime, thumbnail, own_blob)
          SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM messages WHERE message_id = ? AND conversation_id = ? AND sender_id = ?`,
    params: [idx, f.blobId, f.key, f.digest, f.size, f.name, f.mime, encodeThumbnail(f.thumbnail), ownBlob ? 1 : 0, messageId, conversationId, sender],
  }));
}

interface FileRow {
  message: number;
  message_id: string;
  idx: number;
  blob_id: string;
  file_key: Uint8Array;
  digest: Uint8Array;
  size: number;
  name: string;
  mime: string;
  thumbnail: string | null;
  own_blob: number;
  attachment: string | null;
}

const FILE_COLUMNS = 'f.message, m.message_id, f.idx, f.blob_id, f.file_key, f.digest, f.size, f.name, f.mime, f.thumbnail, f.own_blob, f.attachment';

/** The file views of these messages, by message id (each list in order). */
export async function fileViews(sql: SqlExecutor, messageIds: readonly string[]): Promise<Map<string, FileViewT[]>> {
  const byMessage = new Map<string, FileViewT[]>();
  if (messageIds.length === 0) return byMessage;
  const rows = await sql.all<FileRow & Record<string, never>>(
    `SELECT ${FILE_COLUMNS} FROM files f JOIN messages m ON m.id = f.message WHERE m.message_id IN (SELECT value FROM json_each(?)) ORDER BY f.idx`,
    [JSON.stringify(messageIds)]);
  for (const r of rows) {
    const thumbnail = r.thumbnail ? (JSON.parse(r.thumbnail) as FileViewT['thumbnail']) : undefined;
    const view: FileViewT = { index: r.idx, name: r.name, mime: r.mime, size: r.size, ...(thumbnail ? { thumbnail } : {}), cached: r.attachment !== null };
    byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), view]);
  }
  return byMessage;
}

export async function storedFile(sql: SqlExecutor, messageId: string, index: number): Promise<StoredFile | undefined> {
  const r = await sql.get<FileRow & Record<string, never>>(`SELECT ${FILE_COLUMNS} FROM files f JOIN messages m ON m.id = f.message WHERE m.message_id = ? AND f.idx = ?`, [messageId, index]);
  if (!r) return undefined;
  return {
    messageRowId: r.message, blobId: r.blob_id, key: r.file_key, digest: r.digest, size: r.size, name: r.name, mime: r.mime,
    thumbnail: null, ownBlob: r.own_blob === 1, attachment: r.attachment,
  };
}
