// Real engines against a real relay on loopback: each user is a temporary profile (a real SQLCipher vault) with
// an Engine driven through its typed API, exactly as the CLI and the desktop app drive it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { events, type EventName, type EventPayload, type MessageViewT, type WardroomApi } from '../../core/api/contract.ts';
import { Engine, type EngineOptions } from '../../core/engine/engine.ts';
import { join, link } from '../../core/engine/enrol.ts';
import { formatInviteLink, parseInviteLink } from '../../core/relay/invite-link.ts';
import { startTestServer, tempDir } from './server-client.ts';
import { TEST_KDF } from './vault-helpers.ts';

export const PASSPHRASE = 'engine test passphrase';

export interface TestEngine {
  engine: Engine;
  username: string;
  profileDir: string;
  /** every event this engine emitted, in order */
  events: { name: EventName; payload: unknown }[];
  received(): MessageViewT[];
  waitFor<T>(find: () => T | undefined | false | null, timeoutMs?: number, what?: string): Promise<T>;
  reopen(): Promise<TestEngine>;
  /** shown once at join */
  recoveryKit?: string;
}

const EVENT_NAMES = Object.keys(events) as EventName[];

/** Records every event of an engine, and adds it to `registry` (whoever closes the registry closes the engine). */
export function watch(engine: Engine, profileDir: string, options: Partial<EngineOptions>, registry: TestEngine[]): TestEngine {
  const events: { name: EventName; payload: unknown }[] = [];
  const waiters = new Set<() => void>();
  for (const name of EVENT_NAMES) {
    engine.api.on(name, (payload: EventPayload<typeof name>) => {
      events.push({ name, payload });
      for (const w of [...waiters]) w();
    });
  }
  const test: TestEngine = {
    engine, username: engine.username, profileDir, events,
    received: () => events.filter((e) => e.name === 'message.received').map((e) => e.payload as MessageViewT),
    waitFor<T>(find: () => T | undefined | false | null, timeoutMs = 15_000, what = 'a condition'): Promise<T> {
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const value = find();
          if (value) {
            waiters.delete(check);
            clearTimeout(timer);
            clearInterval(poll);
            resolve(value);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          clearInterval(poll);
          reject(new Error(`${engine.username}: timed out waiting for ${what}`));
        }, timeoutMs);
        const poll = setInterval(check, 50);
        waiters.add(check);
      });
    },
    async reopen() {
      await engine.close();
      return watch(await Engine.open({ profileDir, passphrase: PASSPHRASE, ...options }), profileDir, options, registry);
    },
  };
  registry.push(test);
  return test;
}

export interface TestOrg {
  url: string;
  server: Awaited<ReturnType<typeof startTestServer>>;
  admin: TestEngine;
  engines: TestEngine[];
  addUser(username: string): Promise<TestEngine>;
  /** A second device for the same person, approved by `existing`, or by the recovery kit when one is given. */
  linkDevice(existing: TestEngine, recoveryKit?: string): Promise<TestEngine>;
  /** Stops the relay and starts it again on the same port and data (a restart signs every device out). */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A relay and an admin engine. `via` puts something between the engines and the relay (a hostile proxy): invite
 * links are rewritten to its URL, so every engine connects through it.
 */
export async function startOrg(options: Partial<EngineOptions> = {}, serverOptions: Parameters<typeof startTestServer>[0] = {}, via?: (serverUrl: string) => Promise<{ url: string; close(): Promise<void> }>): Promise<TestOrg> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-engines-'));
  const dataDir = serverOptions.dataDir ?? tempDir(); // kept across restarts
  let server = await startTestServer({ ...serverOptions, dataDir });
  const proxy = via ? await via(server.url) : null;
  const routed = (invite: string) => (proxy ? formatInviteLink({ ...parseInviteLink(invite), server: proxy.url }) : invite);
  const engines: TestEngine[] = [];
  let counter = 0;
  const settings = (name: string) => ({ profileDir: path.join(root, `${name}-${counter++}`), passphrase: PASSPHRASE, kdf: TEST_KDF });
  const open = async (vaultPromise: Promise<{ vault: Parameters<typeof Engine.start>[0]; recoveryKit?: string }>, profileDir: string) => {
    const { vault, recoveryKit } = await vaultPromise;
    const log = process.env.WARDROOM_TEST_LOG ? (line: string) => console.error(`[${path.basename(profileDir)}] ${line}`) : undefined;
    const engine = watch(await Engine.start(vault, { profileDir, passphrase: PASSPHRASE, ...(log ? { log } : {}), ...options }), profileDir, options, engines);
    if (recoveryKit) engine.recoveryKit = recoveryKit;
    return engine;
  };
  const adminSettings = settings('admin');
  const admin = await open(join(adminSettings, routed(server.firstAdminInvite!), 'admin', Date.now()), adminSettings.profileDir);
  const org: TestOrg = {
    url: server.url, server, admin, engines,
    async addUser(username) {
      const { link: invite } = await admin.engine.api.call('org.invite', { admin: false });
      const s = settings(username);
      return open(join(s, routed(invite), username, Date.now()), s.profileDir);
    },
    async linkDevice(existing, recoveryKit) {
      const { link: invite } = await admin.engine.api.call('org.invite', { admin: false });
      const s = settings(`${existing.username}-linked`);
      const pending = await link(s, routed(invite), existing.username, Date.now(), { pollMs: 50, ...(recoveryKit ? { recoveryKit } : {}) });
      if (!recoveryKit) await existing.engine.api.call('devices.approve', { code: pending.code });
      return open(pending.completed.then((vault) => ({ vault })), s.profileDir);
    },
    async restartServer() {
      await server.close();
      server = await startTestServer({ ...serverOptions, dataDir, port: server.port });
      org.server = server;
    },
    async close() {
      await Promise.all(engines.map((e) => e.engine.close().catch(() => {})));
      await proxy?.close();
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return org;
}

/** Texts of the messages people sent that an engine received in a conversation, in arrival order (no local notices). */
export const textsIn = (e: TestEngine, conversation: string) => e.received().filter((m) => m.conversation === conversation && !m.notice).map((m) => m.text);

/** The conversation id of `#channel`, `@user` or `@ann,ben`, as the CLI resolves it. */
export const idOf = async (api: WardroomApi, target: string): Promise<string> => (await api.call('conversations.resolve', { target })).id;

/**
 * A conversation's whole history, oldest first, paged through messages.list as a UI would: what people sent, without
 * the local notices (membership changes, identity changes) unless asked.
 */
export async function history(e: TestEngine, target: string, options: { notices?: boolean } = {}): Promise<MessageViewT[]> {
  const conversation = await idOf(e.engine.api, target);
  let page = await e.engine.api.call('messages.list', { conversation, limit: 200 });
  const all = [...page.messages];
  while (page.hasOlder) {
    page = await e.engine.api.call('messages.list', { conversation, limit: 200, before: all[0]!.id });
    all.unshift(...page.messages);
  }
  return options.notices ? all : all.filter((m) => !m.notice);
}

/** A private channel that `owner` creates and adds `members` to. */
export async function createChannel(owner: TestEngine, name: string, members: string[]): Promise<void> {
  await owner.engine.api.call('channels.create', { name });
  for (const username of members) await owner.engine.api.call('channels.add', { conversation: await idOf(owner.engine.api, `#${name}`), username });
}
