import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fc from 'fast-check';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { CHUNK_BYTES, PREAMBLE_BYTES, SEALED_CHUNK_BYTES, openAttachmentFile, openAttachmentFileSync, readEncryptedFile, readEncryptedRange, writeEncryptedFile } from '../../../core/vault/attachment-file.ts';
import { streamPusher } from '../../../core/crypto/sodium.ts';
import { CHUNK_NONCE_PREFIX_BYTES, CHUNK_TAG_BYTES, ChunkCipher } from '../../../core/crypto/chunk-stream.ts';
import { GcmChunkCipher } from '../../../core/crypto/gcm-chunk-stream.ts';
import { createVault, VaultError, type Vault, type VaultErrorCode } from '../../../core/vault/index.ts';
import { makeMessages, PASSPHRASE, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';

/** The read functions take an open file, as the vault hands them one. */
async function* decryptFile(file: string, key: Uint8Array, size: number, into?: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* readEncryptedFile(await openAttachmentFile(file), key, size, into);
}
const decryptRange = async (file: string, key: Uint8Array, size: number, offset: number, length: number) => readEncryptedRange(await openAttachmentFile(file), key, size, offset, length);

// Test payloads come from node:crypto: libsodium's randombytes_buf is very slow for megabytes (it is for keys).
const randomBytes = (length: number): Uint8Array => new Uint8Array(nodeRandomBytes(length));

const isVaultError = (...codes: VaultErrorCode[]) => (error: unknown) => error instanceof VaultError && codes.includes(error.code);

async function newVault(t: TestContext): Promise<Vault> {
  const vault = await createVault({ dir: tempDir(t), passphrase: PASSPHRASE, kdf: TEST_KDF });
  t.after(() => vault.lock());
  return vault;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

/** A version 1 file as the vault wrote it before issue 15: "WDAT" 0x01, the secretstream header, 64 KiB chunks. */
function versionOneFile(t: TestContext, key: Uint8Array, data: Uint8Array): string {
  const pusher = streamPusher(key);
  const parts: Uint8Array[] = [Uint8Array.from([0x57, 0x44, 0x41, 0x54, 0x01]), pusher.header];
  for (let at = 0; at < data.length; at += 64 * 1024) parts.push(pusher.push(data.subarray(at, at + 64 * 1024), at + 64 * 1024 >= data.length));
  const file = path.join(tempDir(t), 'v1');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

test('attachments round-trip at every chunk boundary, from bytes and from streams of odd-sized pieces', async (t) => {
  const vault = await newVault(t);
  for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES, 3 * CHUNK_BYTES + 17, 4 * CHUNK_BYTES, 8 * CHUNK_BYTES + 1]) {
    const data = randomBytes(size);
    const fromBytes = await vault.putAttachment(data);
    assert.deepEqual(await vault.readAttachment(fromBytes), data, `bytes, size ${size}`);
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < size; at += 1000) yield data.subarray(at, at + 1000);
    }
    const fromStream = await vault.putAttachment(pieces());
    assert.deepEqual(await vault.readAttachment(fromStream), data, `stream, size ${size}`);
    assert.equal((await vault.attachmentInfo(fromStream))?.size, size);
    const raw = readFileSync(path.join(vault.paths.attachments, fromStream));
    assert.equal(raw.subarray(0, 4).toString('latin1'), 'WDAT');
    if (size >= 16) assert.ok(!raw.includes(Buffer.from(data.subarray(0, 16))), 'plaintext does not appear in the file');
  }
  const chunks = [];
  for await (const chunk of vault.attachmentStream(await vault.putAttachment(randomBytes(2 * CHUNK_BYTES + 5)))) chunks.push(chunk.length);
  assert.deepEqual(chunks, [CHUNK_BYTES, CHUNK_BYTES, 5], 'streams one chunk at a time');
});

