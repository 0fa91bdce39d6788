// The vault's attachment path (issue 15): encrypt-and-write beside a plain write with fsync; reading and decrypting
// beside a plain read of the same shape, for each way the app reads: files.read (the renderer's viewer and blob,
// one 1 MiB range per call, each call looking the file up and opening it), a stream (the archive's export,
// attachmentStream piped on), and the whole file into one new buffer (readAttachment; tests and tools only). Then
// deleting (destroy the key, overwrite, fsync, unlink). Each round calls every one of them once, in turn, so pairs
// see the same moment of a machine whose speed drifts; medians of the rounds.
import { closeSync, copyFileSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createVault } from '../core/vault/index.ts';
import { LIMITS } from '../core/api/contract.ts';
import { median, report, section } from './harness.ts';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const RANGE = LIMITS.fileChunkMax;
const ROUNDS = 5;
const root = mkdtempSync(path.join(tmpdir(), 'wardroom-attachments-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

section(`attachments: ${SIZE / MiB} MiB, format 3 (AES-256-GCM STREAM in 1 MiB chunks), written with fsync; beside plain file I/O of the same shape`);
const data = new Uint8Array(randomBytes(SIZE)); // libsodium's randombytes_buf takes minutes for 64 MiB
const plainFile = path.join(root, 'plain.bin');
const vault = await createVault({ dir: path.join(root, 'vault'), passphrase: 'benchmark passphrase', kdf: { opsLimit: 1, memLimitBytes: 8 * MiB } });
// Every write makes a new file, as putAttachment does, and every file is kept until the end: on this ext4 (mounted
// with discard) rewriting one file over and over, as this baseline once did, frees its blocks each time, and the
// next fsync, which was the vault's, paid for discarding them (a plain new file here took 42-270 ms for 64 MiB
// depending only on what was freed just before it).
let written = 0;
const plainWriteTo = (file: string) => {
  writeFileSync(file, data, { flag: 'wx' });
  const fd = openSync(file, 'r');
  fsyncSync(fd);
  closeSync(fd);
};
plainWriteTo(plainFile);
const plainWrite = () => plainWriteTo(path.join(root, `plain-${written++}.bin`));
/** What files.read does without the vault: open the file, read the range into a new buffer, close. */
const plainRanges = async () => {
  for (let offset = 0; offset < SIZE; offset += RANGE) {
    const handle = await open(plainFile, 'r');
    try {
      await handle.read(Buffer.allocUnsafe(RANGE), 0, RANGE, offset);
    } finally {
      await handle.close();
    }
  }
};
/** What attachmentStream does without the vault: chunk after chunk into a new buffer each, which the consumer may keep. */
async function* plainChunks(): AsyncGenerator<Uint8Array> {
  const handle = await open(plainFile, 'r');
  try {
    for (let offset = 0; offset < SIZE; offset += RANGE) {
      const chunk = Buffer.allocUnsafe(RANGE);
      await handle.read(chunk, 0, RANGE, offset);
      yield chunk;
    }
  } finally {
    await handle.close();
  }
}
const drain = async (stream: AsyncIterable<Uint8Array>) => {
  for await (const chunk of stream) void chunk;
};
let id = '';
const runs = {
  plainWrite,
  encrypt: async () => {
    id = await vault.putAttachment(data); // the rounds' files are kept until the end, so no deletion is timed here
  },
  plainRanges,
  ranges: async () => {
    for (let offset = 0; offset < SIZE; offset += RANGE) await vault.readAttachmentRange(id, offset, RANGE);
  },
  plainStream: () => drain(plainChunks()),
  stream: () => drain(vault.attachmentStream(id)),
  plainWhole: () => readFileSync(plainFile),
  whole: () => vault.readAttachment(id),
  copy: () => copyFileSync(plainFile, path.join(root, `copy-${written++}.bin`)),
};
const ms = Object.fromEntries(Object.keys(runs).map((name) => [name, [] as number[]])) as Record<keyof typeof runs, number[]>;
for (let round = 0; round <= ROUNDS; round++) { // round 0 warms up
  for (const [name, run] of Object.entries(runs)) {
    const start = performance.now();
    await run();
    if (round > 0) ms[name as keyof typeof runs].push(performance.now() - start);
  }
}
const mbps = (t: number[]) => SIZE / MiB / (median(t) / 1000);
report({ name: 'attachment encrypt + write', value: mbps(ms.encrypt), unit: 'MB/s', baseline: { name: 'plain write of a new file + fsync', value: mbps(ms.plainWrite) }, target: 'ratio >= 0.5' });
report({ name: 'attachment encrypt + write', value: mbps(ms.encrypt), unit: 'MB/s', baseline: { name: 'plain copy to a new file, no fsync', value: mbps(ms.copy) } });
report({ name: `attachment read + decrypt as files.read, ${RANGE / MiB} MiB ranges`, value: mbps(ms.ranges), unit: 'MB/s', baseline: { name: 'plain open + read range + close', value: mbps(ms.plainRanges) }, target: 'ratio >= 0.5' });
report({ name: 'attachment read + decrypt as a stream (export)', value: mbps(ms.stream), unit: 'MB/s', baseline: { name: `plain read, a new ${RANGE / MiB} MiB buffer per chunk`, value: mbps(ms.plainStream) }, target: 'ratio >= 0.5' });
report({ name: 'attachment read + decrypt whole, one new buffer', value: mbps(ms.whole), unit: 'MB/s', baseline: { name: 'plain readFileSync', value: mbps(ms.plainWhole) } });
const bytes = statSync(path.join(vault.paths.attachments, id)).size;
const shredStart = performance.now();
await vault.deleteAttachment(id);
report({ name: 'delete attachment (destroy key, overwrite, fsync, unlink)', value: (bytes / MiB) / ((performance.now() - shredStart) / 1000), unit: 'MB/s', baseline: { name: 'plain write of a new file + fsync', value: mbps(ms.plainWrite) } });
await vault.lock();
