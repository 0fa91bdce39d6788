// Encrypted blobs (file attachments), uploaded in chunks and resumable: the client asks how much arrived and
// continues from there. Blob ids are server-made 22-character base64url strings, checked by pattern before any
// path is built, so no id can walk out of the blob directory. Downloads honour Range for resumption.
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Context } from '../context.ts';
import { ApiError, badRequest, conflict, forbidden, notFound, parseInput } from '../errors.ts';
import { newId } from '../ids.ts';
import { ID_PATTERN, idSchema } from '../schemas.ts';

export const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * The largest blob a file of `fileBytes` makes: clients pad to a Padmé bucket (under 12% more) after 16 bytes of
 * tag per MiB and a small header (core/engine/files/blob-format.ts). The relay never sees the file's own size.
 */
export const paddedAllowance = (fileBytes: number): number => Math.ceil((fileBytes + Math.ceil(fileBytes / 65536) + 64) * 1.125);
const blobParams = z.object({ blobId: idSchema }).strict();

export function blobPath(blobsDir: string, blobId: string): string {
  if (!ID_PATTERN.test(blobId)) throw badRequest('malformed blob id', 'invalid_input'); // defence in depth
  return path.join(blobsDir, blobId.slice(0, 2), blobId);
}

export function blobRoutes(app: FastifyInstance, ctx: Context): void {
  const uploading = new Set<string>();

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_CHUNK_BYTES },
    (_request, body, done) => done(null, body));

  app.post('/v1/blobs', async (request, reply) => {
    const { account } = ctx.authenticate(request);
    const policy = ctx.policy();
    const body = parseInput(z.object({
      size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      ttlSeconds: z.number().int().min(60).max(ctx.config.blobTtlSeconds).optional(),
    }).strict(), request.body);
    if (policy.fileSharing === false) throw forbidden('org policy disables file sharing', 'files_disabled');
    const maxBytes = Math.min(ctx.config.maxBlobBytes, policy.maxFileBytes === undefined ? Number.MAX_SAFE_INTEGER : paddedAllowance(policy.maxFileBytes));
    if (body.size > maxBytes) throw new ApiError(413, 'file_too_large', `this relay takes blobs of up to ${maxBytes} bytes (size)`);
    const now = ctx.now();
    const blob = {
      blobId: newId(), ownerAccount: account.accountId, size: body.size, uploaded: 0, createdAt: now,
      expiresAt: now + (body.ttlSeconds ?? ctx.config.blobTtlSeconds) * 1000,
    };
    if (!ctx.store.createBlob(blob, ctx.config.blobQuotaBytes)) {
      throw new ApiError(413, 'quota_exceeded', 'this upload would exceed your blob storage quota');
    }
    await mkdir(path.dirname(blobPath(ctx.blobsDir, blob.blobId)), { recursive: true });
    await (await open(blobPath(ctx.blobsDir, blob.blobId), 'w')).close();
    reply.code(201);
    return { blobId: blob.blobId, size: blob.size, uploaded: 0, maxChunkBytes: MAX_CHUNK_BYTES, expiresAt: blob.expiresAt };
  });

  app.get('/v1/blobs/:blobId/status', async (request) => {
    ctx.authenticate(request);
    const { blobId } = parseInput(blobParams, request.params, 'blobId');
    const blob = ctx.store.getBlob(blobId);
    if (!blob || blob.expiresAt <= ctx.now()) throw notFound('no such blob', 'no_such_blob');
    return { blobId, size: blob.size, uploaded: blob.uploaded, complete: blob.uploaded === blob.size, expiresAt: blob.expiresAt };
  });

  app.put('/v1/blobs/:blobId/data', async (request) => {
    const { account } = ctx.authenticate(request);
    const { blobId } = parseInput(blobParams, request.params, 'blobId');
    const { offset } = parseInput(z.object({ offset: z.coerce.number().int().min(0) }).strict(), request.query, 'query');
    if (!Buffer.isBuffer(request.body)) throw new ApiError(415, 'bad_content_type', 'send the chunk as application/octet-stream');
    const chunk = request.body;
    const blob = ctx.store.getBlob(blobId);
    if (!blob || blob.ownerAccount !== account.accountId || blob.expiresAt <= ctx.now()) throw notFound('no such blob of yours', 'no_such_blob');
    if (offset !== blob.uploaded) throw conflict(`resume at offset ${blob.uploaded}`, 'wrong_offset');
    if (chunk.length === 0 || offset + chunk.length > blob.size) throw badRequest('the chunk is empty or runs past the declared size', 'bad_chunk');
    if (uploading.has(blobId)) throw conflict('another chunk of this blob is being written', 'upload_in_progress');
    uploading.add(blobId);
    try {
      const file = await open(blobPath(ctx.blobsDir, blobId), 'r+');
      try {
        // Bytes past `uploaded` are from an interrupted write the database never recorded: drop them first.
        await file.truncate(offset);
        await file.write(chunk, 0, chunk.length, offset);
        await file.datasync(); // the recorded offset must never run ahead of the bytes on disk
      } finally {
        await file.close();
      }
      ctx.store.setBlobUploaded(blobId, offset + chunk.length);
    } finally {
      uploading.delete(blobId);
    }
    return { blobId, uploaded: offset + chunk.length, complete: offset + chunk.length === blob.size };
  });

  app.get('/v1/blobs/:blobId', async (request, reply) => {
    ctx.authenticate(request);
    const { blobId } = parseInput(blobParams, request.params, 'blobId');
    const blob = ctx.store.getBlob(blobId);
    if (!blob || blob.expiresAt <= ctx.now()) throw notFound('no such blob', 'no_such_blob');
    if (blob.uploaded !== blob.size) throw conflict('the blob is not completely uploaded yet', 'incomplete');
    let start = 0;
    let end = blob.size - 1;
    const range = request.headers.range;
    if (range !== undefined) {
      const match = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(range);
      if (!match) throw new ApiError(416, 'bad_range', 'only a single "bytes=START-[END]" range is supported');
      start = Number(match[1]);
      end = match[2] ? Math.min(Number(match[2]), blob.size - 1) : blob.size - 1;
      if (start > end) throw new ApiError(416, 'bad_range', `range outside 0-${blob.size - 1}`);
      reply.code(206).header('content-range', `bytes ${start}-${end}/${blob.size}`);
    }
    const file = blobPath(ctx.blobsDir, blobId);
    await stat(file);
    reply.header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes').header('content-length', end - start + 1);
    return reply.send(createReadStream(file, { start, end }));
  });

  app.delete('/v1/blobs/:blobId', async (request) => {
    const { account } = ctx.authenticate(request);
    const { blobId } = parseInput(blobParams, request.params, 'blobId');
    const blob = ctx.store.getBlob(blobId);
    if (!blob || blob.ownerAccount !== account.accountId) throw notFound('no such blob of yours', 'no_such_blob');
    await deleteBlob(ctx, blobId);
    return { deleted: true };
  });
}

export async function deleteBlob(ctx: Context, blobId: string): Promise<void> {
  ctx.store.deleteBlob(blobId);
  await rm(blobPath(ctx.blobsDir, blobId), { force: true });
}
