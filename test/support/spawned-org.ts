// Real engines enrolled on a relay that runs as a separate process (test/support/server-process.ts), for the
// tests that SIGKILL or SIGSTOP the relay. Same shape as startOrg in engines.ts, which runs its relay in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine, type EngineOptions } from '../../core/engine/engine.ts';
import { join } from '../../core/engine/enrol.ts';
import { PASSPHRASE, watch, type TestEngine } from './engines.ts';
import { TEST_KDF } from './vault-helpers.ts';

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
  const opened: TestEngine[] = [];
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
      await Promise.all(opened.map((e) => e.engine.close().catch(() => {})));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
