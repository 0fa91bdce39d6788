// The shredder: after deletions, make deleted data unrecoverable from this device's files, in layers.
//   1. Crypto-shredding (already done by the deletes): an attachment's key row is gone, so its ciphertext is noise.
//   2. Rows: expired messages are deleted now (their FTS5 entries go with them, secure-delete on), with
//      SQLite's secure_delete zeroing the freed cells and pages.
//   3. Files: every attachment whose key was destroyed (attachment_trash) and every orphan file (a crash between
//      writing a file and recording its key) is overwritten, fsynced and unlinked.
//   4. Database file: incremental_vacuum hands the freed pages back to the file system, and a TRUNCATE checkpoint
//      moves the WAL into the database and cuts the WAL to zero bytes, so old page versions disappear from both.
// Overwriting cannot defeat SSD wear levelling or file-system snapshots; docs/storage.md says so plainly.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { shredFile } from './attachment-file.ts';
import type { SqlWorker } from './sql-client.ts';
import { deleteExpiredStatement } from './messages.ts';

export interface ShredReport {
  /** expired messages deleted by this run (their full-text entries and attachment keys go with them) */
  messagesRemoved: number;
  /** attachment files overwritten and unlinked (deleted attachments plus orphans) */
  filesShredded: number;
  bytesOverwritten: number;
  /** pages returned to the file system by incremental vacuum (or VACUUM) */
  pagesFreed: number;
  /** size of the WAL before it was checkpointed and truncated to zero */
  walBytesTruncated: number;
  databaseBytesBefore: number;
  databaseBytesAfter: number;
  durationMs: number;
}

export interface ShredOptions {
  /** expiry reference time in ms (default: now) */
  now?: number;
  /** 'incremental' (default) frees pages in place; 'full' rebuilds the whole file with VACUUM */
  vacuum?: 'incremental' | 'full';
}

export const ATTACHMENT_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Attachment files on disk that no attachments row references, skipping writes still in progress. */
async function orphanFiles(sql: SqlWorker, attachmentsDir: string, inProgress: ReadonlySet<string>): Promise<string[]> {
  const names = (await readdir(attachmentsDir)).filter((name) => {
    const id = name.endsWith('.part') ? name.slice(0, -'.part'.length) : name;
    return ATTACHMENT_ID_PATTERN.test(id) && !inProgress.has(id);
  });
  if (names.length === 0) return [];
  const ids = names.map((name) => name.replace(/\.part$/, ''));
  const known = new Set((await sql.all<{ id: string }>('SELECT id FROM attachments WHERE id IN (SELECT value FROM json_each(?))', [JSON.stringify(ids)])).map((row) => row.id));
  return names.filter((name) => !known.has(name.replace(/\.part$/, '')));
}

export async function shred(sql: SqlWorker, attachmentsDir: string, inProgress: ReadonlySet<string>, options: ShredOptions = {}): Promise<ShredReport> {
  const started = performance.now();
  const [expired] = await sql.transaction([deleteExpiredStatement(options.now ?? Date.now())]);

  const trash = (await sql.all<{ id: string }>('SELECT id FROM attachment_trash')).map((row) => row.id).filter((id) => ATTACHMENT_ID_PATTERN.test(id));
  const names = new Set([...trash, ...trash.map((id) => `${id}.part`), ...(await orphanFiles(sql, attachmentsDir, inProgress))]);
  let filesShredded = 0;
  let bytesOverwritten = 0;
  for (const name of names) {
    const bytes = await shredFile(path.join(attachmentsDir, name));
    bytesOverwritten += bytes;
    if (bytes > 0) filesShredded++;
  }
  // Only now forget the trash entries: a crash before this line repeats the (idempotent) file shredding.
  if (trash.length > 0) await sql.run('DELETE FROM attachment_trash WHERE id IN (SELECT value FROM json_each(?))', [JSON.stringify(trash)]);

  const compacted = await sql.call('compact', { vacuum: options.vacuum ?? 'incremental' });
  return { messagesRemoved: expired!.changes, filesShredded, bytesOverwritten, ...compacted, durationMs: performance.now() - started };
}
