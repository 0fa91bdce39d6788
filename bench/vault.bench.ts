// Vault benchmarks (issue 2, section 4). Every figure is beside a baseline from the same run:
//   - inserts and history paging: the same vault code on a plaintext database (no key) -> encryption cost ratio;
//   - the page cache size that makes that ratio acceptable (why DEFAULT_CACHE_KIB is what it is);
//   - a 1,000,000-message vault: history page and full-text query latency, encrypted vs plaintext;
//   - unlock (Argon2id MODERATE + open) beside Argon2id alone (attachments: attachments.bench.ts);
//   - the shredder: incremental vacuum vs full VACUUM.
// Set VAULT_BENCH_BIG=<n> to change the size of the big vault (default 1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ARGON2ID_MODERATE, argon2id, randomBytes } from '../core/crypto/sodium.ts';
import { createVault, DEFAULT_CACHE_KIB, openVault, type MessageInput } from '../core/vault/index.ts';
import { historyPage, insertMessages, searchMessages, type HistoryCursor } from '../core/vault/messages.ts';
import { SqlWorker, type SqlExecutor } from '../core/vault/sql-client.ts';
import { median, percentile, report, sample, section as harnessSection, timeOnce } from './harness.ts';

const benchStart = performance.now();
/** Section titles carry the elapsed time, so a slow part of this long benchmark is easy to spot. */
const section = (title: string): void => harnessSection(`${title}  [t+${((performance.now() - benchStart) / 1000).toFixed(0)} s]`);

