// What the archive keeps besides text: the files people send (fetched from the relay, written beside the export and
// checked there against the digests its signed chain records), and the conversation timer changes members are told
// of. Real engines, a real relay on loopback, real files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { verifyExport } from '../../../core/engine/retention/chain.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { tempDir } from '../../support/server-client.ts';

type Line = Record<string, unknown> & { type: string };

describe('retention records', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;
  let archive: TestEngine;
  let dm: string;
  const dir = tempDir();
  const exportTo = async (name: string) => {
    const file = path.join(dir, name);
    const result = await archive.engine.api.call('archive.export', { out: file });
    return { file, result, lines: readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Line) };
  };

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
    archive = await org.addUser('archive');
    await archive.engine.api.call('archive.sync', {});
    await org.admin.engine.api.call('policy.set', { retention: true, archiveAccount: 'archive' });
    for (const e of [alice, bob]) await e.waitFor(() => e.events.some((x) => x.name === 'policy.changed'), 15_000, `retention on at ${e.username}`);
    dm = await idOf(alice.engine.api, '@bob');
  });
  after(() => org.close());

  it('keeps a conversation\'s timer changes as records of their own', async () => {
    await alice.engine.api.call('conversations.setTimer', { conversation: dm, expireSeconds: 3600, burnSeconds: 60 });
    await bob.waitFor(() => bob.received().find((m) => m.notice === 'timer-changed'), 15_000, 'the timer notice at bob');
    await archive.waitFor(() => archive.received().find((m) => m.notice === 'timer-changed'), 15_000, 'the timer change at the archive');
    const { lines } = await exportTo('timers.jsonl');
    const timer = lines.find((l) => l.type === 'timer')!;
    assert.ok(timer, 'a timer record');
    assert.equal(timer.conversation, 'd:alice,bob');
    assert.equal(timer.sender, 'alice');
    assert.equal(timer.device, alice.engine.deviceId);
    assert.equal(timer.expireSeconds, 3600);
    assert.equal(timer.burnSeconds, 60);
    await alice.engine.api.call('conversations.setTimer', { conversation: dm, expireSeconds: null, burnSeconds: null });
    await archive.waitFor(() => archive.received().filter((m) => m.notice === 'timer-changed').length === 2, 15_000, 'the timer turned off at the archive');
    const off = (await exportTo('timers-off.jsonl')).lines.filter((l) => l.type === 'timer').at(-1)!;
    assert.equal(off.expireSeconds, null, 'turning it off is on record too');
  });

  it('writes the files beside the export, fetching those it has not yet, and verify names a file altered or removed', async () => {
    const report = path.join(dir, 'report.pdf');
    const photo = path.join(dir, 'notes.txt');
    const reportBytes = randomBytes(1536 * 1024); // more than one chunk of the blob format
    writeFileSync(report, reportBytes);
    writeFileSync(photo, 'minutes of the meeting\n');
    const sent = await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@alice'), text: 'the files', attachments: [{ path: report }, { path: photo }] });
    // received live: no archive.sync, so the export itself fetches them
    await archive.waitFor(() => archive.received().find((m) => m.id === sent.id), 15_000, 'the files message at the archive');
    const { file, result, lines } = await exportTo('files.jsonl');
    assert.equal(result.files, 2);
    assert.equal(result.unavailable, 0);
    const record = lines.find((l) => l.type === 'attachment')!;
    assert.equal(record.text, 'the files');
    const files = record.attachment as { name: string; size: number; file: string }[];
    assert.deepEqual(files.map((f) => [f.name, f.size]), [['report.pdf', reportBytes.length], ['notes.txt', 23]]);
    const beside = (f: { file: string }) => path.join(`${file}.files`, f.file);
    assert.deepEqual(new Uint8Array(readFileSync(beside(files[0]!))), reportBytes, 'the plaintext, as sent');
    assert.equal(readFileSync(beside(files[1]!), 'utf8'), 'minutes of the meeting\n');

    const good = await verifyExport(file);
    assert.ok(good.ok, JSON.stringify(good));
    assert.equal(good.files, 2);
    const line = lines.indexOf(record) + 1;

    writeFileSync(beside(files[1]!), 'minutes of another meeting\n');
    const altered = await verifyExport(file);
    assert.deepEqual(altered.ok ? null : [altered.line, altered.file], [line, beside(files[1]!)]);
    assert.match(altered.ok ? '' : altered.reason, /notes\.txt.*altered/);

    rmSync(beside(files[0]!));
    const missing = await verifyExport(file);
    assert.deepEqual(missing.ok ? null : [missing.line, missing.file], [line, beside(files[0]!)], 'the first bad file is named');
    assert.match(missing.ok ? '' : missing.reason, /report\.pdf.*missing/);

    await assert.rejects(archive.engine.api.call('archive.export', { out: file }), /exists already/, 'an export never overwrites one');
  });

  it('names a file the relay let go before the archive fetched it as unavailable, and the export still verifies', async () => {
    const blobs = () => new Set(readdirSync(path.join(org.server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name));
    await archive.engine.close(); // offline while the file comes and goes
    const before = blobs();
    const photo = path.join(dir, 'gone.txt');
    writeFileSync(photo, 'gone before the archive looked\n');
    await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@alice'), text: 'short-lived file', attachments: [{ path: photo }] });
    const added = [...blobs()].filter((b) => !before.has(b));
    assert.equal(added.length, 1);
    // what the relay's sweep does to a blob whose time is up
    org.server.store.deleteBlob(added[0]!);
    rmSync(path.join(org.server.dataDir, 'blobs', added[0]!.slice(0, 2), added[0]!));
    archive = await archive.reopen();
    const status = await archive.engine.api.call('archive.sync', {});
    assert.ok(status.records > 0);
    const { file, result, lines } = await exportTo('gone.jsonl');
    assert.equal(result.unavailable, 1);
    const [gone] = (lines.find((l) => l.text === 'short-lived file')!.attachment as { name: string; file?: string; unavailable?: string }[]);
    assert.equal(gone!.name, 'gone.txt');
    assert.equal(gone!.file, undefined);
    assert.match(gone!.unavailable!, /no longer holds the file/);
    const checked = await verifyExport(file);
    assert.ok(checked.ok, 'what was unavailable is said in the signed record, not hidden');
  });
});
