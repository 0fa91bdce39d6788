// Seeds real profile vaults for the desktop app's benchmark (ui.bench.ts): each profile joins a real relay and creates
// its channels through the real engine (so the relay knows them and conversations.list keeps them), then its history
// is written straight into the vault with the engine's own row writers (core/engine/history.ts), in large batched
// transactions, which is what makes a million messages take a minute or two rather than hours of real sends.
//
// The seeded directory is kept for the whole run (every scenario opens a copy-free profile of its own) and, with
// `--keep DIR`, across runs: a cache is reused only when its stamp (the migrations' SQL, the layout below and this
// file) matches, and its relay is restarted on the port the profiles know it at.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toBase64Url } from '../core/crypto/sodium.ts';
import { Engine } from '../core/engine/engine.ts';
import { join } from '../core/engine/enrol.ts';
import { conversationActivityStatement, insertMessageStatement, type NewMessage } from '../core/engine/history.ts';
import { PROFILE_MIGRATIONS } from '../core/engine/schema.ts';
import { openVault, type Statement } from '../core/vault/index.ts';
import { spawnServer, type ServerProcess } from '../test/support/server-process.ts';
import { TEST_KDF } from '../test/support/vault-helpers.ts';

export const SEED_PASSPHRASE = 'ui benchmark passphrase';
/** Messages per vault transaction: large enough that commits are a small share, small enough to post to the worker. */
const BATCH = 5_000;
/** The newest message of every seeded conversation is this long before the seeding started, the oldest further back. */
const SPACING_MS = 20_000;

export interface ConversationPlan {
  /** a channel's name, or '@user' for a direct conversation with another seeded account */
  target: string;
  messages: number;
}

export interface ProfilePlan {
  /** the profile's directory name and its account's username */
  name: string;
  /** newest activity first: the first one is what the app opens after unlocking */
  conversations: ConversationPlan[];
}

/** What the benchmark opens: a one-page baseline, a 100,000-message channel, and a vault of 1,000,000 messages. */
export const PLANS = {
  small: { name: 'small', conversations: [{ target: 'general', messages: 50 }] },
  hundred: { name: 'hundred', conversations: [{ target: 'history', messages: 100_000 }, { target: 'random', messages: 200 }] },
  million: {
    name: 'million',
    conversations: [
      { target: 'firehose', messages: 700_000 }, { target: 'ops', messages: 200_000 }, { target: 'history', messages: 50_000 }, { target: '@hundred', messages: 50_000 },
    ],
  },
} satisfies Record<string, ProfilePlan>;
export type ScenarioName = keyof typeof PLANS;

export interface Seeded {
  root: string;
  relay: ServerProcess;
  /** the app data directory whose profiles/ holds just this scenario's profile */
  appDir(scenario: ScenarioName): string;
  /** seconds the seeding took (0 when a kept seed was reused) */
  seedSeconds: number;
  close(): Promise<void>;
}

// Deterministic text over a fixed vocabulary, as in vault.bench.ts: every run renders the same messages.
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
const VOCABULARY = Array.from({ length: 5_000 }, () => Array.from({ length: 2 + Math.floor(vocabularyRandom() * 8) }, () => String.fromCharCode(97 + Math.floor(vocabularyRandom() * 26))).join(''));
const OTHERS = ['ann', 'ben', 'cho', 'dev', 'eli'];

/** A chat-like body: mostly plain words, some markdown, the odd link and mention. */
function body(random: () => number, i: number): string {
  const words = Array.from({ length: 4 + Math.floor(random() * 30) }, () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 3)]!);
  if (i % 7 === 0) words[1] = `**${words[1]}**`;
  if (i % 11 === 0) words.push('`code`');
  if (i % 29 === 0) words.push('https://example.org/notes');
  if (i % 53 === 0) words.unshift('@ann');
  return words.join(' ');
}

/** Ids as the engine's are (base64url of 16 bytes), unique per profile, conversation and index. */
function messageId(profile: string, conversation: number, i: number): string {
  const bytes = new Uint8Array(16);
  const tag = createHash('sha256').update(profile).digest();
  bytes.set(tag.subarray(0, 8));
  new DataView(bytes.buffer).setUint32(8, conversation);
  new DataView(bytes.buffer).setUint32(12, i);
  return toBase64Url(bytes);
}

function stamp(): string {
  const hash = createHash('sha256');
  for (const m of PROFILE_MIGRATIONS) hash.update(`${m.version}:${m.sql}`);
  hash.update(JSON.stringify(PLANS)).update(readFileSync(import.meta.filename));
  return hash.digest('hex').slice(0, 16);
}

