// Files in conversations: sending (encrypt as a stream under a fresh key, upload resumably, then send the message
// with the key inside it), receiving (download, verify, decrypt to a chosen directory or into the vault for
// preview), the org policy's rules, and deletion following the message (its blob at the relay, its key and any
// decrypted copy in the vault). docs/protocol.md ("Files") has the format and what the relay sees.
import { link, open, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { commands, FileViewT, MessageViewT } from '../../api/contract.ts';
import type { Handlers } from '../../api/dispatch.ts';
import { CHUNK_NONCE_PREFIX_BYTES } from '../../crypto/chunk-stream.ts';
import { fromBase64Url, randomBytes, toBase64Url, toHex } from '../../crypto/sodium.ts';
import type { EngineContext } from '../context.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { insertMessageStatements, messageViews } from '../history.ts';
import { mentionsIn } from '../inbound/payloads.ts';
import type { ExpiryScheduler } from '../messages/expiry.ts';
import { sendTimersFor } from '../messages/handlers.ts';
import { clampNoticeStatement } from '../timers/conversation-timers.ts';
import type { Operation, Operations } from '../operations/registry.ts';
import type { Outbound } from '../outbound/fanout.ts';
import { relayUnreachable } from '../relay-http.ts';
import { RelayError } from '../relay-http.ts';
import { BLOB_CHUNK_BYTES, blobBytes, chunkCount, MAX_FILE_BYTES, type PlainSource } from './blob-format.ts';
import { safeFileName, typeOfName } from './names.ts';
import { checkFile, checkFileSize, filePolicyOf, type FilePolicy } from './policy.ts';
import { openPartial, openPath, takesDrawnPreview, thumbnailOf, type OpenedSource } from './source.ts';
import { cleanImageAttachment } from '../media/attachments.ts';
import { Staging } from './staging.ts';
import { fileViews, insertFilesStatements, storedFile, type FileRecord, type StoredFile, type Thumbnail } from './store.ts';
import { downloadBlob, uploadBlob, type TransferOptions } from './transfer.ts';

type SendRequest = z.output<(typeof commands)['messages.send']['request']>;

/** A transfer run under `op`: cancelled with it, and its progress and waits for the relay said as the operation's. */
const transferOptions = (op: Operation, progress: (done: number) => void): TransferOptions => ({ signal: op.signal, waiting: () => op.waiting(), progress });
type FileHandlers = Pick<Handlers, 'messages.send' | 'files.download' | 'files.open' | 'files.read' | 'files.stage' | 'files.stageChunk' | 'files.unstage' | 'files.policy'>;

/** One file of an upload as the file_uploads row keeps it (JSON; bytes base64url). */
const uploadFileSchema = z.object({
  path: z.string().optional(),
  staged: z.string().optional(),
  name: z.string(),
  mime: z.string(),
  size: z.number().int().nonnegative(),
  mtimeMs: z.number().optional(),
  key: z.string(),
  prefix: z.string(),
  blobId: z.string(),
  maxChunkBytes: z.number().int().positive(),
  thumbnail: z.object({ mime: z.string(), width: z.number(), height: z.number(), data: z.string() }).nullable(),
});
type UploadFile = z.output<typeof uploadFileSchema>;
const uploadRequestSchema = z.object({
  conversation: z.string(),
  text: z.string().optional(),
  replyTo: z.string().optional(),
  /** a quoted reply (messages.send's quote): kept in the conversation with replyTo quoted, not in its thread */
  quote: z.boolean().optional(),
  timers: z.object({ expiresInSeconds: z.number().optional(), burnAfterReadSeconds: z.number().optional() }).optional(),
  operation: z.string().optional(),
});
type UploadRequest = z.output<typeof uploadRequestSchema>;

/** The relay's blobs outlive a message with a timer by at most this much (they expire at the relay as well). */
const MIN_BLOB_TTL_SECONDS = 60;

export class Files {
  readonly #ctx: EngineContext;
  readonly #routing: ConversationRouter;
  readonly #outbound: Outbound;
  readonly #expiry: ExpiryScheduler;
  readonly #operations: Operations;
  readonly #staging: Staging;
  readonly #refreshPolicy: () => Promise<unknown>;
  /** uploads running in this process, by file_uploads id */
  readonly #uploading = new Set<string>();
  #cleaning: Promise<void> | null = null;
  #cleanAgain = false;

  /** `refreshPolicy` fetches the org policy (policy/policy.ts) so a send is judged by the newest one the relay has. */
  constructor(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound, expiry: ExpiryScheduler, operations: Operations, refreshPolicy: () => Promise<unknown>) {
    this.#ctx = ctx;
    this.#routing = routing;
    this.#outbound = outbound;
    this.#expiry = expiry;
    this.#operations = operations;
    this.#staging = new Staging(ctx.vault.paths.dir);
    this.#refreshPolicy = refreshPolicy;
  }

  /** The command handlers; `sendText` is messages.send for a message without files. */
  handlers(sendText: Handlers['messages.send']): FileHandlers {
    return {
      'messages.send': (request) => (request.attachments ? this.#send(request) : sendText(request)),
      'files.download': (request) => this.#operations.run(request.operation, (op) => this.#download(request.message, request.index, request.dir, op)),
      'files.open': (request) => this.#operations.run(request.operation, (op) => this.#open(request.message, request.index, op)),
      'files.read': (request) => this.#read(request.message, request.index, request.offset, request.length),
      'files.stage': async ({ size }) => {
        // its name and type come with messages.send, which judges them: here only whether files go, and the size
        checkFileSize(this.#policy(), { name: 'the file', size }, 'send');
        return { staged: await this.#staging.start(size) };
      },
      'files.stageChunk': async ({ staged, offset, data }) => ({ received: await this.#staging.append(staged, offset, Buffer.from(data, 'base64')) }),
      'files.unstage': async ({ staged }) => {
        await this.#staging.drop(staged);
        return {};
      },
      'files.policy': async () => this.#freshPolicy(),
    };
  }

  /** The file rules of the org policy in force now (a newer one takes effect at once: policy.changed). */
  #policy(): FilePolicy {
    return filePolicyOf(this.#ctx.policy);
  }

  /**
   * The same after asking the relay for a newer policy: a device that was offline when an admin changed it sends
   * by the new rules, not the kept ones. Unreachable or refused (policy/policy.ts says why), the kept one applies.
   */
  async #freshPolicy(): Promise<FilePolicy> {
    await this.#refreshPolicy().catch((error: unknown) => {
      if (!relayUnreachable(error)) this.#ctx.log(`files: the relay's org policy was refused (${(error as Error).message}); the kept one applies`);
    });
    return this.#policy();
  }

  /** At open: staged bytes from an earlier run are unreadable now (their keys were in memory only). */
  async start(): Promise<void> {
    await this.#staging.clear();
  }

  /** The relay is reachable: uploads cut by a crash, a kill or an outage continue; blobs of deleted messages go. */
  online(): void {
    void this.#resumeUploads().catch((error: Error) => this.#ctx.problem(error));
    this.removed();
  }

  /**
   * A message went (deleted for everyone, expired, burned): its files' rows, keys and vault copies went with it in
   * the same transaction (ON DELETE CASCADE); now its blob leaves the relay, and the vault overwrites what it held.
   */
  removed(): void {
    if (this.#cleaning) {
      this.#cleanAgain = true;
      return;
    }
    this.#cleaning = this.#clean().catch((error: Error) => this.#ctx.problem(error)).finally(() => {
      this.#cleaning = null;
      if (this.#cleanAgain) {
        this.#cleanAgain = false;
        this.removed();
      }
    });
  }

  /** Resolves when the clean-up started by removed() is done (tests, and closing). */
  async settled(): Promise<void> {
    while (this.#cleaning) await this.#cleaning;
  }

  async close(): Promise<void> {
    await this.settled();
    await this.#staging.clear();
  }

  async #clean(): Promise<void> {
    const ctx = this.#ctx;
    const blobs = await ctx.vault.all<{ blob_id: string }>('SELECT blob_id FROM blob_trash');
    for (const { blob_id: blobId } of blobs) {
      try {
        await ctx.http.deleteBlob(blobId);
      } catch (error) {
        if (relayUnreachable(error)) break; // the next time the relay is back
        if (!(error instanceof RelayError && error.status === 404)) ctx.problem(error as Error);
      }
      await ctx.vault.run('DELETE FROM blob_trash WHERE blob_id = ?', [blobId]);
    }
    const trash = await ctx.vault.get<{ n: number }>('SELECT count(*) AS n FROM attachment_trash');
    if (trash && trash.n > 0) await ctx.vault.shred();
  }

  // ------------------------------------------------------------ sending

  async #send(request: SendRequest): Promise<MessageViewT> {
    // the operation spans the whole send: a cancel while images are cleaned or blobs are made stops it as well
    const messageId = await this.#operations.run(request.operation, (op) => this.#prepareAndUpload(request, op));
    return this.#outbound.settleSend(messageId);
  }

  async #prepareAndUpload(request: SendRequest, op: Operation): Promise<string> {
    const sources: OpenedSource[] = [];
    const files: UploadFile[] = [];
    try {
      const policy = await this.#freshPolicy();
      await this.#routing.fromCaller(request.conversation); // an unknown conversation fails before anything is uploaded
      for (const attachment of request.attachments ?? []) {
        op.check();
        files.push(await this.#prepare(attachment, policy, sources));
      }
      const ttl = request.timers?.expiresInSeconds;
      for (const file of files) {
        op.check();
        const created = await this.#createBlob(blobBytes(file.size), ttl === undefined ? undefined : Math.max(MIN_BLOB_TTL_SECONDS, ttl));
        file.blobId = created.blobId;
        file.maxChunkBytes = created.maxChunkBytes;
      }
      op.check();
    } catch (error) {
      await Promise.all(sources.map((s) => s.close()));
      await this.#deleteBlobs(files);
      // refused or cancelled before anything went: what was staged for it (the caller's bytes, cleaned copies) goes too
      for (const attachment of request.attachments ?? []) if (attachment.staged !== undefined) await this.#staging.drop(attachment.staged);
      await this.#dropStaged(files);
      throw error;
    }
    const id = toBase64Url(randomBytes(16));
    const saved: UploadRequest = {
      conversation: request.conversation,
      ...(request.text !== undefined ? { text: request.text } : {}),
      ...(request.replyTo !== undefined ? { replyTo: request.replyTo } : {}),
      ...(request.quote ? { quote: true } : {}),
      ...(request.timers ? { timers: request.timers } : {}),
      ...(request.operation !== undefined ? { operation: request.operation } : {}),
    };
    await this.#ctx.vault.run('INSERT INTO file_uploads (id, request, files, created_at) VALUES (?, ?, ?, ?)', [id, JSON.stringify(saved), JSON.stringify(files), this.#ctx.now()]);
    this.#uploading.add(id);
    try {
      return await this.#uploadAndSend(id, saved, files, sources, op);
    } finally {
      this.#uploading.delete(id);
    }
  }

  async #prepare(chosen: NonNullable<SendRequest['attachments']>[number], policy: FilePolicy, sources: OpenedSource[]): Promise<UploadFile> {
    // an image loses its metadata first (media/attachments.ts): the cleaned copy is what is sent and thumbnailed
    const cleaned = this.#ctx.profile.sendOriginalImages ? null : await cleanImageAttachment(chosen, this.#staging);
    const attachment = cleaned?.attachment ?? chosen;
    let size: number;
    let mtimeMs: number | undefined;
    if (attachment.path !== undefined) {
      const source = await openPath(attachment.path);
      sources.push(source);
      ({ size, mtimeMs } = source);
    } else {
      size = this.#staging.source(attachment.staged!).size;
    }
    const name = safeFileName(attachment.name ?? attachment.path ?? 'file');
    const mime = attachment.mime ?? typeOfName(name);
    if (size > MAX_FILE_BYTES) throw new EngineError('INVALID', `${name} is too large to send`);
    checkFile(policy, { name, mime, size }, 'send');
    const thumbnail = cleaned ? await thumbnailOf(cleaned.bytes, mime) : attachment.path !== undefined ? await thumbnailOf(attachment.path, mime) : null;
    // a video's first frame or a PDF's first page comes from the caller (no decoder for them here), decoded and
    // re-encoded like any image
    const drawn = !thumbnail && chosen.preview && takesDrawnPreview(mime) ? await thumbnailOf(Buffer.from(chosen.preview.data, 'base64'), chosen.preview.mime) : null;
    return {
      ...(attachment.path !== undefined ? { path: path.resolve(attachment.path) } : { staged: attachment.staged! }),
      name, mime, size, ...(mtimeMs !== undefined ? { mtimeMs } : {}),
      key: toBase64Url(randomBytes(32)), prefix: toBase64Url(randomBytes(CHUNK_NONCE_PREFIX_BYTES)), blobId: '', maxChunkBytes: 1,
      thumbnail: stillOf(thumbnail ?? drawn),
    };
  }

  /** A blob at the relay; a lifetime the relay does not allow falls back to its default (it expires with the message here). */
  async #createBlob(size: number, ttlSeconds: number | undefined) {
    try {
      return await this.#ctx.http.createBlob(size, ttlSeconds);
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      if (error.code === 'file_too_large') throw new EngineError('FORBIDDEN', 'the relay does not accept a file this large');
      if (error.code === 'files_disabled') throw new EngineError('FORBIDDEN', 'your organisation\'s policy does not allow sending files');
      if (ttlSeconds !== undefined && error.code === 'invalid_input') return this.#ctx.http.createBlob(size);
      throw error;
    }
  }

  async #deleteBlobs(files: readonly UploadFile[]): Promise<void> {
    for (const file of files) if (file.blobId) await this.#ctx.http.deleteBlob(file.blobId).catch(() => {});
  }

  /**
   * Uploads every file (from where the relay stopped, for each) and sends the message; the upload's row goes in the
   * same transaction as the message, so a resumed upload never sends twice. Cancelled or refused: the blobs go too.
   */
  async #uploadAndSend(id: string, request: UploadRequest, files: UploadFile[], opened: OpenedSource[], op: Operation): Promise<string> {
    const total = files.reduce((sum, f) => sum + blobBytes(f.size), 0);
    const records: FileRecord[] = [];
    let before = 0;
    try {
      // `opened` holds the path files' sources only, in order (staged files, cleaned images among them, have none)
      let nextOpened = 0;
      for (const file of files) {
        const source: PlainSource = file.path !== undefined ? opened[nextOpened++]! : this.#staging.source(file.staged!);
        const base = before;
        const digest = await uploadBlob(this.#ctx.http, {
          blobId: file.blobId, key: fromBase64Url(file.key), prefix: fromBase64Url(file.prefix), source, maxChunkBytes: file.maxChunkBytes,
        }, transferOptions(op, (done) => op.progress(base + done, total)));
        before += blobBytes(file.size);
        records.push({
          blobId: file.blobId, key: fromBase64Url(file.key), digest, size: file.size, name: file.name, mime: file.mime,
          thumbnail: file.thumbnail && { ...file.thumbnail, data: fromBase64Url(file.thumbnail.data) },
        });
      }
    } catch (error) {
      if (!relayUnreachable(error)) {
        await this.#ctx.vault.run('DELETE FROM file_uploads WHERE id = ?', [id]);
        await this.#deleteBlobs(files);
        await this.#dropStaged(files);
      } else {
        throw new EngineError('OFFLINE', 'the relay went away during the upload; it continues where it stopped when the relay is back');
      }
      throw error;
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
    const to = await this.#routing.fromCaller(request.conversation);
    const { expireSeconds, burnSeconds, clamped, payloadTimers } = await sendTimersFor(this.#ctx, to, request.timers);
    const text = request.text ?? '';
    let expiresAt: number | null = null;
    let notice: string | null = null;
    const messageId = await this.#outbound.sendPayload(to, {
      kind: 'file', files: records, caption: request.text ?? null, replyTo: request.replyTo ? fromBase64Url(request.replyTo) : null, ...(request.quote ? { quote: true } : {}),
    }, payloadTimers, (mid, into, at) => {
      expiresAt = expireSeconds !== null ? this.#ctx.clock.trusted(at) + expireSeconds * 1000 : null;
      const clampNotice = clamped ? clampNoticeStatement(into, this.#ctx.policy, at, this.#ctx.username) : null;
      notice = clampNotice?.noticeId ?? null;
      return [
        ...insertMessageStatements({
          messageId: mid, conversationId: into, sender: this.#ctx.username, senderDevice: this.#ctx.deviceId, sentAt: at, receivedAt: at, body: text,
          expiresAt, burnSeconds, clamped, replyTo: request.replyTo ?? null, quote: request.quote === true, mentions: mentionsIn(text), outgoing: true,
          status: 'pending',
        }),
        ...insertFilesStatements(mid, into, this.#ctx.username, records, true),
        { sql: 'DELETE FROM file_uploads WHERE id = ?', params: [id] },
        ...(clampNotice ? [clampNotice] : []),
      ];
    });
    if (expiresAt !== null) this.#expiry.noteDeadline(expiresAt);
    if (notice) for (const view of await messageViews(this.#ctx.vault, [notice])) this.#ctx.emit('message.received', view);
    await this.#dropStaged(files);
    return messageId;
  }

  async #dropStaged(files: readonly UploadFile[]): Promise<void> {
    for (const file of files) if (file.staged !== undefined) await this.#staging.drop(file.staged);
  }

  /** Uploads a crash or a kill cut short: each continues from the relay's count, then its message goes. */
  async #resumeUploads(): Promise<void> {
    const rows = await this.#ctx.vault.all<{ id: string; request: string; files: string }>('SELECT id, request, files FROM file_uploads ORDER BY created_at');
    for (const row of rows) {
      if (this.#uploading.has(row.id)) continue;
      this.#uploading.add(row.id);
      try {
        const request = uploadRequestSchema.parse(JSON.parse(row.request));
        const files = z.array(uploadFileSchema).parse(JSON.parse(row.files));
        const opened: OpenedSource[] = [];
        try {
          for (const file of files) {
            if (file.path === undefined) {
              // staged bytes last as long as this engine runs: an upload the relay cut continues, one from before a restart cannot
              if (!this.#staging.has(file.staged!)) throw new EngineError('INVALID', `${file.name} was attached before the app restarted and cannot be sent any more; attach it again`);
              continue;
            }
            const source = await openPath(file.path);
            opened.push(source);
            if (source.size !== file.size || source.mtimeMs !== file.mtimeMs) throw new EngineError('INVALID', `${file.name} changed since it was sent`);
          }
        } catch (error) {
          await Promise.all(opened.map((s) => s.close()));
          await this.#ctx.vault.run('DELETE FROM file_uploads WHERE id = ?', [row.id]);
          await this.#deleteBlobs(files);
          await this.#dropStaged(files);
          this.#ctx.problem(error as Error);
          continue;
        }
        const messageId = await this.#operations.run(request.operation, (op) => this.#uploadAndSend(row.id, request, files, opened, op));
        for (const view of await messageViews(this.#ctx.vault, [messageId])) this.#ctx.emit('message.received', view);
        this.#outbound.flushSoon();
      } catch (error) {
        this.#ctx.problem(error as Error);
      } finally {
        this.#uploading.delete(row.id);
      }
    }
  }

  // ------------------------------------------------------------ receiving

  async #file(messageId: string, index: number): Promise<StoredFile> {
    const file = await storedFile(this.#ctx.vault, messageId, index);
    if (!file) throw new EngineError('NOT_FOUND', 'no such file (the message may have expired or been deleted)');
    return file;
  }

  /** What the policy allows a receiver: files at all, this type, this size. */
  #allowedToReceive(file: StoredFile): FilePolicy {
    const policy = this.#policy();
    checkFile(policy, file, 'receive');
    return policy;
  }

  async #download(messageId: string, index: number, dir: string, op: Operation): Promise<{ path: string; size: number }> {
    const file = await this.#file(messageId, index);
    const policy = this.#allowedToReceive(file);
    if (policy.previewOnly) throw new EngineError('FORBIDDEN', 'your organisation\'s policy allows files to be opened in the app only, not saved');
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new EngineError('NOT_FOUND', `${dir} is not a directory`);
    const name = safeFileName(file.name);
    // one partial file per file and directory: a second download of the same file continues it
    const temporary = path.join(dir, `.${name}.${toHex(file.digest).slice(0, 16)}.wardroom-part`);
    const partial = await openPartial(temporary);
    const resumeChunks = partial ? Math.min(Math.floor(partial.size / BLOB_CHUNK_BYTES), chunkCount(file.size) - 1) : 0;
    await partial?.close();
    const handle = await open(temporary, partial ? 'r+' : 'wx', 0o600);
    let kept = false;
    try {
      await handle.truncate(resumeChunks * BLOB_CHUNK_BYTES);
      let position = resumeChunks * BLOB_CHUNK_BYTES;
      await downloadBlob(this.#ctx.http, file, {
        resumeChunks,
        written: { size: position, read: (into, at) => handle.read(into, 0, into.length, at).then((r) => r.bytesRead) },
        write: async (plain) => {
          await writeAll(handle, plain, position);
          position += plain.length;
        },
      }, transferOptions(op, (done) => op.progress(done, blobBytes(file.size))));
      await handle.sync();
      await handle.close();
      const saved = await linkUnique(temporary, dir, name);
      await unlink(temporary);
      return { path: saved, size: file.size };
    } catch (error) {
      // a cut connection keeps what verified, for the next try; anything that failed verification, or a cancel, leaves nothing
      kept = relayUnreachable(error) || (error instanceof EngineError && error.code === 'OFFLINE');
      throw error;
    } finally {
      await handle.close().catch(() => {});
      if (!kept) await rm(temporary, { force: true });
    }
  }

  /** Decrypts a file into the vault (encrypted there under its own key, deleted with its message) for preview. */
  async #open(messageId: string, index: number, op: Operation): Promise<FileViewT> {
    const file = await this.#file(messageId, index);
    this.#allowedToReceive(file);
    if (file.attachment === null) {
      // the vault reports a failing source as its own I/O error: keep the download's, which says what went wrong
      let failure: unknown = null;
      const source = handoff((write) => downloadBlob(this.#ctx.http, file, { resumeChunks: 0, written: { size: 0, read: async () => 0 }, write },
        transferOptions(op, (done) => op.progress(done, blobBytes(file.size)))).catch((error: unknown) => {
        failure = error;
        throw error;
      }));
      const attachment = await this.#ctx.vault.putAttachment(source, { messageRowId: file.messageRowId }).catch((error: unknown) => {
        throw failure ?? error;
      });
      await this.#ctx.vault.run('UPDATE files SET attachment = ? WHERE message = ? AND idx = ?', [attachment, file.messageRowId, index]);
    }
    const views = await fileViews(this.#ctx.vault, [messageId]);
    const view = views.get(messageId)?.find((v) => v.index === index);
    if (!view) throw new EngineError('NOT_FOUND', 'the message was deleted while its file was opening');
    return view;
  }

  async #read(messageId: string, index: number, offset: number, length: number): Promise<{ data: string; eof: boolean }> {
    const file = await this.#file(messageId, index);
    if (file.attachment === null) throw new EngineError('NOT_FOUND', 'open the file first (files.open)');
    const out = await this.#ctx.vault.readAttachmentRange(file.attachment, offset, length);
    return { data: Buffer.from(out).toString('base64'), eof: offset + out.length >= file.size };
  }
}

