// Messages that carry files, beyond the transfer itself: a quoted reply that has files stays a quoted reply (in the
// conversation, naming what it answers, not hidden in a thread) on both sides, whatever the message it quotes
// carries; and a video goes with the first frame its sender's app drew, re-encoded by the engine as a small image
// (anything else handed in as a frame is dropped, and the file still goes). Real engines, vaults and relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { createChannel, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { scratchFiles } from '../../support/scratch-files.ts';

describe('engine: quoted replies with files, and video first frames', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  let general = '';
  const { fileOf } = scratchFiles('wardroom-file-messages-');

  before(async () => {
    org = await startOrg();
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    await createChannel(ann, 'general', ['ben']);
    general = await idOf(ann.engine.api, '#general');
  });
  after(() => org.close());

  const arrives = (e: TestEngine, id: string) => e.waitFor(() => e.received().find((m) => m.id === id), 15_000, `message ${id}`);
  const listed = async (e: TestEngine, id: string): Promise<MessageViewT | undefined> =>
    (await e.engine.api.call('messages.list', { conversation: await idOf(e.engine.api, '#general'), around: id, limit: 10 })).messages.find((m) => m.id === id);

  it('keeps a quoted reply with files in the conversation, quoting a message that has files, on both sides', async () => {
    const report = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: fileOf('report.pdf', randomBytes(2000)) }] });
    await arrives(ben, report.id);
    const answer = await ben.engine.api.call('messages.send', {
      conversation: await idOf(ben.engine.api, '#general'), text: 'my notes on it', replyTo: report.id, quote: true, attachments: [{ path: fileOf('notes.txt', Buffer.from('fine\n')) }],
    });
    assert.deepEqual([answer.replyTo, answer.threadRoot, answer.files?.[0]?.name], [report.id, undefined, 'notes.txt'], 'a quote on the sender, not a thread reply');
    const got = await arrives(ann, answer.id);
    assert.deepEqual([got.replyTo, got.threadRoot, got.text, got.files?.[0]?.name], [report.id, undefined, 'my notes on it', 'notes.txt'], 'and on the receiver');
    assert.equal((await listed(ann, report.id))?.replyCount, undefined, 'the quoted message gained no thread');
    assert.equal((await listed(ben, answer.id))?.threadRoot, undefined, 'as kept in the vault');
    // a plain quoted reply to a message with files is a quote too (its text names the file in the app)
    const plain = await ann.engine.api.call('messages.send', { conversation: general, text: 'thanks', replyTo: answer.id, quote: true });
    assert.deepEqual([(await arrives(ben, plain.id)).replyTo, (await arrives(ben, plain.id)).threadRoot], [answer.id, undefined]);
    // without quote, files answering a message still go in its thread, as before
    const inThread = await ben.engine.api.call('messages.send', { conversation: await idOf(ben.engine.api, '#general'), replyTo: report.id, attachments: [{ path: fileOf('v2.pdf', randomBytes(100)) }] });
    assert.equal(inThread.threadRoot, report.id);
  });

  it('sends a video with the first frame its app drew, re-encoded small; a frame that is no image is dropped', async () => {
    const frame = await sharp({ create: { width: 640, height: 360, channels: 3, background: '#1d4e89' } }).jpeg().toBuffer();
    const video = fileOf('launch.mp4', randomBytes(50_000));
    const sent = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: video, preview: { mime: 'image/jpeg', data: frame.toString('base64') } }] });
    const got = await arrives(ben, sent.id);
    const [file] = got.files!;
    assert.equal(file!.mime, 'video/mp4');
    assert.ok(file!.thumbnail, 'the first frame travels as the thumbnail');
    assert.equal(file!.thumbnail.mime, 'image/webp', 'made by the engine, not passed through');
    assert.deepEqual([file!.thumbnail.width, file!.thumbnail.height], [160, 90]);
    const decoded = await sharp(Buffer.from(file!.thumbnail.data, 'base64')).raw().toBuffer({ resolveWithObject: true });
    assert.equal(decoded.info.width, 160);
    assert.ok(Math.abs(decoded.data[2]! - 0x89) < 12, 'the frame\'s colour survives');

    const junk = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: video, preview: { mime: 'image/png', data: Buffer.from('<svg onload=alert(1)>').toString('base64') } }] });
    assert.equal(junk.files?.[0]?.thumbnail, undefined, 'not an image: no thumbnail, and the video still goes');
    const notVideo = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: fileOf('data.bin', randomBytes(10)), preview: { mime: 'image/jpeg', data: frame.toString('base64') } }] });
    assert.equal(notVideo.files?.[0]?.thumbnail, undefined, 'a frame is a video\'s only');
  });
});