test('each attachment has its own key, held only in the database', async (t) => {
  const vault = await newVault(t);
  const a = await vault.putAttachment(new Uint8Array(100));
  const b = await vault.putAttachment(new Uint8Array(100));
  const keys = await vault.all<{ key: Uint8Array }>('SELECT file_key AS key FROM attachments ORDER BY id');
  assert.equal(keys.length, 2);
  assert.notDeepEqual(keys[0]!.key, keys[1]!.key);
  for (const id of [a, b]) {
    const raw = readFileSync(path.join(vault.paths.attachments, id));
    for (const { key } of keys) assert.ok(!raw.includes(Buffer.from(key)), 'no key is stored in any file');
  }
});

test('deleteAttachment destroys the key and the file; deleting a message deletes its attachments at the next shred', async (t) => {
  const vault = await newVault(t);
  const lone = await vault.putAttachment(randomBytes(5000));
  assert.equal(await vault.deleteAttachment(lone), true);
  assert.equal(await vault.deleteAttachment(lone), false);
  assert.equal(existsSync(path.join(vault.paths.attachments, lone)), false);
  await assert.rejects(vault.readAttachment(lone), isVaultError('NOT_FOUND'));

  const [row] = await vault.insertMessages(makeMessages('c', 1));
  const attached = await vault.putAttachment(randomBytes(5000), { messageRowId: row! });
  await vault.deleteMessages(['c-0']);
  assert.equal(await vault.attachmentInfo(attached), undefined, 'the key row went with the message');
  assert.deepEqual(await vault.all('SELECT id FROM attachment_trash'), [{ id: attached }]);
  const report = await vault.shred();
  assert.equal(report.filesShredded, 1);
  assert.ok(report.bytesOverwritten > 5000);
  assert.deepEqual(readdirSync(vault.paths.attachments), []);
  assert.deepEqual(await vault.all('SELECT id FROM attachment_trash'), []);
});

test('an attachment for a missing message is refused and its file removed; the shredder sweeps orphan files', async (t) => {
  const vault = await newVault(t);
  await assert.rejects(vault.putAttachment(randomBytes(10), { messageRowId: 12345 }), isVaultError('CONSTRAINT'));
  assert.deepEqual(readdirSync(vault.paths.attachments), []);
  // Files a crash left behind: a finished file whose row was never written and a half-written one.
  writeFileSync(path.join(vault.paths.attachments, 'ab'.repeat(16)), randomBytes(300));
  writeFileSync(path.join(vault.paths.attachments, `${'cd'.repeat(16)}.part`), randomBytes(200));
  const kept = await vault.putAttachment(randomBytes(10));
  const report = await vault.shred();
  assert.equal(report.filesShredded, 2);
  assert.equal(report.bytesOverwritten, 500);
  assert.deepEqual(readdirSync(vault.paths.attachments), [kept]);
});

test('a source that fails or yields non-bytes half way leaves no file behind and a typed error', async (t) => {
  const vault = await newVault(t);
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield randomBytes(3 * CHUNK_BYTES);
    throw new Error('network went away');
  }
  await assert.rejects(vault.putAttachment(failing()), (e: unknown) => isVaultError('IO')(e) && /network went away/.test((e as Error).message));
  await assert.rejects(vault.putAttachment([randomBytes(10), 'text' as never]), isVaultError('INVALID_ARGUMENT'));
  assert.deepEqual(readdirSync(vault.paths.attachments), []);
  assert.deepEqual(await vault.all('SELECT id FROM attachments'), []);
});

test('ids that are not attachment ids are refused before any path is built', async (t) => {
  const vault = await newVault(t);
  for (const id of ['../vault.keys', '', 'AB'.repeat(16), 'ab'.repeat(17)]) {
    await assert.rejects(vault.readAttachment(id), isVaultError('INVALID_ARGUMENT'));
    await assert.rejects(vault.deleteAttachment(id), isVaultError('INVALID_ARGUMENT'));
  }
});