const BIG = Number(process.env.VAULT_BENCH_BIG ?? 1_000_000);
const PASSPHRASE = 'benchmark passphrase';
const root = mkdtempSync(path.join(tmpdir(), 'wardroom-vault-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => mkdtempSync(path.join(root, `${dirs++}-`));

// Deterministic text: a seeded generator over a fixed vocabulary, so every run (and both sides) index the same words.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const vocabularyRandom = prng(42);
const vocabulary = Array.from({ length: 20_000 }, () => Array.from({ length: 3 + Math.floor(vocabularyRandom() * 8) }, () => String.fromCharCode(97 + Math.floor(vocabularyRandom() * 26))).join(''));
// Zipf-like word choice: common words are very common, as in chat.
const word = (random: () => number): string => vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;

/** Messages spread over `conversations` conversations; every 10,000th carries the rare word "zebracrossing". */
function messageBatch(start: number, count: number, conversations: number, random: () => number): MessageInput[] {
  return Array.from({ length: count }, (_, k) => {
    const i = start + k;
    const words = Array.from({ length: 6 + Math.floor(random() * 20) }, () => word(random));
    if (i % 10_000 === 0) words.push('zebracrossing');
    return { messageId: `m${i}`, conversationId: `c${i % conversations}`, senderId: `u${i % 37}`, sentAt: 1_700_000_000_000 + i * 1000, receivedAt: 1_700_000_000_000 + i * 1000, body: words.join(' ') };
  });
}

interface Store {
  sql: SqlExecutor;
  close(): Promise<void>;
}

async function encryptedStore(cacheKiB = DEFAULT_CACHE_KIB): Promise<Store> {
  const vault = await createVault({ dir: newDir(), passphrase: PASSPHRASE, kdf: { opsLimit: 1, memLimitBytes: 8 * 1024 * 1024 }, cacheKiB });
  return { sql: vault, close: () => vault.lock() };
}

async function plainStore(cacheKiB = DEFAULT_CACHE_KIB): Promise<Store> {
  const { worker } = await SqlWorker.start({ file: path.join(newDir(), 'plain.db'), rawKey: null, create: true, cacheKiB });
  return { sql: worker, close: () => worker.close() };
}

async function fill(store: Store, total: number, conversations: number, batch: number): Promise<number> {
  const random = prng(7);
  return timeOnce(async () => {
    for (let start = 0; start < total; start += batch) await insertMessages(store.sql, messageBatch(start, Math.min(batch, total - start), conversations, random));
  });
}

/** Pages through whole conversations, newest first; returns per-page milliseconds. */
async function pageThrough(sql: SqlExecutor, conversations: string[]): Promise<number[]> {
  const ms: number[] = [];
  for (const conversation of conversations) {
    let before: HistoryCursor | null = null;
    do {
      const started = performance.now();
      const page = await historyPage(sql, conversation, { limit: 50, before });
      ms.push(performance.now() - started);
      before = page.next;
    } while (before);
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
section('100,000 messages inserted in batches of 1,000 (10 conversations), then paged through (50 per page)');
{
  const N = 100_000;
  const encrypted = await encryptedStore();
  const plain = await plainStore();
  const plainMs = await fill(plain, N, 10, 1000);
  const encryptedMs = await fill(encrypted, N, 10, 1000);
  report({ name: 'insert 100k, encrypted', value: (N / encryptedMs) * 1000, unit: 'msg/s', baseline: { name: 'plaintext', value: (N / plainMs) * 1000 } });
  report({ name: 'insert 100k time, encrypted', value: encryptedMs, unit: 'ms', baseline: { name: 'plaintext', value: plainMs }, target: 'ratio <= 1.3' });
  const conversations = ['c0', 'c1', 'c2'];
  await pageThrough(plain.sql, ['c9']); // warm-up both sides equally
  await pageThrough(encrypted.sql, ['c9']);
  const plainPages = await pageThrough(plain.sql, conversations);
  const encryptedPages = await pageThrough(encrypted.sql, conversations);
  report({ name: `history page median (${encryptedPages.length} pages), encrypted`, value: median(encryptedPages), unit: 'ms', baseline: { name: 'plaintext', value: median(plainPages) }, target: 'ratio <= 1.3' });
  report({ name: 'history page p95, encrypted', value: percentile(encryptedPages, 95), unit: 'ms', baseline: { name: 'plaintext', value: percentile(plainPages, 95) } });
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  report({ name: 'page through 3 conversations (total), encrypted', value: sum(encryptedPages), unit: 'ms', baseline: { name: 'plaintext', value: sum(plainPages) }, target: 'ratio <= 1.3' });

  section('shredder after deleting 10% of the 100k vault: incremental vacuum vs full VACUUM (same deletes, two copies)');
  const deleteTenth = async (sql: SqlExecutor): Promise<void> => {
    for (let start = 0; start < N; start += 10_000) {
      const ids = Array.from({ length: 1000 }, (_, k) => `m${start + k * 10}`);
      await sql.transaction([{ sql: 'DELETE FROM messages WHERE message_id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(ids)] }]);
    }
  };
  await deleteTenth(encrypted.sql);
  const vault = encrypted.sql as Awaited<ReturnType<typeof createVault>>;
  const incremental = await vault.shred({ vacuum: 'incremental' });
  await deleteTenth(plain.sql);
  const full = await (async () => {
    // The same deletes on a second encrypted copy, then a full VACUUM.
    const copy = await encryptedStore();
    await fill(copy, N, 10, 1000);
    await deleteTenth(copy.sql);
    const result = await (copy.sql as typeof vault).shred({ vacuum: 'full' });
    await copy.close();
    return result;
  })();
  report({ name: 'shred with incremental_vacuum', value: incremental.durationMs, unit: 'ms', baseline: { name: 'shred with full VACUUM', value: full.durationMs } });
  console.log(`  incremental: ${JSON.stringify(incremental)}`);
  console.log(`  full:        ${JSON.stringify(full)}`);
  await encrypted.close();
  await plain.close();
}

// ---------------------------------------------------------------------------------------------------------------
section('page cache size: encrypted vs plaintext at each size, through the vault path and for raw random-key writes');
/** 50,000 kv rows with random 16-byte keys, 1,000 per transaction: writes land all over the B-tree, the cache's worst case. */
async function randomKeyWrites(store: Store): Promise<number> {
  return timeOnce(async () => {
    for (let batch = 0; batch < 50; batch++) {
      await store.sql.transaction(Array.from({ length: 1000 }, () => ({ sql: 'INSERT INTO kv (key, value) VALUES (?, ?)', params: [nodeRandomBytes(16).toString('hex'), new Uint8Array(200)] })));
    }
  });
}
for (const cacheKiB of [2 * 1024, 16 * 1024, 64 * 1024]) {
  const N = 50_000;
  const encrypted = await encryptedStore(cacheKiB);
  const plain = await plainStore(cacheKiB);
  const plainMs = await fill(plain, N, 10, 1000);
  const encryptedMs = await fill(encrypted, N, 10, 1000);
  report({ name: `cache ${cacheKiB / 1024} MiB: insert 50k messages, encrypted`, value: encryptedMs, unit: 'ms', baseline: { name: 'plaintext', value: plainMs } });
  const plainRaw = await randomKeyWrites(plain);
  const encryptedRaw = await randomKeyWrites(encrypted);
  report({ name: `cache ${cacheKiB / 1024} MiB: 50k random-key kv writes, encrypted`, value: encryptedRaw, unit: 'ms', baseline: { name: 'plaintext', value: plainRaw } });
  await encrypted.close();
  await plain.close();
}

// ---------------------------------------------------------------------------------------------------------------
section(`${BIG.toLocaleString('en')} messages (1,000 conversations): history page and full-text search`);
{
  const encrypted = await encryptedStore();
  const plain = await plainStore();
  const plainBuild = await fill(plain, BIG, 1000, 10_000);
  const encryptedBuild = await fill(encrypted, BIG, 1000, 10_000);
  report({ name: `build ${BIG.toLocaleString('en')}-message vault, encrypted`, value: encryptedBuild / 1000, unit: 's', baseline: { name: 'plaintext', value: plainBuild / 1000 } });
  const random = prng(99);
  const picks = Array.from({ length: 400 }, () => `c${Math.floor(random() * 1000)}`);
  // Half the pages from the newest end, half about 10 pages deep (cursors found beforehand, outside the timing).
  // Both vaults were filled identically, so row ids and cursors are the same in each.
  const cursors = new Map<string, HistoryCursor | null>();
  for (const conversation of new Set(picks)) {
    let cursor: HistoryCursor | null = null;
    for (let depth = 0; depth < 10; depth++) {
      const next: HistoryCursor | null = (await historyPage(encrypted.sql, conversation, { limit: 50, before: cursor })).next;
      if (!next) break;
      cursor = next;
    }
    cursors.set(conversation, cursor);
  }
  const page = (sql: SqlExecutor, i: number): Promise<unknown> => {
    const conversation = picks[i % picks.length]!;
    return historyPage(sql, conversation, { limit: 50, before: i % 2 === 1 ? cursors.get(conversation) : null });
  };
  const plainPage = await sample(400, (i) => page(plain.sql, i));
  const encryptedPage = await sample(400, (i) => page(encrypted.sql, i));
  report({ name: 'history page (50, newest first), encrypted, median', value: median(encryptedPage.ms), unit: 'ms', baseline: { name: 'plaintext', value: median(plainPage.ms) }, target: '< 2 ms' });
  report({ name: 'history page p95, encrypted', value: percentile(encryptedPage.ms, 95), unit: 'ms', baseline: { name: 'plaintext', value: percentile(plainPage.ms, 95) } });
  const queries = ['zebracrossing', vocabulary[5000]!, `${vocabulary[100]!} ${vocabulary[2000]!}`, vocabulary[0]!.slice(0, 3)];
  for (const query of queries) {
    const plainSearch = await sample(30, () => searchMessages(plain.sql, query, { limit: 50 }), 3);
    const encryptedSearch = await sample(30, () => searchMessages(encrypted.sql, query, { limit: 50 }), 3);
    const hits = (await searchMessages(encrypted.sql, query, { limit: 50 })).length;
    report({ name: `FTS "${query}" (${hits} shown), encrypted, median`, value: median(encryptedSearch.ms), unit: 'ms', baseline: { name: 'plaintext', value: median(plainSearch.ms) }, target: '< 50 ms' });
  }
  await encrypted.close();
  await plain.close();
}

// ---------------------------------------------------------------------------------------------------------------
section('unlock: Argon2id MODERATE + open (key file, worker, SQLCipher key, migrations check)');
{
  const dir = newDir();
  const vault = await createVault({ dir, passphrase: PASSPHRASE, kdf: ARGON2ID_MODERATE });
  await vault.insertMessages(messageBatch(0, 1000, 10, prng(1)));
  await vault.lock();
  const kdfOnly = await sample(3, () => argon2id(PASSPHRASE, randomBytes(16), ARGON2ID_MODERATE), 1);
  const unlock = await sample(3, async () => (await openVault({ dir, passphrase: PASSPHRASE })).lock(), 1);
  report({ name: 'unlock (Argon2id MODERATE + open + lock)', value: median(unlock.ms), unit: 'ms', baseline: { name: 'Argon2id MODERATE alone', value: median(kdfOnly.ms) } });
}

