// Files in conversations, end to end: real engines, vaults and relay on loopback. A file goes to a DM and to a
// channel and comes back byte for byte; a blob damaged or cut short at the relay is refused and nothing is saved;
// a relay restart mid-upload and mid-download is ridden out from where it stopped; deleting for everyone takes the
// blob off the relay and the key and decrypted copy off every device; the relay enforces its size limit and never
// sees a file's name or type.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type DatabaseTypes from '../../../node_modules/better-sqlite3-multiple-ciphers/index.d.ts';
import { blobBytes, padme } from '../../../core/engine/files/blob-format.ts';
import { startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

const Database = createRequire(import.meta.url)('better-sqlite3-multiple-ciphers') as typeof DatabaseTypes;

describe('engine: files', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  let cat: TestEngine;
  const work = mkdtempSync(path.join(os.tmpdir(), 'wardroom-files-'));
  const inbox = (name: string) => mkdtempSync(path.join(work, `${name}-`));
  const fileOf = (name: string, bytes: Uint8Array) => {
    const file = path.join(work, name);
    writeFileSync(file, bytes);
    return file;
  };

  before(async () => {
    org = await startOrg({}, { maxBlobBytes: 64 * 1024 * 1024, blobQuotaBytes: 1024 ** 3 });
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    cat = await org.addUser('cat');
    await ann.engine.api.call('channels.create', { name: 'general' });
    await ann.engine.api.call('channels.add', { conversation: await idOf(ann.engine.api, '#general'), username: 'ben' });
    await ann.engine.api.call('channels.add', { conversation: await idOf(ann.engine.api, '#general'), username: 'cat' });
  });
  after(() => org.close());

  const arrives = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `message ${id}`);
  const blobFiles = () => {
    const dir = path.join(org.server.dataDir, 'blobs');
    return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name)) : [];
  };
  const relayDb = () => new Database(path.join(org.server.dataDir, 'wardroom-server.db'));

  it('sends a file to a DM with an image thumbnail, and the other side saves it byte for byte', async () => {
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 30, b: 60 } } }).png().toBuffer();
    const file = fileOf('holiday photo.png', png);
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'look', attachments: [{ path: file }] });
    assert.equal(sent.files?.length, 1);
    assert.equal(sent.files![0]!.name, 'holiday photo.png');
    assert.equal(sent.files![0]!.mime, 'image/png');
    const got = await arrives(ben, sent.id);
    assert.equal(got.text, 'look');
    const [view] = got.files!;
    assert.equal(view!.size, png.length);
    assert.ok(view!.thumbnail, 'an image carries a thumbnail');
    assert.equal(view!.thumbnail.mime, 'image/webp');
    assert.ok(view!.thumbnail.width <= 160 && view!.thumbnail.height <= 160);
    const thumb = await sharp(Buffer.from(view!.thumbnail.data, 'base64')).metadata();
    assert.equal(thumb.width, view!.thumbnail.width, 'the thumbnail decodes');
    const dir = inbox('ben');
    const saved = await ben.engine.api.call('files.download', { message: sent.id, dir });
    assert.equal(saved.path, path.join(dir, 'holiday photo.png'));
    assert.deepEqual(readFileSync(saved.path), png);
    assert.deepEqual(readdirSync(dir), ['holiday photo.png'], 'no partial file is left behind');
    const again = await ben.engine.api.call('files.download', { message: sent.id, dir });
    assert.equal(again.path, path.join(dir, 'holiday photo (1).png'), 'an existing file is never replaced');
  });

  it('sends several files to a channel; every member downloads them, and files.open/read serve them from the vault', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 12345);
    const notes = Buffer.from('minutes of the meeting\n');
    const sent = await ann.engine.api.call('messages.send', {
      conversation: await idOf(ann.engine.api, '#general'), attachments: [{ path: fileOf('data.bin', big) }, { path: fileOf('notes.txt', notes) }], operation: 'up1',
    });
    assert.equal(sent.text, '');
    const progress = ann.events.filter((e) => e.name === 'operation.progress' && (e.payload as { operation: string }).operation === 'up1').map((e) => e.payload as { done: number; total: number });
    assert.ok(progress.length > 2, 'progress was reported');
    assert.equal(progress.at(-1)!.done, progress.at(-1)!.total, 'up to the whole');
    assert.equal(progress.at(-1)!.total, blobBytes(big.length) + blobBytes(notes.length));
    for (const member of [ben, cat]) {
      const got = await arrives(member, sent.id);
      assert.deepEqual(got.files!.map((f) => [f.name, f.mime, f.size]), [['data.bin', 'application/octet-stream', big.length], ['notes.txt', 'text/plain', notes.length]]);
      const dir = inbox(member.username);
      assert.deepEqual(readFileSync((await member.engine.api.call('files.download', { message: sent.id, index: 0, dir })).path), big);
      assert.deepEqual(readFileSync((await member.engine.api.call('files.download', { message: sent.id, index: 1, dir })).path), notes);
    }
    const opened = await cat.engine.api.call('files.open', { message: sent.id, index: 0 });
    assert.equal(opened.cached, true);
    const slice = await cat.engine.api.call('files.read', { message: sent.id, index: 0, offset: 1024 * 1024 - 10, length: 100 });
    assert.deepEqual(Buffer.from(slice.data, 'base64'), big.subarray(1024 * 1024 - 10, 1024 * 1024 + 90));
    assert.equal(slice.eof, false);
    const tail = await cat.engine.api.call('files.read', { message: sent.id, index: 0, offset: big.length - 5, length: 100 });
    assert.deepEqual(Buffer.from(tail.data, 'base64'), big.subarray(big.length - 5));
    assert.equal(tail.eof, true);
  });

  it('stages bytes for a caller without a path (the web shell) and sends them', async () => {
    const bytes = randomBytes(1024 * 1024 + 7);
    const { staged } = await ann.engine.api.call('files.stage', { size: bytes.length });
    await assert.rejects(ann.engine.api.call('files.stageChunk', { staged, offset: 0, data: bytes.subarray(0, 1000).toString('base64') }), /bytes a chunk/);
    await ann.engine.api.call('files.stageChunk', { staged, offset: 0, data: bytes.subarray(0, 1024 * 1024).toString('base64') });
    await ann.engine.api.call('files.stageChunk', { staged, offset: 1024 * 1024, data: bytes.subarray(1024 * 1024).toString('base64') });
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ staged, name: 'pasted.bin' }] });
    await arrives(ben, sent.id);
    assert.deepEqual(readFileSync((await ben.engine.api.call('files.download', { message: sent.id, dir: inbox('staged') })).path), bytes);
    assert.equal(readdirSync(path.join(ann.profileDir, 'staging')).length, 0, 'the staged copy is gone once sent');
  });

  it('leaves no staged bytes behind that will not be sent: unstaged, refused, or cancelled before the upload began', async () => {
    const staging = path.join(ann.profileDir, 'staging');
    const stagedFiles = () => (existsSync(staging) ? readdirSync(staging) : []);
    const stage = async (bytes: Buffer) => {
      const { staged } = await ann.engine.api.call('files.stage', { size: bytes.length });
      await ann.engine.api.call('files.stageChunk', { staged, offset: 0, data: bytes.toString('base64') });
      assert.equal(stagedFiles().length, 1, 'staged');
      return staged;
    };
    // the web shell's cancel while a file was still staging
    await ann.engine.api.call('files.unstage', { staged: await stage(randomBytes(100)) });
    assert.deepEqual(stagedFiles(), [], 'unstaged: gone at once');
    await assert.rejects(ann.engine.api.call('messages.send', { conversation: 'd:nobody', attachments: [{ staged: await stage(randomBytes(100)), name: 'lost.bin' }] }),
      (e: { code: string }) => e.code === 'NOT_FOUND');
    assert.deepEqual(stagedFiles(), [], 'refused before anything went: the staged bytes went too');
    const blobs = blobFiles().length;
    const sending = ann.engine.api.call('messages.send', {
      conversation: await idOf(ann.engine.api, '@ben'), text: 'never sent', attachments: [{ staged: await stage(randomBytes(100)), name: 'early.bin' }], operation: 'early-cancel',
    });
    // cancelled while the policy is asked for and the blob made, before any byte is uploaded
    assert.deepEqual(await ann.engine.api.call('operations.cancel', { operation: 'early-cancel' }), { cancelled: true }, 'the operation exists from the start of the send');
    await assert.rejects(sending, (e: { code: string }) => e.code === 'CANCELLED');
    assert.deepEqual(stagedFiles(), []);
    assert.equal(blobFiles().length, blobs, 'no blob left at the relay');
    const { messages } = await ann.engine.api.call('messages.list', { conversation: await idOf(ann.engine.api, '@ben') });
    assert.ok(!messages.some((m) => m.text === 'never sent'), 'nothing was sent');
  });

  /** Sends a file to ben and answers with the message and the path of its blob in the relay's data directory. */
  const sendToBen = async (bytes: Uint8Array, name: string) => {
    const known = new Set(blobFiles());
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: fileOf(name, bytes) }] });
    await arrives(ben, sent.id);
    const blob = blobFiles().find((f) => !known.has(f));
    assert.ok(blob, 'the blob is in the relay\'s data directory');
    return { sent, blob };
  };

  it('refuses a blob damaged at the relay, and one cut short, saving nothing', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const damaged = await sendToBen(bytes, 'damaged.bin');
    const content = readFileSync(damaged.blob);
    content[1024 * 1024 + 77]! ^= 0x01;
    writeFileSync(damaged.blob, content);
    const dir = inbox('refused');
    await assert.rejects(ben.engine.api.call('files.download', { message: damaged.sent.id, dir }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INVALID');
      assert.match(error.message, /does not authenticate.*nothing of it was kept/);
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], 'no file, not even a partial one');
    const attachments = path.join(ben.profileDir, 'attachments');
    const held = () => (existsSync(attachments) ? readdirSync(attachments).sort() : []);
    const before = held();
    await assert.rejects(ben.engine.api.call('files.open', { message: damaged.sent.id }), /does not authenticate/);
    assert.deepEqual(held(), before, 'never shown: nothing of it kept in the vault to show');

    const cut = await sendToBen(bytes, 'cut.bin');
    const blobId = path.basename(cut.blob);
    const keep = 1024 * 1024 + 100;
    truncateSync(cut.blob, keep);
    const db = relayDb();
    db.prepare('UPDATE blobs SET size = ?, uploaded = ? WHERE blob_id = ?').run(keep, keep, blobId);
    db.close();
    await assert.rejects(ben.engine.api.call('files.download', { message: cut.sent.id, dir }), /truncated.*nothing of it was kept/);
    assert.deepEqual(readdirSync(dir), []);
    await assert.rejects(ben.engine.api.call('files.open', { message: cut.sent.id }), /truncated.*nothing of it was kept/);
    assert.deepEqual(held(), before);
  });

  it('cancels a download and an open in the middle: CANCELLED, no file or partial saved, nothing kept in the vault', async () => {
    const bytes = randomBytes(24 * 1024 * 1024);
    const { sent } = await sendToBen(bytes, 'cancelled.bin');
    /** Cancels `operation` from inside its first progress event past the first bytes, while bytes are still coming. */
    const cancelOnceUnderWay = (operation: string) => {
      const stop = ben.engine.api.on('operation.progress', (p) => {
        if (p.operation !== operation || p.done === 0) return;
        stop();
        void ben.engine.api.call('operations.cancel', { operation });
      });
    };
    const dir = inbox('cancelled');
    cancelOnceUnderWay('down-cancel');
    await assert.rejects(ben.engine.api.call('files.download', { message: sent.id, dir, operation: 'down-cancel' }), (e: { code: string }) => e.code === 'CANCELLED');
    assert.deepEqual(readdirSync(dir), [], 'no file, and no partial file kept for a resume nobody asked for');
    const attachments = path.join(ben.profileDir, 'attachments');
    const held = () => (existsSync(attachments) ? readdirSync(attachments).sort() : []);
    const before = held();
    cancelOnceUnderWay('open-cancel');
    await assert.rejects(ben.engine.api.call('files.open', { message: sent.id, operation: 'open-cancel' }), (e: { code: string }) => e.code === 'CANCELLED');
    assert.deepEqual(held(), before, 'no attachment file, whole or partial, in the vault');
    const { messages } = await ben.engine.api.call('messages.list', { conversation: await idOf(ben.engine.api, '@ann'), limit: 5 });
    assert.equal(messages.find((m) => m.id === sent.id)?.files?.[0]?.cached, false, 'the file is not opened');
    assert.deepEqual(readFileSync((await ben.engine.api.call('files.download', { message: sent.id, dir })).path), bytes, 'a later download saves it whole');
  });

  it('rides out a relay restart in the middle of an upload, continuing where the relay stopped', async () => {
    const bytes = randomBytes(24 * 1024 * 1024);
    const progress = () => ann.events.filter((x) => x.name === 'operation.progress' && (x.payload as { operation: string }).operation === 'restart-up').map((x) => (x.payload as { done: number }).done);
    const sending = ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: fileOf('restart.bin', bytes) }], operation: 'restart-up' });
    await ann.waitFor(() => progress().some((d) => d > 4 * 1024 * 1024), 30_000, 'the upload under way');
    await org.restartServer();
    const sent = await sending;
    const done = progress();
    assert.ok(done.every((d, i) => i === 0 || d >= done[i - 1]!), 'the upload never went back to the start');
    await arrives(ben, sent.id);
    assert.deepEqual(readFileSync((await ben.engine.api.call('files.download', { message: sent.id, dir: inbox('restart') })).path), bytes);
  });

  it('deletes for everyone: the blob leaves the relay, and the key and decrypted copy leave every device', async () => {
    const bytes = randomBytes(300_000);
    const { sent, blob } = await sendToBen(bytes, 'secret plans.pdf');
    await ben.engine.api.call('files.open', { message: sent.id });
    const attachments = path.join(ben.profileDir, 'attachments');
    assert.equal(readdirSync(attachments).length > 0, true, 'ben holds a decrypted copy in his vault');
    const before = new Set(readdirSync(attachments));
    await ann.engine.api.call('messages.delete', { id: sent.id });
    await ann.waitFor(() => !existsSync(blob), 15_000, 'the blob to leave the relay');
    await ben.waitFor(() => ben.events.some((e) => e.name === 'message.removed' && (e.payload as { id: string }).id === sent.id), 15_000, 'the delete');
    await ben.waitFor(() => [...before].every((name) => !readdirSync(attachments).includes(name)), 15_000, 'the vault copy to be shredded');
    await assert.rejects(ben.engine.api.call('files.download', { message: sent.id, dir: inbox('gone') }), /no such file/);
  });

  it('is refused by the relay above its size limit, in one line, with nothing left there', async () => {
    const known = blobFiles().length;
    const file = path.join(work, 'huge.bin');
    writeFileSync(file, '');
    truncateSync(file, 65 * 1024 * 1024); // sparse: the relay's limit is 64 MiB
    await assert.rejects(ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: file }] }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FORBIDDEN');
      assert.match(error.message, /relay does not accept a file this large/);
      return true;
    });
    assert.equal(blobFiles().length, known);
  });

  it('shows the relay no name or type: not in its database, not in its blob files', async () => {
    const marker = 'zebra-quarterly-report';
    const { blob } = await sendToBen(Buffer.from('%PDF-1.7 body'), `${marker}.pdf`);
    for (const file of readdirSync(org.server.dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())) {
      const bytes = readFileSync(path.join(file.parentPath, file.name));
      assert.equal(bytes.includes(marker), false, `${file.name} holds the file's name`);
      assert.equal(bytes.includes('application/pdf'), false, `${file.name} holds the file's type`);
    }
    assert.equal(statSync(blob).size, padme(statSync(blob).size), 'the blob is a whole Padmé bucket: its exact size is hidden');
    assert.equal(statSync(blob).size, blobBytes(13));
  });

  it('refuses bad requests in one line: no file there, and an empty message', async () => {
    const dm = await idOf(ann.engine.api, '@ben');
    await assert.rejects(ann.engine.api.call('messages.send', { conversation: dm, attachments: [{ path: path.join(work, 'nope.bin') }] }), /no file at/);
    await assert.rejects(ann.engine.api.call('messages.send', { conversation: dm }), /the message is empty/);
    await assert.rejects(ann.engine.api.call('files.download', { message: 'AAAAAAAAAAAAAAAAAAAAAA', dir: work }), /no such file/);
  });
});