test('tampering is detected: flipped bytes, truncation, appended data, swapped chunks, wrong key or size', async (t) => {
  const dir = tempDir(t);
  const key = randomBytes(32);
  const data = randomBytes(3 * CHUNK_BYTES + 100);
  const file = path.join(dir, 'f');
  assert.equal(await writeEncryptedFile(file, key, data), data.length);
  const original = readFileSync(file);
  const sealed = SEALED_CHUNK_BYTES;
  const p = PREAMBLE_BYTES;
  const read = (bytes: Uint8Array, k = key, size = data.length) => {
    writeFileSync(file, bytes);
    return collect(decryptFile(file, k, size));
  };
  assert.deepEqual(await read(original), Buffer.from(data));
  const flipped = Buffer.from(original);
  flipped[original.length - 5]! ^= 1;
  const swapped = Buffer.concat([original.subarray(0, p), original.subarray(p + sealed, p + 2 * sealed), original.subarray(p, p + sealed), original.subarray(p + 2 * sealed)]);
  const badVersion = Buffer.from(original);
  badVersion[4] = 9;
  const cases: [string, () => Promise<unknown>, VaultErrorCode][] = [
    ['flipped byte', () => read(flipped), 'CORRUPT'],
    ['truncated at a chunk boundary', () => read(original.subarray(0, p + 2 * sealed)), 'CORRUPT'],
    ['truncated mid-chunk', () => read(original.subarray(0, original.length - 1)), 'CORRUPT'],
    ['appended data', () => read(Buffer.concat([original, Buffer.from([0])])), 'CORRUPT'],
    ['swapped chunks', () => read(swapped), 'CORRUPT'],
    ['wrong key', () => read(original, randomBytes(32)), 'CORRUPT'],
    ['recorded size differs', () => read(original, key, data.length - 1), 'CORRUPT'],
    ['not an attachment', () => read(Buffer.from('hello')), 'CORRUPT'],
    ['newer version', () => read(badVersion), 'UNSUPPORTED_VERSION'],
  ];
  for (const [name, attempt, code] of cases) await assert.rejects(attempt(), isVaultError(code), name);
});

/** A version 2 file as the vault wrote it before format 3: "WDAT" 0x02, a 15-byte nonce prefix, sealed chunks. */
function versionTwoFile(t: TestContext, key: Uint8Array, data: Uint8Array): string {
  const prefix = randomBytes(CHUNK_NONCE_PREFIX_BYTES);
  const cipher = new ChunkCipher(key, prefix);
  const parts: Uint8Array[] = [Uint8Array.from([0x57, 0x44, 0x41, 0x54, 0x02]), prefix];
  for (let index = 0; index * CHUNK_BYTES < data.length; index++) {
    const plain = data.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES);
    parts.push(cipher.seal(new Uint8Array(plain.length + CHUNK_TAG_BYTES), plain, index, (index + 1) * CHUNK_BYTES >= data.length));
  }
  const file = path.join(tempDir(t), 'v2');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

test('files written in version 1 (secretstream, 64 KiB chunks) are still read, and refused when tampered with', async (t) => {
  const key = randomBytes(32);
  const data = randomBytes(3 * 64 * 1024 + 99);
  const file = versionOneFile(t, key, data);
  assert.deepEqual(await collect(decryptFile(file, key, data.length)), Buffer.from(data));
  const flipped = readFileSync(file);
  flipped[100]! ^= 1;
  writeFileSync(file, flipped);
  await assert.rejects(collect(decryptFile(file, key, data.length)), isVaultError('CORRUPT'));
});

test('files written in version 2 (XChaCha20-Poly1305 STREAM, 1 MiB chunks) are still read, and refused when tampered with', async (t) => {
  const key = randomBytes(32);
  const data = randomBytes(2 * CHUNK_BYTES + 77);
  const file = versionTwoFile(t, key, data);
  assert.deepEqual(await collect(decryptFile(file, key, data.length)), Buffer.from(data));
  const into = new Uint8Array(data.length);
  for await (const chunk of decryptFile(file, key, data.length, into)) assert.equal(chunk.buffer, into.buffer, 'decrypted in place into the caller\'s buffer');
  assert.deepEqual(Buffer.from(into), Buffer.from(data));
  const flipped = readFileSync(file);
  flipped[CHUNK_BYTES + 40]! ^= 1;
  writeFileSync(file, flipped);
  await assert.rejects(collect(decryptFile(file, key, data.length)), isVaultError('CORRUPT'));
});

