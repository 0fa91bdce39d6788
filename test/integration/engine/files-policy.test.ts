// The org policy's file rules, end to end: real engines and relay on loopback. The admin signs each rule with the
// org key; bob's engine adopts it as soon as the relay announces it (no restart, no minute of caching) and
// enforces it in his terms: files off, a type not allowed, too large, preview only (opens in the app, never
// saved). The relay enforces the switch and the size against a client that ignores the policy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ApiError } from '../../../core/api/contract.ts';
import { http, inviteCode, TestUser } from '../../support/server-client.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { scratchFiles } from '../../support/scratch-files.ts';

const refused = (pattern: RegExp) => (error: unknown) => error instanceof ApiError && error.code === 'FORBIDDEN' && pattern.test(error.message);

describe('engine: the org policy for files', () => {
  let org: TestOrg;
  let bob: TestEngine;
  let bare: TestUser;
  let toAdmin = '';
  const { dir: work, fileOf } = scratchFiles('wardroom-files-policy-');
  const policyVersion = async (e: TestEngine, version: number) =>
    e.waitFor(() => e.events.some((x) => x.name === 'policy.changed' && (x.payload as { version: number }).version >= version), 10_000, `policy version ${version}`);
  const set = async (change: Parameters<TestEngine['engine']['api']['call']>[1]) => {
    const next = await org.admin.engine.api.call('policy.set', change as never);
    await policyVersion(bob, next.version);
    return next;
  };

  before(async () => {
    org = await startOrg();
    bob = await org.addUser('bob');
    toAdmin = await idOf(bob.engine.api, '@admin');
    // an account that speaks to the relay directly, ignoring any policy: what the relay itself enforces
    const { link } = await org.admin.engine.api.call('org.invite', { admin: false });
    bare = await TestUser.signUp(org.url, 'mallory', inviteCode(link));
  });
  after(() => org.close());

  it('turns files off: bob is told so in his terms before anything uploads, and the relay refuses blobs', async () => {
    await set({ fileSharing: false });
    assert.equal((await bob.engine.api.call('files.policy', {})).enabled, false);
    await assert.rejects(bob.engine.api.call('messages.send', { conversation: toAdmin, attachments: [{ path: fileOf('a.txt', Buffer.from('hi')) }] }),
      refused(/your organisation's policy does not allow sending files/));
    await assert.rejects(bob.engine.api.call('files.stage', { size: 10 }), refused(/does not allow sending files/));
    const blob = await http(org.url, 'POST', '/v1/blobs', { token: bare.token, json: { size: 1000 } });
    assert.equal(blob.status, 403);
    assert.equal(blob.body.error?.code, 'files_disabled');
  });

  it('limits size and type: refused by bob\'s engine in his terms, and an oversize blob by the relay', async () => {
    const policy = await set({ fileSharing: null, maxFileBytes: 64 * 1024, allowedFileTypes: ['image/*', 'application/pdf'] });
    assert.equal(policy.maxFileBytes, 64 * 1024);
    assert.deepEqual(await bob.engine.api.call('files.policy', {}), { enabled: true, maxBytes: 64 * 1024, allowedTypes: ['image/*', 'application/pdf'], previewOnly: false });
    await assert.rejects(bob.engine.api.call('messages.send', { conversation: toAdmin, attachments: [{ path: fileOf('big.pdf', randomBytes(64 * 1024 + 1)) }] }),
      refused(/big\.pdf is 65,537 bytes; your organisation's policy allows files up to 65,536/));
    await assert.rejects(bob.engine.api.call('messages.send', { conversation: toAdmin, attachments: [{ path: fileOf('tool.zip', randomBytes(100)) }] }),
      refused(/does not allow application\/zip files \(tool\.zip\)/));
    const sent = await bob.engine.api.call('messages.send', { conversation: toAdmin, attachments: [{ path: fileOf('form.pdf', randomBytes(1000)) }] });
    assert.equal(sent.files?.[0]?.mime, 'application/pdf', 'an allowed type within the size goes');
    // bytes staged by the web shell: staging knows only a size, and the name and type given with the send are judged
    const staged = async (name: string, mime: string) => {
      const { staged: id } = await bob.engine.api.call('files.stage', { size: 3 });
      await bob.engine.api.call('files.stageChunk', { staged: id, offset: 0, data: Buffer.from('abc').toString('base64') });
      return bob.engine.api.call('messages.send', { conversation: toAdmin, attachments: [{ staged: id, name, mime }] });
    };
    assert.equal((await staged('scan.png', 'image/png')).files?.[0]?.name, 'scan.png', 'a staged image goes under a policy of allowed types');
    await assert.rejects(staged('setup.exe', 'image/png'), refused(/does not allow application\/octet-stream files \(setup\.exe\)/));
    const oversize = await http(org.url, 'POST', '/v1/blobs', { token: bare.token, json: { size: 200 * 1024 } });
    assert.equal(oversize.status, 413, 'the relay refuses what the policy does not allow, whatever the client says');
    assert.equal(oversize.body.error?.code, 'file_too_large');
    assert.equal((await http(org.url, 'POST', '/v1/blobs', { token: bare.token, json: { size: 60 * 1024 } })).status, 201, 'and takes what it allows');
  });

  it('bob\'s engine judges a file he received by the rules in force when he opens or saves it, its name\'s type too', async () => {
    await set({ maxFileBytes: null, allowedFileTypes: null });
    const toBob = await idOf(org.admin.engine.api, '@bob');
    // sent while anything went: a zip, a program its sender declared as an image, and a large image
    const { staged } = await org.admin.engine.api.call('files.stage', { size: 2 });
    await org.admin.engine.api.call('files.stageChunk', { staged, offset: 0, data: Buffer.from('MZ').toString('base64') });
    const sent = await org.admin.engine.api.call('messages.send', { conversation: toBob, attachments: [
      { path: fileOf('tool.zip', randomBytes(100)) }, { staged, name: 'invoice.exe', mime: 'image/png' }, { path: fileOf('poster.png', randomBytes(100 * 1024)) },
    ] });
    await bob.waitFor(() => bob.received().find((m) => m.id === sent.id), 15_000, 'the files');
    await set({ maxFileBytes: 64 * 1024, allowedFileTypes: ['image/*'] });
    const dir = mkdtempSync(path.join(work, 'received-'));
    for (const [index, why] of [[0, /does not allow application\/zip files \(tool\.zip\)/], [1, /does not allow application\/octet-stream files \(invoice\.exe\)/],
      [2, /poster\.png is 102,400 bytes; your organisation's policy allows files up to 65,536/]] as const) {
      await assert.rejects(bob.engine.api.call('files.download', { message: sent.id, index, dir }), refused(why));
      await assert.rejects(bob.engine.api.call('files.open', { message: sent.id, index }), refused(why));
    }
    await set({ fileSharing: false, maxFileBytes: null, allowedFileTypes: null });
    await assert.rejects(bob.engine.api.call('files.download', { message: sent.id, index: 2, dir }), refused(/does not allow opening or saving files/));
    assert.deepEqual(readdirSync(dir), [], 'nothing was written');
    await set({ fileSharing: null });
    assert.equal(path.basename((await bob.engine.api.call('files.download', { message: sent.id, index: 2, dir })).path), 'poster.png', 'lifted: it saves');
  });

  it('preview only: a received file opens in the app and is read from the vault, but is never saved to disk', async () => {
    await set({ maxFileBytes: null, allowedFileTypes: null });
    const bytes = randomBytes(300 * 1024);
    const sent = await org.admin.engine.api.call('messages.send', { conversation: await idOf(org.admin.engine.api, '@bob'), attachments: [{ path: fileOf('plan.bin', bytes) }] });
    await bob.waitFor(() => bob.received().find((m) => m.id === sent.id), 15_000, 'the file');
    await set({ filePreviewOnly: true });
    assert.equal((await bob.engine.api.call('files.policy', {})).previewOnly, true);
    const dir = mkdtempSync(path.join(work, 'downloads-'));
    await assert.rejects(bob.engine.api.call('files.download', { message: sent.id, dir }), refused(/opened in the app only, not saved/));
    assert.deepEqual(readdirSync(dir), [], 'nothing was written');
    const opened = await bob.engine.api.call('files.open', { message: sent.id });
    assert.equal(opened.cached, true);
    const read = await bob.engine.api.call('files.read', { message: sent.id, index: 0, offset: 0, length: 1024 });
    assert.deepEqual(Buffer.from(read.data, 'base64'), bytes.subarray(0, 1024));
    await set({ filePreviewOnly: null });
    const saved = await bob.engine.api.call('files.download', { message: sent.id, dir });
    assert.equal(path.basename(saved.path), 'plan.bin', 'lifted: saving works again');
  });

});
