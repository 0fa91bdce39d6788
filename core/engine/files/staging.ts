// Bytes staged for sending by a caller that has no path to give (the web shell's renderer holds a browser File,
// not a path). They wait in the profile directory encrypted under a key held only in memory, chunk by chunk, so a
// staged file is never plaintext on disk and is gone for good when the engine closes or the send is done.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LIMITS } from '../../api/contract.ts';
import { CHUNK_NONCE_PREFIX_BYTES, CHUNK_TAG_BYTES, ChunkCipher } from '../../crypto/chunk-stream.ts';
import { memzero, randomBytes, toBase64Url } from '../../crypto/sodium.ts';
import { EngineError } from '../errors.ts';
import { BLOB_CHUNK_BYTES, MAX_FILE_BYTES, type PlainSource } from './blob-format.ts';
import { readFully } from './source.ts';

// staged chunks are the blob's chunks, so sealing for the relay reads them back one to one
const STAGE_CHUNK_BYTES = BLOB_CHUNK_BYTES;
if (STAGE_CHUNK_BYTES !== LIMITS.fileChunkMax) throw new Error('a staged chunk must be what one files.stageChunk carries');
/** At most this many files staged at once per engine. */
const MAX_STAGED = 32;

interface Staged {
  size: number;
  received: number;
  key: Uint8Array;
  cipher: ChunkCipher;
  file: string;
  handle: FileHandle;
}

export class Staging {
  readonly #dir: string;
  readonly #staged = new Map<string, Staged>();

  constructor(profileDir: string) {
    this.#dir = path.join(profileDir, 'staging');
  }

  /** What an earlier run staged cannot be read any more (its keys died with it): removed. */
  async clear(): Promise<void> {
    for (const id of [...this.#staged.keys()]) await this.drop(id);
    await rm(this.#dir, { recursive: true, force: true });
  }

  async start(size: number): Promise<string> {
    if (size > MAX_FILE_BYTES) throw new EngineError('INVALID', 'that file is too large');
    if (this.#staged.size >= MAX_STAGED) throw new EngineError('INVALID', `at most ${MAX_STAGED} files can be staged at once`);
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const id = toBase64Url(randomBytes(16));
    const key = randomBytes(32);
    const file = path.join(this.#dir, id);
    const handle = await open(file, 'wx+', 0o600);
    const cipher = new ChunkCipher(key, randomBytes(CHUNK_NONCE_PREFIX_BYTES));
    this.#staged.set(id, { size, received: 0, key, cipher, file, handle });
    if (size === 0) await handle.write(cipher.seal(new Uint8Array(CHUNK_TAG_BYTES), new Uint8Array(0), 0, true), 0, CHUNK_TAG_BYTES, 0);
    return id;
  }

  /** Chunks come in order, each exactly LIMITS.fileChunkMax bytes but the last. */
  async append(id: string, offset: number, data: Uint8Array): Promise<number> {
    const staged = this.#get(id);
    if (offset !== staged.received) throw new EngineError('CONFLICT', `continue at byte ${staged.received}`);
    const last = staged.received + data.length === staged.size;
    if (data.length > STAGE_CHUNK_BYTES || staged.received + data.length > staged.size || (!last && data.length !== STAGE_CHUNK_BYTES)) {
      throw new EngineError('INVALID', `send ${STAGE_CHUNK_BYTES.toLocaleString('en-US')} bytes a chunk (less only in the last), no more than the size given`);
    }
    const index = offset / STAGE_CHUNK_BYTES;
    const sealed = staged.cipher.seal(new Uint8Array(data.length + CHUNK_TAG_BYTES), data, index, last);
    await staged.handle.write(sealed, 0, sealed.length, index * (STAGE_CHUNK_BYTES + CHUNK_TAG_BYTES));
    staged.received += data.length;
    return staged.received;
  }

  /** A complete staged file, read the way sealBlob reads: whole chunks at chunk boundaries. */
  source(id: string): PlainSource {
    const staged = this.#get(id);
    if (staged.received !== staged.size) throw new EngineError('INVALID', 'that staged file is not complete yet');
    const chunks = Math.max(1, Math.ceil(staged.size / STAGE_CHUNK_BYTES));
    return {
      size: staged.size,
      read: async (into, position) => {
        const index = position / STAGE_CHUNK_BYTES;
        if (!Number.isInteger(index)) throw new EngineError('INVALID', 'staged files are read a chunk at a time');
        const sealed = new Uint8Array(into.length + CHUNK_TAG_BYTES);
        if ((await readFully(staged.handle, sealed, index * (STAGE_CHUNK_BYTES + CHUNK_TAG_BYTES))) !== sealed.length) return 0;
        staged.cipher.open(into, sealed, index, index === chunks - 1);
        return into.length;
      },
    };
  }

  has(id: string): boolean {
    return this.#staged.has(id);
  }

  async drop(id: string): Promise<void> {
    const staged = this.#staged.get(id);
    if (!staged) return;
    this.#staged.delete(id);
    memzero(staged.key);
    await staged.handle.close().catch(() => {});
    await rm(staged.file, { force: true });
  }

  #get(id: string): Staged {
    const staged = this.#staged.get(id);
    if (!staged) throw new EngineError('NOT_FOUND', 'no such staged file (it was sent, or the app restarted)');
    return staged;
  }
}