test('new files are version 3 (AES-256-GCM): a chunk is bound to its place and its last-chunk flag, and its key', async (t) => {
  const key = randomBytes(32);
  const file = path.join(tempDir(t), 'v3');
  await writeEncryptedFile(file, key, randomBytes(2 * CHUNK_BYTES));
  const bytes = readFileSync(file);
  assert.equal(bytes[4], 3);
  assert.equal(bytes.length, PREAMBLE_BYTES + 2 * SEALED_CHUNK_BYTES);
  const prefix = bytes.subarray(5, PREAMBLE_BYTES);
  const cipher = new GcmChunkCipher(key, prefix);
  const sealed = (index: number) => bytes.subarray(PREAMBLE_BYTES + index * SEALED_CHUNK_BYTES, PREAMBLE_BYTES + (index + 1) * SEALED_CHUNK_BYTES);
  const open = (index: number, as: number, final: boolean, k = key) => {
    const out = new Uint8Array(CHUNK_BYTES).fill(7);
    try {
      new GcmChunkCipher(k, prefix).openDetached(out, sealed(index).subarray(0, CHUNK_BYTES), sealed(index).subarray(CHUNK_BYTES), as, final);
      return 'opened';
    } catch (error) {
      assert.ok(out.every((b) => b === 7), 'nothing was written before it failed');
      return (error as Error).message;
    }
  };
  assert.equal(open(1, 1, true), 'opened');
  assert.equal(open(0, 0, false), 'opened');
  assert.equal(open(0, 1, false), 'chunk did not authenticate', 'moved');
  assert.equal(open(0, 0, true), 'chunk did not authenticate', 'passed off as the last');
  assert.equal(open(1, 1, false), 'chunk did not authenticate', 'the last passed off as one more to come');
  assert.equal(open(1, 1, true, randomBytes(32)), 'chunk did not authenticate', 'another key');
  // in place: the ciphertext's own buffer receives the plaintext
  const copy = Uint8Array.from(sealed(0));
  cipher.openDetached(copy.subarray(0, CHUNK_BYTES), copy.subarray(0, CHUNK_BYTES), copy.subarray(CHUNK_BYTES), 0, false);
  const expected = new Uint8Array(CHUNK_BYTES);
  cipher.openDetached(expected, sealed(0).subarray(0, CHUNK_BYTES), sealed(0).subarray(CHUNK_BYTES), 0, false);
  assert.deepEqual(copy.subarray(0, CHUNK_BYTES), expected);
});

test('a range of an attachment reads only the chunks that hold it, in every format, with the same checks', async (t) => {
  const vault = await newVault(t);
  const data = randomBytes(5 * CHUNK_BYTES + 333);
  const id = await vault.putAttachment(data);
  const ranges: [number, number][] = [[0, 10], [CHUNK_BYTES - 5, 10], [2 * CHUNK_BYTES, CHUNK_BYTES], [CHUNK_BYTES + 1, 3 * CHUNK_BYTES], [data.length - 7, 100], [data.length, 10], [data.length + 5, 10], [0, 0]];
  for (const [offset, length] of ranges) {
    assert.deepEqual(Buffer.from(await vault.readAttachmentRange(id, offset, length)), Buffer.from(data.subarray(offset, offset + length)), `${offset}+${length}`);
  }
  await assert.rejects(vault.readAttachmentRange(id, -1, 10), isVaultError('INVALID_ARGUMENT'));
  // chunk 0 damaged: a range in chunk 3 never opens it, so it still reads; one touching chunk 0 is refused
  const file = path.join(vault.paths.attachments, id);
  const bytes = readFileSync(file);
  bytes[PREAMBLE_BYTES + 100]! ^= 1;
  writeFileSync(file, bytes);
  assert.deepEqual(Buffer.from(await vault.readAttachmentRange(id, 3 * CHUNK_BYTES + 9, 50)), Buffer.from(data.subarray(3 * CHUNK_BYTES + 9, 3 * CHUNK_BYTES + 59)));
  await assert.rejects(vault.readAttachmentRange(id, 10, 10), isVaultError('CORRUPT'));
  writeFileSync(file, bytes.subarray(0, bytes.length - 1));
  await assert.rejects(vault.readAttachmentRange(id, 3 * CHUNK_BYTES, 10), isVaultError('CORRUPT'), 'a file of the wrong length is refused whatever the range');
});

