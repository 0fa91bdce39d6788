// uploadBlob against a real relay on loopback that stops while one chunk is on its way and the next is being read.
// The chunk's failure is the upload's to handle (it waits for the relay and continues from the relay's count), never
// an unhandled rejection: Node ends a process on one by default, the engine's host included, and files.test.ts's
// relay-restart test failed now and then on exactly that ("socket hang up" from a PUT nobody was awaiting yet).
// And a relay that drops out twice in a long upload: each outage is waited for anew and said once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { RelayError, RelayHttp, trustEndpoint } from '../../../core/engine/relay-http.ts';
import { BLOB_CHUNK_BYTES, blobBytes, type PlainSource } from '../../../core/engine/files/blob-format.ts';
import { downloadBlob, uploadBlob } from '../../../core/engine/files/transfer.ts';
import { createOrg, startTestServer } from '../../support/server-client.ts';

test('a chunk that fails while the next one is read is retried from the relay\'s count, not left unhandled', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wardroom-blob-transfer-'));
  let server = await startTestServer({ dataDir });
  t.after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { admin } = await createOrg(server);
  const relay = new RelayHttp(await trustEndpoint(server.url, null));
  t.after(() => relay.close());
  relay.setDevice(admin.deviceId, admin.devices[0]!.keys.secretKey);
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  t.after(() => process.off('unhandledRejection', record));

  const plain = randomBytes(4 * BLOB_CHUNK_BYTES);
  const created = await relay.createBlob(blobBytes(plain.length));
  const puts: Promise<unknown>[] = [];
  const put = relay.putBlobChunk.bind(relay);
  relay.putBlobChunk = (...args) => {
    const sent = put(...args);
    puts.push(sent);
    return sent;
  };
  let stopped = false;
  let restarted = false;
  const source: PlainSource = {
    size: plain.length,
    async read(into, position) {
      // Reading chunk 0, before any body is full: the relay stops, so the first body goes to a relay that is not
      // there. Its PUT then fails while chunk 1 is being read, and only then does the relay come back.
      if (position === 0 && !stopped) {
        stopped = true;
        await server.close();
      } else if (position === BLOB_CHUNK_BYTES && !restarted) {
        restarted = true;
        await Promise.allSettled(puts);
        await new Promise((resolve) => setImmediate(resolve)); // Node reports unhandled rejections once microtasks drain
        server = await startTestServer({ dataDir, port: server.port });
      }
      into.set(plain.subarray(position, position + into.length));
      return into.length;
    },
  };
  const progress: number[] = [];
  const key = randomBytes(32);
  const digest = await uploadBlob(relay, { blobId: created.blobId, key, prefix: randomBytes(15), source, maxChunkBytes: created.maxChunkBytes }, {
    signal: new AbortController().signal, progress: (done) => progress.push(done),
  });

  assert.deepEqual(unhandled, [], 'no chunk failed unobserved');
  assert.ok((await Promise.allSettled(puts)).some((p) => p.status === 'rejected'), 'a chunk did fail while the relay was away');
  assert.ok(progress.every((done, i) => i === 0 || done >= progress[i - 1]!), 'the upload never went back');
  const received: Uint8Array[] = [];
  await downloadBlob(relay, { blobId: created.blobId, key, digest, size: plain.length }, {
    resumeChunks: 0, written: source, write: async (bytes) => void received.push(Uint8Array.from(bytes)),
  }, { signal: new AbortController().signal, progress: () => {} });
  assert.deepEqual(Buffer.concat(received), Buffer.from(plain));
});

test('a relay that drops out twice is waited for each time, patience counting from the last bytes that moved, and each wait is said once', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const { admin } = await createOrg(server);
  const relay = new RelayHttp(await trustEndpoint(server.url, null));
  t.after(() => relay.close());
  relay.setDevice(admin.deviceId, admin.devices[0]!.keys.secretKey);
  const plain = randomBytes(6 * BLOB_CHUNK_BYTES);
  const created = await relay.createBlob(blobBytes(plain.length));
  const body = created.maxChunkBytes;
  // the relay "goes away" for the body at 2 bodies in (once) and at 5 bodies in (twice in a row: one outage)
  const failures = new Map([[2 * body, 1], [5 * body, 2]]);
  const put = relay.putBlobChunk.bind(relay);
  relay.putBlobChunk = async (blobId, offset, bytes) => {
    const left = failures.get(offset) ?? 0;
    if (left > 0) {
      failures.set(offset, left - 1);
      throw new RelayError('network', 'the relay cannot be reached');
    }
    return put(blobId, offset, bytes);
  };
  let attempts = 0;
  const status = relay.blobStatus.bind(relay);
  relay.blobStatus = (blobId) => {
    attempts++;
    return status(blobId);
  };
  const patienceMs = 1_000;
  let slowed = false;
  const source: PlainSource = {
    size: plain.length,
    async read(into, position) {
      // once the upload continued after the first outage it moves on slower than the patience before the second:
      // a patience counted from the first failure would give up at the second
      if (position === 3 * BLOB_CHUNK_BYTES && attempts === 2 && !slowed) {
        slowed = true;
        await new Promise((resolve) => setTimeout(resolve, 2 * patienceMs));
      }
      into.set(plain.subarray(position, position + into.length));
      return into.length;
    },
  };
  let waits = 0;
  const key = randomBytes(32);
  const digest = await uploadBlob(relay, { blobId: created.blobId, key, prefix: randomBytes(15), source, maxChunkBytes: body }, {
    signal: new AbortController().signal, progress: () => {}, waiting: () => waits++, patienceMs,
  });
  assert.deepEqual([...failures.values()], [0, 0], 'both outages happened');
  assert.ok(slowed, 'the upload moved slowly between them');
  assert.equal(waits, 2, 'one wait said for each outage');
  const received: Uint8Array[] = [];
  await downloadBlob(relay, { blobId: created.blobId, key, digest, size: plain.length }, {
    resumeChunks: 0, written: source, write: async (bytes) => void received.push(Uint8Array.from(bytes)),
  }, { signal: new AbortController().signal, progress: () => {} });
  assert.deepEqual(Buffer.concat(received), Buffer.from(plain));
});
