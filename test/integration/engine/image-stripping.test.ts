// Images lose their metadata before they leave the sender's device, through the real send path (engines, vaults,
// relay): a camera JPEG sent by path and a camera PNG staged as bytes (the web shell's way) arrive without any tag
// (sharp's reading and a raw byte search), with the same pixels, still upright, the ICC profile kept, and a
// thumbnail made from the cleaned copy. "Send original" sends the bytes as they were; a HEIC photo is refused in one
// line and nothing is sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { cameraJpeg, cameraPng, gpsNeedles, HEIGHT, SECRETS, WIDTH } from '../../support/camera-images.ts';
import { idOf, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

describe('engine: images are sent without their metadata', () => {
  let org: TestOrg;
  let ann: TestEngine;
  let ben: TestEngine;
  const work = mkdtempSync(path.join(os.tmpdir(), 'wardroom-strip-'));

  before(async () => {
    org = await startOrg({}, { maxBlobBytes: 16 * 1024 * 1024, blobQuotaBytes: 256 * 1024 * 1024 });
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
  });
  after(() => org.close());

  const receive = async (id: string) => {
    await ben.waitFor(() => ben.received().find((m) => m.id === id), 15_000, `message ${id}`);
    const saved = await ben.engine.api.call('files.download', { message: id, dir: mkdtempSync(path.join(work, 'in-')) });
    return readFileSync(saved.path);
  };

  async function assertClean(original: Buffer, got: Buffer): Promise<void> {
    for (const secret of Object.values(SECRETS)) assert.ok(!got.includes(secret), `"${secret}" reached the recipient`);
    for (const needle of gpsNeedles()) assert.ok(!got.includes(needle), 'the GPS position reached the recipient');
    const [before, after] = await Promise.all([sharp(original).metadata(), sharp(got).metadata()]);
    assert.equal(after.xmp, undefined);
    assert.ok(after.exif === undefined || after.exif.length <= 32);
    assert.ok(before.icc && after.icc && Buffer.from(after.icc).equals(before.icc), 'the ICC profile is kept');
    assert.deepEqual(after.autoOrient, { width: HEIGHT, height: WIDTH }, 'displays upright');
    assert.ok((await sharp(original).raw().toBuffer()).equals(await sharp(got).raw().toBuffer()), 'the same pixels');
  }

  it('a photo sent by path arrives clean, same pixels, upright, with its colour profile and a thumbnail', async () => {
    const photo = await cameraJpeg();
    const file = path.join(work, 'IMG_0042.JPG');
    writeFileSync(file, photo);
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'the view', attachments: [{ path: file }] });
    assert.equal(sent.files![0]!.name, 'IMG_0042.JPG');
    assert.ok(sent.files![0]!.size < photo.length, 'the size sent is the cleaned copy\'s');
    await assertClean(photo, await receive(sent.id));
    const thumb = sent.files![0]!.thumbnail!;
    assert.ok(thumb.height > thumb.width, 'the thumbnail is upright too');
    assert.deepEqual(readFileSync(file), photo, 'the user\'s own file is left as it was');
  });

  it('a photo beside another file in one message (wardroom send --file photo.jpg --file notes.txt): both arrive, the photo clean', async () => {
    const photo = await cameraJpeg();
    const notes = Buffer.from('berths 3 and 4\n');
    const [photoFile, notesFile] = [path.join(work, 'quay.jpg'), path.join(work, 'notes.txt')];
    writeFileSync(photoFile, photo);
    writeFileSync(notesFile, notes);
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: photoFile }, { path: notesFile }] });
    await ben.waitFor(() => ben.received().find((m) => m.id === sent.id), 15_000, 'the message');
    const dir = mkdtempSync(path.join(work, 'both-'));
    await assertClean(photo, readFileSync((await ben.engine.api.call('files.download', { message: sent.id, index: 0, dir })).path));
    assert.deepEqual(readFileSync((await ben.engine.api.call('files.download', { message: sent.id, index: 1, dir })).path), notes);
  });

  it('a photo staged as bytes (the web shell) arrives clean too', async () => {
    const photo = await cameraPng();
    const { staged } = await ann.engine.api.call('files.stage', { size: photo.length });
    await ann.engine.api.call('files.stageChunk', { staged, offset: 0, data: photo.toString('base64url') });
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ staged, name: 'scan.png', mime: 'image/png' }] });
    await assertClean(photo, await receive(sent.id));
  });

  it('"send original" sends the bytes as they were; HEIC is refused in one line and nothing is sent', async () => {
    const photo = await cameraJpeg();
    const file = path.join(work, 'original.jpg');
    writeFileSync(file, photo);
    await ann.engine.api.call('settings.set', { sendOriginalImages: true });
    const sent = await ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), attachments: [{ path: file }] });
    assert.deepEqual(await receive(sent.id), photo);
    await ann.engine.api.call('settings.set', { sendOriginalImages: false });

    const heic = path.join(work, 'IMG_0043.HEIC');
    writeFileSync(heic, Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(64)]));
    const before = ann.received().length;
    await assert.rejects(ann.engine.api.call('messages.send', { conversation: await idOf(ann.engine.api, '@ben'), text: 'heic', attachments: [{ path: heic }] }),
      (e: { code: string; message: string }) => e.code === 'INVALID' && /HEIC/.test(e.message) && !e.message.includes('\n'));
    const { messages } = await ann.engine.api.call('messages.list', { conversation: await idOf(ann.engine.api, '@ben') });
    assert.ok(!messages.some((m) => m.text === 'heic'), 'nothing was sent');
    assert.equal(ann.received().length, before);
  });
});
