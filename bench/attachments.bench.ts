// The vault's attachment path (issue 15): encrypt-and-write beside a plain write with fsync, read-and-decrypt beside
// a plain read, and deleting (destroy the key, overwrite, fsync, unlink). Each pair runs alternately, one call each
// per round, so both see the same moment of a machine whose speed drifts; medians of the rounds.
import { closeSync, copyFileSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createVault } from '../core/vault/index.ts';
import { median, report, section } from './harness.ts';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const ROUNDS = 5;
const root = mkdtempSync(path.join(tmpdir(), 'wardroom-attachments-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

section(`attachments: ${SIZE / MiB} MiB, format 3 (AES-256-GCM STREAM in 1 MiB chunks), written with fsync; beside plain file I/O`);
const data = new Uint8Array(randomBytes(SIZE)); // libsodium's randombytes_buf takes minutes for 64 MiB
const plainFile = path.join(root, 'plain.bin');
const vault = await createVault({ dir: path.join(root, 'vault'), passphrase: 'benchmark passphrase', kdf: { opsLimit: 1, memLimitBytes: 8 * MiB } });
const time = async (fn: () => unknown) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};
const plainWrite = () => {
  writeFileSync(plainFile, data);
  const fd = openSync(plainFile, 'r');
  fsyncSync(fd);
  closeSync(fd);
};
const ms = { plainWrite: [] as number[], encrypt: [] as number[], plainRead: [] as number[], decrypt: [] as number[], copy: [] as number[] };
const ids: string[] = [];
for (let round = 0; round <= ROUNDS; round++) { // round 0 warms up
  const w = await time(plainWrite);
  const e = await time(async () => ids.push(await vault.putAttachment(data)));
  const r = await time(() => readFileSync(plainFile));
  const d = await time(() => vault.readAttachment(ids.at(-1)!));
  const c = await time(() => copyFileSync(plainFile, path.join(root, 'copy.bin')));
  if (round === 0) continue;
  ms.plainWrite.push(w);
  ms.encrypt.push(e);
  ms.plainRead.push(r);
  ms.decrypt.push(d);
  ms.copy.push(c);
}
const mbps = (t: number[]) => SIZE / MiB / (median(t) / 1000);
report({ name: 'attachment encrypt + write', value: mbps(ms.encrypt), unit: 'MB/s', baseline: { name: 'plain write + fsync', value: mbps(ms.plainWrite) }, target: 'ratio >= 0.5' });
report({ name: 'attachment encrypt + write', value: mbps(ms.encrypt), unit: 'MB/s', baseline: { name: 'plain file copy', value: mbps(ms.copy) } });
report({ name: 'attachment read + decrypt', value: mbps(ms.decrypt), unit: 'MB/s', baseline: { name: 'plain read', value: mbps(ms.plainRead) }, target: 'ratio >= 0.5' });
const bytes = statSync(path.join(vault.paths.attachments, ids[0]!)).size;
const shredMs = await time(() => vault.deleteAttachment(ids[0]!));
report({ name: 'delete attachment (destroy key, overwrite, fsync, unlink)', value: (bytes / MiB) / (shredMs / 1000), unit: 'MB/s', baseline: { name: 'plain write + fsync', value: mbps(ms.plainWrite) } });
await vault.lock();
