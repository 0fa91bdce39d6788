// A link that ends without an approval: cancelled (Ctrl-C aborts link()'s signal) or its process killed. Its
// request must be gone from the relay, so an approval that comes later, with the code still on screen, finds
// nothing: before, it made an "active" device whose keys had died with the linking process, which nothing could
// remove. Also: a relay restart while the device waits does not strand it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { link } from '../../../core/engine/enrol.ts';
import { startOrg, PASSPHRASE, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { TEST_KDF } from '../../support/vault-helpers.ts';

const CHILD = path.join(import.meta.dirname, '..', '..', 'support', 'link-child.ts');
const profile = () => ({ profileDir: path.join(mkdtempSync(path.join(os.tmpdir(), 'wardroom-link-')), 'new-device'), passphrase: PASSPHRASE, kdf: TEST_KDF });

describe('engine: links that end without an approval', () => {
  const orgs: TestOrg[] = [];
  after(() => Promise.all(orgs.map((org) => org.close())));
  const activeDevices = async (org: TestOrg, user: TestEngine) => {
    const { accountId } = await user.engine.api.call('account.whoami', {});
    return org.server.store.listDevices(accountId).filter((d) => d.status === 'active').length;
  };

  it('a cancelled link withdraws its request: a later approval of its code finds nothing, and no profile is left', async () => {
    const org = await startOrg();
    orgs.push(org);
    const alice = await org.addUser('alice');
    const { link: invite } = await org.admin.engine.api.call('org.invite', { admin: false });
    const settings = profile();
    const cancel = new AbortController();
    const pending = await link(settings, invite, 'alice', Date.now(), { pollMs: 50, signal: cancel.signal });
    const listed = await alice.engine.api.call('devices.list', {});
    assert.equal(listed.devices.filter((d) => d.status === 'pending').length, 1, 'alice\'s device sees it waiting');

    cancel.abort(); // Ctrl-C
    await assert.rejects(pending.completed, /linking was cancelled/);
    assert.equal(existsSync(settings.profileDir), false, 'the half-made profile is gone');
    await assert.rejects(alice.engine.api.call('devices.approve', { code: pending.code }), (error: { code?: string }) => error.code === 'NOT_FOUND');
    assert.equal(await activeDevices(org, alice), 1, 'no device was made');
    assert.equal((await alice.engine.api.call('devices.list', {})).devices.length, 1);
  });

  it('a link whose process is killed lapses within seconds: its code cannot be approved after that', { timeout: 60_000 }, async () => {
    const org = await startOrg({}, { linkIdleMs: 500 });
    orgs.push(org);
    const bob = await org.addUser('bob');
    const { link: invite } = await org.admin.engine.api.call('org.invite', { admin: false });
    const child = spawn(process.execPath, [CHILD, profile().profileDir, PASSPHRASE, invite, 'bob'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [code] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    assert.match(code, /^WDL1\./);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // two idle periods without a poll
    await assert.rejects(bob.engine.api.call('devices.approve', { code }), (error: { code?: string }) => error.code === 'NOT_FOUND');
    assert.equal(await activeDevices(org, bob), 1);
  });

  it('a device waiting while the relay restarts asks again by itself, with the same code', { timeout: 60_000 }, async () => {
    const org = await startOrg();
    orgs.push(org);
    const carol = await org.addUser('carol');
    const { link: invite } = await org.admin.engine.api.call('org.invite', { admin: false });
    const pending = await link(profile(), invite, 'carol', Date.now(), { pollMs: 50 });
    await org.restartServer(); // the relay forgot every request
    for (let i = 0; ; i++) {
      const { devices } = await carol.engine.api.call('devices.list', {});
      if (devices.some((d) => d.status === 'pending')) break;
      assert.ok(i < 200, 'the waiting device asked again after the restart');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await carol.engine.api.call('devices.approve', { code: pending.code });
    const vault = await pending.completed;
    await vault.lock();
    assert.equal(await activeDevices(org, carol), 2);
  });
});