async function writeHistory(profileDir: string, plan: ProfilePlan, conversationIds: string[], me: string, end: number): Promise<void> {
  const vault = await openVault({ dir: profileDir, passphrase: SEED_PASSPHRASE, migrations: PROFILE_MIGRATIONS });
  try {
    for (const [n, conversation] of plan.conversations.entries()) {
      const id = conversationIds[n]!;
      const random = prng(1000 + n);
      // newest first in the plan: each later conversation's history ends a little earlier
      const last = end - n * 3_600_000;
      const first = last - (conversation.messages - 1) * SPACING_MS;
      for (let start = 0; start < conversation.messages; start += BATCH) {
        const statements: Statement[] = [];
        const unread: string[] = [];
        const count = Math.min(BATCH, conversation.messages - start);
        for (let i = start; i < start + count; i++) {
          const outgoing = i % 6 === 0;
          const at = first + i * SPACING_MS;
          const message: NewMessage = {
            messageId: messageId(plan.name, n, i), conversationId: id, sender: outgoing ? me : OTHERS[i % OTHERS.length]!, senderDevice: 'seeded',
            sentAt: at, receivedAt: at, body: body(random, i), expiresAt: null, burnSeconds: null, replyTo: null,
            mentions: i % 53 === 0 ? ['ann'] : [], outgoing, status: outgoing ? 'delivered' : 'sent',
          };
          statements.push(insertMessageStatement(message));
          if (!outgoing) unread.push(message.messageId);
        }
        statements.push(conversationActivityStatement(id, first + (start + count - 1) * SPACING_MS, unread, 0));
        await vault.transaction(statements);
      }
    }
  } finally {
    await vault.lock();
  }
}

/** Joins, creates the plan's conversations through the engine, then writes their history into the vault. */
async function seedProfile(root: string, relay: ServerProcess, invite: string, plan: ProfilePlan, end: number, log: (line: string) => void): Promise<string | null> {
  const profileDir = path.join(root, plan.name, 'profiles', plan.name);
  mkdirSync(path.dirname(profileDir), { recursive: true });
  const settings = { profileDir, passphrase: SEED_PASSPHRASE, kdf: TEST_KDF };
  const engine = await Engine.start((await join(settings, invite, plan.name, Date.now())).vault, settings);
  let nextInvite: string | null = null;
  const ids: string[] = [];
  try {
    for (const c of plan.conversations) {
      ids.push(c.target.startsWith('@')
        ? (await engine.api.call('conversations.resolve', { target: c.target })).id
        : (await engine.api.call('channels.create', { name: c.target })).id);
    }
    nextInvite = (await engine.api.call('org.invite', { admin: true })).link;
  } finally {
    await engine.close();
  }
  const started = performance.now();
  await writeHistory(profileDir, plan, ids, plan.name, end);
  const total = plan.conversations.reduce((sum, c) => sum + c.messages, 0);
  log(`seeded ${plan.name}: ${total} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return nextInvite;
}

/**
 * The seeded vaults under `keepDir` (reused when their stamp matches) or a fresh temporary directory removed by
 * close(). The relay runs in a child process for as long as the benchmark does.
 */
export async function seed(options: { keepDir?: string; tmpRoot: string; log: (line: string) => void }): Promise<Seeded> {
  const root = options.keepDir ? path.resolve(options.keepDir) : path.join(options.tmpRoot, 'seed');
  const stampFile = path.join(root, 'stamp.json');
  const expected = stamp();
  const kept = existsSync(stampFile) ? JSON.parse(readFileSync(stampFile, 'utf8')) as { stamp: string; port: number } : null;
  const appDir = (scenario: ScenarioName) => path.join(root, PLANS[scenario].name);
  if (kept?.stamp === expected) {
    const relay = await spawnServer(path.join(root, 'relay'), ['--log-level', 'warn', '--port', String(kept.port)]);
    options.log(`reusing the seeded vaults in ${root}`);
    return { root, relay, appDir, seedSeconds: 0, close: async () => void (await relay.kill('SIGTERM')) };
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const started = performance.now();
  const relay = await spawnServer(path.join(root, 'relay'), ['--log-level', 'warn']);
  try {
    const end = Date.now() - 60_000;
    // each profile invites the next (as an admin, so it can invite in turn): the relay's first admin invite goes to the first
    let invite = relay.firstAdminInvite!;
    for (const scenario of ['small', 'hundred', 'million'] as const) invite = (await seedProfile(root, relay, invite, PLANS[scenario], end, options.log))!;
  } catch (error) {
    await relay.kill('SIGKILL');
    throw error;
  }
  writeFileSync(stampFile, JSON.stringify({ stamp: expected, port: Number(new URL(relay.url).port) }));
  return {
    root, relay, appDir, seedSeconds: (performance.now() - started) / 1000,
    close: async () => {
      await relay.kill('SIGTERM');
      if (!options.keepDir) rmSync(root, { recursive: true, force: true });
    },
  };
}
