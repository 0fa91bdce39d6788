// Messages that carry files, beyond the transfer itself: a quoted reply that has files stays a quoted reply (in the
// conversation, naming what it answers, not hidden in a thread) on both sides, whatever the message it quotes
// carries; and a video goes with the first frame its sender's app drew, and a PDF with its first page, re-encoded by
// the engine as a small image (anything else handed in as a still is dropped, and the file still goes). Real
// engines, vaults and relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { createChannel, idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { scratchFiles } from '../../support/scratch-files.ts';

describe('engine: quoted replies with files, video first frames and PDF first pages', () => {
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
    assert.equal(notVideo.files?.[0]?.thumbnail, undefined, 'a frame is a video\'s or a PDF\'s only');
  });

  it('sends a PDF with the first page its app drew, re-encoded small; a still that is no image, or too big to decode, is dropped', async () => {
    // an A4 page at the app's still size: white, with a red band across its top half
    const page = await sharp({ create: { width: 226, height: 320, channels: 3, background: '#ffffff' } })
      .composite([{ input: { create: { width: 226, height: 160, channels: 3, background: '#d0202a' } }, top: 0, left: 0 }]).jpeg().toBuffer();
    const pdf = fileOf('minutes.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4000)]));
    const sent = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: pdf, preview: { mime: 'image/jpeg', data: page.toString('base64') } }] });
    const [file] = (await arrives(ben, sent.id)).files!;
    assert.equal(file!.mime, 'application/pdf');
    assert.ok(file!.thumbnail, 'the first page travels as the thumbnail');
    assert.equal(file!.thumbnail.mime, 'image/webp', 'made by the engine, not passed through');
    assert.deepEqual([file!.thumbnail.width, file!.thumbnail.height], [113, 160]);
    const { data, info } = await sharp(Buffer.from(file!.thumbnail.data, 'base64')).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    assert.ok(at(56, 40)[0]! > 180 && at(56, 40)[1]! < 80, `the red band survives (${at(56, 40).join(',')})`);
    assert.ok(at(56, 120).every((c) => c > 230), `and the white below it (${at(56, 120).join(',')})`);

    // the PDF's own bytes handed in as a "PNG", and a PNG whose header claims 30000 x 30000 pixels (a decompression
    // bomb, refused by the decoder's pixel bound before it decodes anything): no thumbnail, and the PDF still goes
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(30_000, 0);
    ihdr.writeUInt32BE(30_000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const chunk = (type: string, body: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), body])));
      return Buffer.concat([head, Buffer.from(type), body, crc]);
    };
    const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(30_001 * 3))), chunk('IEND', Buffer.alloc(0))]);
    for (const still of [readFileSync(pdf), bomb]) {
      const junk = await ann.engine.api.call('messages.send', { conversation: general, attachments: [{ path: pdf, preview: { mime: 'image/png', data: still.toString('base64') } }] });
      const got = await arrives(ben, junk.id);
      assert.deepEqual([junk.files?.[0]?.thumbnail, got.files?.[0]?.name], [undefined, 'minutes.pdf'], 'no thumbnail, and the PDF still goes');
    }
  });
});
