// Real engines enrolled on a relay that runs as a separate process (test/support/server-process.ts), for the
// tests that SIGKILL or SIGSTOP the relay. Same shape as startOrg in engines.ts, which runs its relay in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventName, EventPayload, MessageViewT } from '../../core/api/contract.ts';
import { Engine, type EngineOptions } from '../../core/engine/engine.ts';
import { join } from '../../core/engine/enrol.ts';
import { PASSPHRASE, type TestEngine } from './engines.ts';
import { TEST_KDF } from './vault-helpers.ts';

const EVENT_NAMES: EventName[] = ['connection.state', 'message.received', 'message.updated', 'message.removed', 'conversation.updated', 'message.undecryptable', 'contact.keyChanged', 'contact.deviceAdded'];

/** Records every event of an engine (like engines.ts does) and reopens its profile with the same options. */
export function watch(engine: Engine, profileDir: string, options: Partial<EngineOptions> = {}, opened?: Set<Engine>): TestEngine {
  opened?.add(engine);
  const events: { name: EventName; payload: unknown }[] = [];
  const waiters = new Set<() => void>();
  for (const name of EVENT_NAMES) {
    engine.api.on(name, (payload: EventPayload<typeof name>) => {
      events.push({ name, payload });
      for (const w of [...waiters]) w();
    });
  }
  return {
    engine, username: engine.username, profileDir, events,
    received: () => events.filter((e) => e.name === 'message.received').map((e) => e.payload as MessageViewT),
    waitFor<T>(find: () => T | undefined | false | null, timeoutMs = 15_000, what = 'a condition'): Promise<T> {
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const value = find();
          if (!value) return;
          waiters.delete(check);
          clearTimeout(timer);
          clearInterval(poll);
          resolve(value);
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
      return watch(await Engine.open({ profileDir, passphrase: PASSPHRASE, ...options }), profileDir, options, opened);
    },
  };
}

export interface SpawnedOrg {
  admin: TestEngine;
  addUser(username: string, options?: Partial<EngineOptions>): Promise<TestEngine>;
  /** Opens an enrolled profile again (after its engine was closed, or its process killed). */
  open(profileDir: string, options?: Partial<EngineOptions>): Promise<TestEngine>;
  /** Closes every engine opened through this org and deletes the profiles. */
  close(): Promise<void>;
}

/** Enrols an admin (named `adminName`) with the relay's first admin invite; users join with invites the admin creates. */
export async function orgOn(firstAdminInvite: string, options: Partial<EngineOptions> = {}, adminName = 'admin'): Promise<SpawnedOrg> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-spawned-org-'));
  const opened = new Set<Engine>();
  if (process.env.WARDROOM_TEST_LOG && !options.log) options = { ...options, log: (line) => console.error(`[engine] ${line}`) };
  const enrol = async (invite: string, username: string, extra: Partial<EngineOptions>) => {
    const profileDir = path.join(root, username);
    const { vault } = await join({ profileDir, passphrase: PASSPHRASE, kdf: TEST_KDF }, invite, username, Date.now());
    const all = { ...options, ...extra };
    return watch(await Engine.start(vault, { profileDir, passphrase: PASSPHRASE, ...all }), profileDir, all, opened);
  };
  const admin = await enrol(firstAdminInvite, adminName, {});
  return {
    admin,
    async addUser(username, extra = {}) {
      const { link } = await admin.engine.api.call('org.invite', { admin: false });
      return enrol(link, username, extra);
    },
    async open(profileDir, extra = {}) {
      const all = { ...options, ...extra };
      return watch(await Engine.open({ profileDir, passphrase: PASSPHRASE, ...all }), profileDir, all, opened);
    },
    async close() {
      await Promise.all([...opened].map((e) => e.close().catch(() => {})));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