test('ranges are read in the vault\'s worker: files of every version, in order with the requests around them, and bounded', async (t) => {
  const vault = await newVault(t);
  const key = randomBytes(32);
  const data = randomBytes(2 * CHUNK_BYTES + 4321);
  for (const make of [versionOneFile, versionTwoFile]) {
    // an attachment row whose file an older build wrote
    const id = await vault.putAttachment(new Uint8Array(1));
    copyFileSync(make(t, key, data), path.join(vault.paths.attachments, id));
    await vault.run('UPDATE attachments SET file_key = ?, size = ? WHERE id = ?', [key, data.length, id]);
    for (const [offset, length] of [[0, CHUNK_BYTES], [CHUNK_BYTES - 3, 9], [2 * CHUNK_BYTES, CHUNK_BYTES]] as const) {
      assert.deepEqual(Buffer.from(await vault.readAttachmentRange(id, offset, length)), Buffer.from(data.subarray(offset, offset + length)), `${make.name} ${offset}+${length}`);
    }
  }
  const id = await vault.putAttachment(data);
  // asked before the delete, answered before it: the worker takes one request at a time, this one too
  const [range] = await Promise.all([vault.readAttachmentRange(id, CHUNK_BYTES, CHUNK_BYTES), vault.deleteAttachment(id)]);
  assert.deepEqual(Buffer.from(range), Buffer.from(data.subarray(CHUNK_BYTES, 2 * CHUNK_BYTES)));
  await assert.rejects(vault.readAttachmentRange(id, 0, 10), isVaultError('NOT_FOUND'));
  const kept = await vault.putAttachment(data);
  await assert.rejects(vault.readAttachmentRange(kept, 0, 8 * CHUNK_BYTES + 1), isVaultError('INVALID_ARGUMENT'), 'a viewer\'s range, not a whole file in one request');
  rmSync(path.join(vault.paths.attachments, kept));
  await assert.rejects(vault.readAttachmentRange(kept, 0, 10), (error: unknown) => isVaultError('CORRUPT')(error) && /missing/.test((error as Error).message));
  assert.equal((await vault.attachmentInfo(kept))?.size, data.length, 'the vault still answers after a failed range');
});

test('the blocking file reads of the worker read as the asynchronous ones do, and fail alike', async (t) => {
  const key = randomBytes(32);
  const data = randomBytes(CHUNK_BYTES + 99);
  const file = path.join(tempDir(t), 'f');
  await writeEncryptedFile(file, key, data);
  assert.deepEqual(Buffer.from(await readEncryptedRange(openAttachmentFileSync(file), key, data.length, 5, CHUNK_BYTES)), Buffer.from(data.subarray(5, 5 + CHUNK_BYTES)));
  assert.deepEqual(await collect(readEncryptedFile(openAttachmentFileSync(file), key, data.length)), Buffer.from(data));
  writeFileSync(file, readFileSync(file).subarray(0, PREAMBLE_BYTES + 10));
  await assert.rejects(readEncryptedRange(openAttachmentFileSync(file), key, data.length, 0, 10), isVaultError('CORRUPT'));
  assert.throws(() => openAttachmentFileSync(path.join(tempDir(t), 'absent')), isVaultError('CORRUPT'));
});

test('a range of a version 1 file (which cannot start mid-stream) is read up to it', async (t) => {
  const key = randomBytes(32);
  const data = randomBytes(3 * 64 * 1024 + 99);
  const file = versionOneFile(t, key, data);
  assert.deepEqual(Buffer.from(await decryptRange(file, key, data.length, 64 * 1024 - 3, 70_000)), Buffer.from(data.subarray(64 * 1024 - 3, 64 * 1024 - 3 + 70_000)));
});

