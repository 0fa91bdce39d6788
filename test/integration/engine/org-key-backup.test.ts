// The org key outlives the device that registered it: its admin exports a sealed backup and a code shown once, and
// a second device, or a profile restored with the recovery kit after the first device is gone, imports it and signs
// policy changes every member accepts; or it sends the key end to end to a newly linked device of the same account. A wrong code, another org's key or a non-admin gets a clear refusal and
// nothing is stored.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signingKeyPair, toBase64Url } from '../../../core/crypto/sodium.ts';
import { sealOrgKey } from '../../../core/protocol/org-key-backup.ts';
import { startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { tempDir } from '../../support/server-client.ts';

const code = (name: string) => (e: unknown) => (e as { code?: string }).code === name;

describe('org key backup', () => {
  let org: TestOrg;
  let bob: TestEngine;
  let backup: { file: string; code: string; org: string };
  const dir = tempDir();
  const versionAt = async (e: TestEngine) => (await e.engine.api.call('policy.get', {})).policy.version;

  before(async () => {
    org = await startOrg();
    bob = await org.addUser('bob');
    await org.admin.engine.api.call('policy.set', { maxExpireSeconds: 7 * 86_400 }); // registers the org key on this device
  });
  after(() => org.close());

  it('exports the key sealed in a new file, with the code that opens it shown once', async () => {
    backup = await org.admin.engine.api.call('orgKey.export', { out: path.join(dir, 'org.key') });
    assert.equal(backup.org, (await org.admin.engine.api.call('policy.get', {})).org);
    const text = readFileSync(backup.file, 'utf8');
    assert.match(text, /^WOK1\.[A-Za-z0-9_-]+\n$/);
    assert.ok(!text.includes(backup.code.replace(/-/g, '')), 'the code is not in the file');
    assert.equal(statSync(backup.file).mode & 0o777, 0o600);
    await assert.rejects(org.admin.engine.api.call('orgKey.export', { out: backup.file }), /exists already/);
    await assert.rejects(bob.engine.api.call('orgKey.export', { out: path.join(dir, 'bob.key') }), code('FORBIDDEN'), 'a device without the key has none to export');
  });

  it('a second admin device imports it and signs a policy change everyone accepts; wrong codes and other orgs\' keys are refused', async () => {
    const second = await org.linkDevice(org.admin);
    assert.equal((await second.engine.api.call('policy.get', {})).canSign, false);
    await assert.rejects(second.engine.api.call('policy.set', { maxExpireSeconds: 86_400 }), /org-key import/, 'says how to get the key here');

    const other = sealOrgKey(signingKeyPair());
    const otherFile = path.join(dir, 'other.key');
    writeFileSync(otherFile, `WOK1.${toBase64Url(other.backup)}\n`);
    await assert.rejects(second.engine.api.call('orgKey.import', { file: otherFile, code: other.code }), /another organisation's key/);
    await assert.rejects(second.engine.api.call('orgKey.import', { file: backup.file, code: other.code }), /does not open/);
    await assert.rejects(second.engine.api.call('orgKey.import', { file: backup.file, code: (backup.code.startsWith('A') ? 'B' : 'A') + backup.code.slice(1) }), code('INVALID'), 'a typo');
    const notBackup = path.join(dir, 'notes.txt');
    writeFileSync(notBackup, 'minutes of the meeting\n');
    await assert.rejects(second.engine.api.call('orgKey.import', { file: notBackup, code: backup.code }), /not an org key backup/);
    await assert.rejects(bob.engine.api.call('orgKey.import', { file: backup.file, code: backup.code }), code('FORBIDDEN'), 'only admins hold the org key');
    assert.equal((await second.engine.api.call('policy.get', {})).canSign, false, 'nothing was kept');

    assert.deepEqual(await second.engine.api.call('orgKey.import', { file: backup.file, code: backup.code }), { org: backup.org });
    assert.equal((await second.engine.api.call('policy.get', {})).canSign, true);
    const before = await versionAt(bob);
    const signed = await second.engine.api.call('policy.set', { maxExpireSeconds: 86_400 });
    assert.equal(signed.version, before + 1);
    assert.equal(await versionAt(bob), before + 1, 'bob verifies it under the key he pinned');
    assert.equal((await bob.engine.api.call('policy.get', {})).policy.maxExpireSeconds, 86_400);
  });

  it('sends it end to end to a newly linked device of the same admin, which then signs policy changes', async () => {
    const third = await org.linkDevice(org.admin);
    await assert.rejects(bob.engine.api.call('orgKey.share', {}), code('FORBIDDEN'), 'bob holds no org key to share');
    const shared = await org.admin.engine.api.call('orgKey.share', {});
    assert.ok(shared.devices >= 2, 'to every other device of the account');
    for (let i = 0; i < 100 && !(await third.engine.api.call('policy.get', {})).canSign; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await third.engine.api.call('policy.get', {})).canSign, true, 'the new device keeps it');
    const before = await versionAt(bob);
    await third.engine.api.call('policy.set', { maxBurnSeconds: 3600 });
    assert.equal(await versionAt(bob), before + 1);
  });

  it('after the first admin device is lost, a profile restored with the recovery kit imports it and changes the policy', async () => {
    const kit = org.admin.recoveryKit!;
    await org.admin.engine.close(); // the device that registered the key, gone
    const restored = await org.linkDevice(org.admin, kit);
    await assert.rejects(restored.engine.api.call('policy.set', { retention: true, archiveAccount: 'bob' }), code('FORBIDDEN'));
    await restored.engine.api.call('orgKey.import', { file: backup.file, code: backup.code });
    const before = await versionAt(bob);
    await restored.engine.api.call('policy.set', { retention: true, archiveAccount: 'bob' });
    assert.equal(await versionAt(bob), before + 1);
    assert.equal((await bob.engine.api.call('account.whoami', {})).retention?.on, true, 'the change counts for everyone');
  });
});
