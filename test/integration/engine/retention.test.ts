// Record-keeping that everyone can see: the org turns retention on with a signed policy, and the archive (an
// ordinary account) becomes a visible member of every conversation and receives every message, edit and deletion,
// also what expired for the users; its export verifies, and fails naming the line when one is altered, removed,
// moved or appended. A relay serving an unsigned retention-on policy makes no one send to the archive; retention
// off stops the copies, and every change is announced in every conversation.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import { verifyExport } from '../../../core/engine/retention/chain.ts';
import { history, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';
import { tempDir } from '../../support/server-client.ts';

const CONTENT = new Set(['message', 'edit', 'delete', 'reaction', 'attachment']);
const noticeIn = (e: TestEngine, conversation: string, notice: string) =>
  e.received().find((m) => m.conversation === conversation && m.notice === notice);

describe('retention', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let alice: TestEngine;
  let bob: TestEngine;
  let archive: TestEngine;
  let ops: string;
  let dm: string;
  const dir = tempDir();
  const exportTo = async (name: string) => {
    const file = path.join(dir, name);
    await archive.engine.api.call('archive.export', { out: file });
    return readFileSync(file, 'utf8').trimEnd().split('\n');
  };
  let exports = 0;
  /** The records of what people wrote (membership, timer and retention records are counted apart). */
  const records = async () => {
    await archive.engine.api.call('archive.sync', {});
    return (await exportTo(`count-${++exports}.jsonl`)).filter((l) => CONTENT.has((JSON.parse(l) as { type: string }).type)).length;
  };

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    archive = await org.addUser('archive');
    assert.equal((await archive.engine.api.call('archive.sync', {})).archiving, true, 'archive mode on');
    await alice.engine.api.call('channels.create', { name: 'ops' });
    ops = await idOf(alice.engine.api, '#ops');
    await alice.engine.api.call('channels.add', { conversation: ops, username: 'bob' });
    dm = await idOf(alice.engine.api, '@bob');
    await alice.engine.api.call('messages.send', { conversation: dm, text: 'before retention' });
    await bob.waitFor(() => bob.received().find((m) => m.text === 'before retention'), 15_000, 'the first DM');
    // the org key is registered with a first policy that says nothing about retention
    await org.admin.engine.api.call('policy.set', { maxExpireSeconds: 30 * 86_400 });
    await alice.waitFor(() => alice.events.some((e) => e.name === 'policy.changed'), 10_000, 'the first policy');
  });
  after(() => org.close());

  it('is not turned on by a relay serving an unsigned retention-on policy', async () => {
    const forged = utf8(JSON.stringify({ version: 9, retention: true, archiveAccount: 'archive' }));
    relay.rewriteReply = (p, body) => (p === '/v1/org'
      ? { ...(body as object), policy: { version: 9, document: { data: toBase64Url(forged), signature: toBase64Url(new Uint8Array(64)) } } } : body);
    try {
      await assert.rejects(alice.engine.api.call('policy.get', {}), /not signed/);
      const me = await alice.engine.api.call('account.whoami', {});
      assert.equal(me.retention?.on, false);
      assert.equal(me.retention?.notice, undefined);
      await alice.engine.api.call('messages.send', { conversation: dm, text: 'not for the archive' });
      await alice.engine.api.call('messages.send', { conversation: ops, text: 'channel, not for the archive' });
      await bob.waitFor(() => bob.received().find((m) => m.text === 'channel, not for the archive'), 15_000, 'the channel message');
      assert.equal(await records(), 0, 'the archive received nothing');
      assert.ok(!(await alice.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'), 'nobody added it');
      assert.ok(!(await alice.engine.api.call('conversations.resolve', { target: '@bob' })).members.includes('archive'));
    } finally {
      relay.rewriteReply = (_p, body) => body;
    }
  });

  it('on: everyone is told in every conversation, the archive is a member of each, and receives everything, also what expired for the users', async () => {
    await org.admin.engine.api.call('policy.set', { retention: true, archiveAccount: 'archive' });
    for (const e of [alice, bob]) {
      await e.waitFor(() => noticeIn(e, ops, 'retention-on'), 15_000, 'the retention notice in #ops');
      await e.waitFor(() => noticeIn(e, e === alice ? dm : `d:alice`, 'retention-on'), 15_000, 'the retention notice in the DM');
      const me = await e.engine.api.call('account.whoami', {});
      assert.deepEqual(me.retention, { on: true, archiveAccount: 'archive', notice: me.retention?.notice });
      assert.match(me.retention!.notice!, /^Retention is on in this workspace/);
    }
    // alice owns #ops: her device adds the archive, which every member sees in the member list
    for (let i = 0; i < 100 && !(await bob.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await bob.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'), 'the archive is listed in #ops');
    assert.ok((await bob.engine.api.call('conversations.resolve', { target: '@alice' })).members.includes('archive'), 'and in the DM');

    const posted = await alice.engine.api.call('messages.send', { conversation: ops, text: 'channel message kept' });
    await archive.engine.api.call('archive.sync', {}); // it holds alice's sender key for #ops now
    // the archive is offline until the DM's deadline has passed: the relay keeps its copy all the same
    await archive.engine.close();
    const gone = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@alice'), text: 'dm that expires', timers: { expiresInSeconds: 5 } });
    await alice.waitFor(() => alice.received().find((m) => m.id === gone.id), 15_000, 'the expiring DM');
    await alice.engine.api.call('messages.edit', { id: posted.id, text: 'channel message, edited' });
    const doomed = await alice.engine.api.call('messages.send', { conversation: dm, text: 'dm deleted later' });
    await alice.engine.api.call('messages.delete', { id: doomed.id });
    await alice.waitFor(() => alice.events.find((e) => e.name === 'message.removed' && (e.payload as { id: string }).id === gone.id), 15_000, 'the DM expired for alice');
    await bob.waitFor(() => bob.events.find((e) => e.name === 'message.removed' && (e.payload as { id: string }).id === gone.id), 15_000, 'and for bob');
    assert.ok(!(await history(bob, '@alice')).some((m) => m.id === gone.id));
    archive = await archive.reopen();

    for (let i = 0; i < 50 && (await records()) < 5; i++) await new Promise((r) => setTimeout(r, 200));
    const lines = (await exportTo('on.jsonl')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const all = lines.slice(1, -1);
    const events = all.filter((e) => CONTENT.has(e.type as string));
    const find = (type: string, text?: string) => events.find((e) => e.type === type && (text === undefined || e.text === text));
    assert.deepEqual(events.map((e) => e.type).sort(), ['delete', 'edit', 'message', 'message', 'message']);
    // what members saw as notices is on record too: alice adding the archive to #ops, and retention turned on
    const added = all.find((e) => e.type === 'membership' && e.change === 'add' && (e.people as string[]).includes('archive'))!;
    assert.equal(added.conversation, `c:${ops.slice(2)}`);
    assert.equal(added.sender, 'alice');
    assert.equal(added.device, alice.engine.deviceId);
    assert.deepEqual(all.filter((e) => e.type === 'retention').map((e) => e.on), [true]);
    const channel = find('message', 'channel message kept')!;
    assert.equal(channel.conversation, `c:${ops.slice(2)}`);
    assert.equal(channel.channel, 'ops', 'the archive reads the channel\'s name');
    assert.equal(channel.sender, 'alice');
    assert.equal(channel.device, alice.engine.deviceId);
    const expired = find('message', 'dm that expires')!;
    assert.equal(expired.conversation, 'd:alice,bob', 'a DM is named by both people');
    assert.ok(expired.expiresAt, 'kept though it expired everywhere else');
    assert.equal(find('edit')!.target, posted.id);
    assert.equal(find('edit')!.text, 'channel message, edited');
    assert.equal(find('delete')!.target, doomed.id);
    assert.ok(find('message', 'dm deleted later'), 'the deleted message is still on record');
    for (const e of events) for (const field of ['sentAt', 'relayAt', 'receivedAt']) assert.ok(!Number.isNaN(Date.parse(e[field] as string)), field);
  });

  it('exports a record that verifies, and names the first bad line when one is altered, removed, moved or appended', async () => {
    const lines = await exportTo('check.jsonl');
    const good = await verifyExport(path.join(dir, 'check.jsonl'));
    assert.ok(good.ok);
    assert.equal(good.records, lines.length - 2);
    assert.equal(good.archive, 'archive');
    const status = await archive.engine.api.call('archive.sync', {});
    assert.equal(good.fingerprint, status.fingerprint, 'signed by the archive account\'s key');
    assert.ok((await verifyExport(path.join(dir, 'check.jsonl'), status.fingerprint)).ok, '--key with the right fingerprint');
    assert.deepEqual(await verifyExport(path.join(dir, 'check.jsonl'), 'x'.repeat(43)), { ok: false, line: 1, reason: `signed by the key ${good.fingerprint}, not the one given with --key`, fingerprint: good.fingerprint });

    const check = async (name: string, changed: string[]) => {
      const file = path.join(dir, `${name}.jsonl`);
      writeFileSync(file, `${changed.join('\n')}\n`);
      const result = await verifyExport(file);
      assert.equal(result.ok, false, name);
      return result as { line: number; reason: string };
    };
    const altered = [...lines];
    const texted = altered.findIndex((l) => l.includes('"text":'));
    altered[texted] = altered[texted]!.replace(/"text":"[^"]*"/, '"text":"something else"');
    assert.equal((await check('altered', altered)).line, texted + 1, 'an altered record is named');
    assert.equal((await check('removed', lines.filter((_, i) => i !== 2))).line, 3, 'the line where a removed record was');
    const moved = [...lines];
    [moved[2], moved[3]] = [moved[3]!, moved[2]!];
    assert.equal((await check('moved', moved)).line, 3, 'the first of two swapped lines');
    const appended = await check('appended', [...lines, lines[2]!]);
    assert.equal(appended.line, lines.length + 1);
    assert.match(appended.reason, /after the signed end/);
    const inserted = [...lines.slice(0, -1), lines[2]!, lines.at(-1)!];
    assert.equal((await check('inserted', inserted)).line, lines.length, 'a record inserted before the end');
    assert.match((await check('cut', lines.slice(0, -1))).reason, /no signed end/);
    // a chain rebuilt after a change needs the archive's key to sign its end: any other signature fails
    const resigned = [...lines];
    resigned[resigned.length - 1] = resigned.at(-1)!.replace(/"signature":"(.)/, (_m, c: string) => `"signature":"${c === 'A' ? 'B' : 'A'}`);
    assert.match((await check('resigned', resigned)).reason, /signature does not verify/);
  });

  it('off: everyone is told, the archive leaves the channels, and nothing more is copied to it', async () => {
    const before = await records();
    await org.admin.engine.api.call('policy.set', { retention: false });
    for (const e of [alice, bob]) {
      await e.waitFor(() => noticeIn(e, ops, 'retention-off'), 15_000, 'the retention-off notice');
      const me = await e.engine.api.call('account.whoami', {});
      assert.equal(me.retention?.on, false);
      assert.equal(me.retention?.notice, undefined);
    }
    for (let i = 0; i < 100 && (await bob.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!(await bob.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'), 'the archive left #ops');
    assert.ok(!(await alice.engine.api.call('conversations.resolve', { target: '@bob' })).members.includes('archive'));
    await alice.engine.api.call('messages.send', { conversation: dm, text: 'after retention' });
    await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '#ops'), text: 'channel after retention' });
    await alice.waitFor(() => alice.received().find((m) => m.text === 'channel after retention'), 15_000, 'the channel message');
    await bob.waitFor(() => bob.received().find((m) => m.text === 'after retention'), 15_000, 'the DM');
    assert.equal(await records(), before, 'the archive received no copy');
  });

  it('off: the archive put in a channel by hand gets no sender keys, so no one can add it without the notice', async () => {
    const before = await records();
    await alice.engine.api.call('channels.add', { conversation: ops, username: 'archive' });
    for (let i = 0; i < 100 && !(await bob.engine.api.call('conversations.resolve', { target: '#ops' })).members.includes('archive'); i++) await new Promise((r) => setTimeout(r, 100));
    await alice.engine.api.call('messages.send', { conversation: ops, text: 'archive listed, retention off' });
    await bob.engine.api.call('messages.send', { conversation: ops, text: 'from bob, retention off' });
    await alice.waitFor(() => alice.received().find((m) => m.text === 'from bob, retention off'), 15_000, 'bob\'s message');
    await bob.waitFor(() => bob.received().find((m) => m.text === 'archive listed, retention off'), 15_000, 'alice\'s message');
    assert.equal(await records(), before, 'listed as a member, but given no key to read with');
    assert.ok(!archive.received().some((m) => m.text.includes('retention off')));
  });
});