test('fuzz: random corruptions of an attachment file only ever produce VaultError', async (t) => {
  const dir = tempDir(t);
  const key = randomBytes(32);
  const file = path.join(dir, 'f');
  await writeEncryptedFile(file, key, randomBytes(CHUNK_BYTES + 50));
  const original = readFileSync(file);
  await fc.assert(
    fc.asyncProperty(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(original.length + 10), async (at, xor, cut) => {
      const bytes = Buffer.from(original);
      bytes[at]! ^= xor;
      writeFileSync(file, bytes.subarray(0, cut));
      await assert.rejects(collect(decryptFile(file, key, CHUNK_BYTES + 50)), isVaultError('CORRUPT', 'UNSUPPORTED_VERSION'));
    }),
    { seed: 11, numRuns: 150 },
  );
});

test('a stream that reuses its buffer for every part is stored as it was sent (parts are copied, not held)', async (t) => {
  const vault = await newVault(t);
  const data = randomBytes(3 * CHUNK_BYTES + 11);
  const part = new Uint8Array(CHUNK_BYTES); // whole chunks: the case a held view would be overwritten in
  async function* reusing() {
    for (let at = 0; at < data.length; at += part.length) {
      const piece = part.subarray(0, Math.min(part.length, data.length - at));
      piece.set(data.subarray(at, at + piece.length));
      yield piece;
    }
  }
  assert.deepEqual(Buffer.from(await vault.readAttachment(await vault.putAttachment(reusing()))), Buffer.from(data));
});

/** Rejections nobody handled while the test ran (Node would end the engine's process on one). */
function unhandledRejections(t: TestContext): unknown[] {
  const seen: unknown[] = [];
  const record = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', record);
  t.after(() => process.off('unhandledRejection', record));
  return seen;
}

test('a read ahead that fails while its reader is busy is the reader\'s error, never an unhandled rejection', async (t) => {
  const vault = await newVault(t);
  const unhandled = unhandledRejections(t);
  const id = await vault.putAttachment(randomBytes(12 * CHUNK_BYTES));
  const chunks = vault.attachmentStream(id)[Symbol.asyncIterator]();
  await chunks.next(); // the first four chunks in hand, the next four on their way
  // cut the file inside the third batch of four, which is read ahead once the fifth chunk is handed out
  truncateSync(path.join(vault.paths.attachments, id), PREAMBLE_BYTES + 9 * SEALED_CHUNK_BYTES);
  for (let i = 1; i <= 4; i++) await chunks.next();
  await new Promise((resolve) => setTimeout(resolve, 200)); // busy elsewhere while that read meets the cut
  await assert.rejects(async () => {
    while (!(await chunks.next()).done);
  }, isVaultError('CORRUPT'));
  assert.deepEqual(unhandled, []);
});

test('a write that fails while the source is awaited is putAttachment\'s error, not an unhandled rejection', (t) => {
  // A real write failure: the file size limit (ulimit -f, 6 MiB) makes the second batch's writev fail with EFBIG while
  // the slow source is awaited. In a child process, because the limit would apply to everything this one writes.
  const dir = tempDir(t);
  const script = `
    import { createVault } from ${JSON.stringify(pathToFileURL(path.resolve('core/vault/index.ts')).href)};
    const vault = await createVault({ dir: ${JSON.stringify(dir)}, passphrase: 'child passphrase', kdf: { opsLimit: 1, memLimitBytes: 8 * 1024 * 1024 } });
    async function* slowly() {
      for (let i = 0; i < 16; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        yield new Uint8Array(${CHUNK_BYTES}).fill(i);
      }
    }
    try {
      await vault.putAttachment(slowly());
      console.log('stored');
    } catch (error) {
      console.log('refused', error.code, error.constructor.name);
    }
    await vault.lock();`;
  const file = path.join(tempDir(t), 'put.mjs');
  writeFileSync(file, script);
  const child = spawnSync('bash', ['-c', 'ulimit -f 6144 && exec "$0" "$1"', process.execPath, file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, `the process ended on its own: ${child.stderr}`);
  assert.match(child.stdout, /^refused IO VaultError$/m);
  assert.deepEqual(readdirSync(path.join(dir, 'attachments')), [], 'no part file left behind');
});
