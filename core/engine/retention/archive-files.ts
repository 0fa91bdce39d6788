// The files the archive was sent, kept whatever happens to their messages. A message carries each file's blob id, key
// and the digest of its sealed blob; the archive notes them when it records the message (archive_files), fetches the
// blob from the relay soon after (on every archive.sync, and at export for any still missing), and keeps the
// verified plaintext as an attachment of its own vault, where no expiry or deletion of the message reaches it.
// An export writes each file beside itself, named by the BLAKE2b-256 of its plaintext, which its record carries.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { blake2bHasher, fromBase64Url, toBase64Url } from '../../crypto/sodium.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { downloadBlob } from '../files/transfer.ts';
import { relayUnreachable } from '../relay-http.ts';
import { RelayError } from '../relay-http.ts';

/** A file as a recorded message names it. */
export interface SentFile {
  blobId: string;
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
}

/** What an export says of one file: written beside it under its content digest, or why it could not be. */
export type FileOutcome = { file: string } | { unavailable: string };

interface FileRow {
  digest: string;
  blob_id: string;
  file_key: Uint8Array;
  size: number;
  attachment: string | null;
  content: string | null;
  failure: string | null;
}

/** Committed with the record of the message that carried the files (a file sent twice is noted once). */
export function noteFilesStatements(files: readonly SentFile[]): Statement[] {
  return files.map((f) => ({
    sql: 'INSERT OR IGNORE INTO archive_files (digest, blob_id, file_key, size) VALUES (?, ?, ?, ?)',
    params: [toBase64Url(f.digest), f.blobId, f.key, f.size],
  }));
}

export class ArchiveFiles {
  readonly #ctx: EngineContext;
  #fetching: Promise<number> | null = null;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Fetches every file not fetched yet; one run at a time. Resolves with how many are still missing. */
  fetchPending(): Promise<number> {
    this.#fetching ??= this.#fetchAll().finally(() => (this.#fetching = null));
    return this.#fetching;
  }

  async #fetchAll(): Promise<number> {
    const rows = await this.#ctx.vault.all<FileRow & Record<string, never>>('SELECT * FROM archive_files WHERE attachment IS NULL AND failure IS NULL');
    let missing = 0;
    for (const row of rows) {
      try {
        await this.#fetch(row);
      } catch (error) {
        // away: tried again at the next sync; anything else (gone from the relay, damaged) is said in the export
        if (relayUnreachable(error) || (error instanceof EngineError && error.code === 'OFFLINE')) missing++;
        else await this.#ctx.vault.run('UPDATE archive_files SET failure = ? WHERE digest = ?', [failureOf(error), row.digest]);
        this.#ctx.problem(error as Error);
      }
    }
    return missing;
  }

  /** Downloads, verifies and stores one file in the vault, hashing its plaintext on the way. */
  async #fetch(row: FileRow): Promise<void> {
    const content = blake2bHasher();
    const plain = new PassThrough();
    // a failed download destroys the stream with its error: the vault may not be listening yet (or any more), and an
    // 'error' nobody listens for is an uncaught exception; the failure is reported by the throw below
    plain.on('error', () => {});
    const stored = this.#ctx.vault.putAttachment(plain);
    stored.catch(() => {}); // awaited below; a failed download is the error that counts
    try {
      await downloadBlob(this.#ctx.http, { blobId: row.blob_id, key: row.file_key, digest: fromBase64Url(row.digest), size: row.size }, {
        resumeChunks: 0,
        written: { size: 0, read: async () => 0 },
        write: async (bytes) => {
          content.update(bytes);
          // the vault failing stops the download too, instead of leaving it waiting for room that never comes
          if (!plain.write(Buffer.from(bytes))) await Promise.race([once(plain, 'drain'), stored]);
        },
      }, { signal: new AbortController().signal, progress: () => {} });
      plain.end();
    } catch (error) {
      plain.destroy(error as Error);
      const partial = await stored.catch(() => null);
      if (partial) await this.#ctx.vault.deleteAttachment(partial);
      throw error;
    }
    const attachment = await stored;
    await this.#ctx.vault.run('UPDATE archive_files SET attachment = ?, content = ? WHERE digest = ?', [attachment, toBase64Url(content.digest()), row.digest]);
  }

  /** Writes the file with this blob digest into `dir` (made by the caller), or says why it cannot. */
  async writeInto(dir: string, digest: string): Promise<FileOutcome> {
    const row = await this.#ctx.vault.get<FileRow & Record<string, never>>('SELECT * FROM archive_files WHERE digest = ?', [digest]);
    if (!row) return { unavailable: 'the archive was never sent this file' };
    if (row.attachment === null || row.content === null) return { unavailable: row.failure ?? 'not fetched yet (the relay could not be reached)' };
    try {
      await pipeline(Readable.from(this.#ctx.vault.attachmentStream(row.attachment)), createWriteStream(path.join(dir, row.content), { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      // the same content sent in two messages is written once (files are named by it)
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return { file: row.content };
  }
}

function failureOf(error: unknown): string {
  if (error instanceof RelayError && error.status === 404) return 'the relay no longer holds the file (it expired or was deleted before the archive fetched it)';
  if (error instanceof EngineError && error.code === 'INVALID') return 'the relay served a damaged file';
  return `could not be fetched (${(error as Error).message})`;
}