const stillOf = (t: Thumbnail | null): UploadFile['thumbnail'] => t && { mime: t.mime, width: t.width, height: t.height, data: toBase64Url(t.data) };

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written, position + written)).bytesWritten;
}

/** Gives `temporary` its final name in `dir` without replacing anything there: "name", then "name (1)", ... */
async function linkUnique(temporary: string, dir: string, name: string): Promise<string> {
  const { name: stem, ext } = path.parse(name);
  for (let n = 0; n < 1000; n++) {
    const candidate = path.join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    try {
      await link(temporary, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new EngineError('CONFLICT', `too many files named ${name} in that directory`);
}

/**
 * Turns a producer that pushes chunks (`write`, awaited) into an async iterable a consumer pulls, one chunk at a
 * time: the producer waits until the consumer took each one, so memory stays at one chunk. A failure of the
 * producer reaches the consumer as its next step's error.
 */
async function* handoff(produce: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>): AsyncGenerator<Uint8Array> {
  let offered: { bytes: Uint8Array; taken: () => void } | null = null;
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  const signal = () => {
    wake?.();
    wake = null;
  };
  void produce((bytes) => new Promise<void>((taken) => {
    offered = { bytes, taken };
    signal();
  })).then(() => {
    finished = true;
    signal();
  }, (error: unknown) => {
    failure = error ?? new Error('download failed');
    signal();
  });
  for (;;) {
    while (!offered && !finished && failure === null) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null) throw failure;
    const current = offered as { bytes: Uint8Array; taken: () => void } | null;
    if (current) {
      offered = null;
      yield current.bytes;
      current.taken();
      continue;
    }
    if (finished) return;
  }
}

