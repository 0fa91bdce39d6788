// Image metadata stripping (core/engine/media) on camera-style photos made by sharp: after stripping no tag
// survives (sharp's own reading and a raw byte search for every secret), the pixels are the same, the photo still
// displays upright, and the ICC profile is kept. Malformed input is refused in one line, never half-cleaned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sharp from 'sharp';
import { ImageError } from '../../../core/engine/media/errors.ts';
import { MAX_IMAGE_BYTES, prepareForSending, stripImageMetadata } from '../../../core/engine/media/strip.ts';
import { buildImageTargets, fuzz } from '../../fuzz/harness.ts';
import { cameraGif, cameraJpeg, cameraPng, cameraWebp, gpsNeedles, HEIGHT, SECRETS, WIDTH } from '../../support/camera-images.ts';

const makers = { jpeg: cameraJpeg, png: cameraPng, webp: cameraWebp, gif: cameraGif };
/** What each fixture visibly carries (WebP has no comment; GIF has no EXIF, so no serial). */
const carried: Record<string, string[]> = {
  jpeg: [SECRETS.serial, SECRETS.make, SECRETS.comment, SECRETS.iptc],
  png: [SECRETS.serial, SECRETS.make, SECRETS.comment],
  webp: [SECRETS.serial, SECRETS.make],
  gif: [SECRETS.comment, SECRETS.xmpCity],
};

for (const [format, make] of Object.entries(makers)) {
  test(`${format}: no metadata survives, the pixels and the ICC profile are unchanged, and it displays upright`, async () => {
    const original = await make();
    const before = await sharp(original).metadata();
    // the fixture really carries what we claim to strip (a fixture without it would prove nothing)
    for (const secret of carried[format]!) assert.ok(original.includes(secret), `${format} fixture lacks ${secret}`);
    if (format !== 'gif') assert.ok(gpsNeedles().some((needle) => original.includes(needle)), `${format} fixture lacks its GPS position`);
    const result = stripImageMetadata(original)!;
    assert.equal(result.format, format);
    const stripped = Buffer.from(result.bytes);
    for (const secret of Object.values(SECRETS)) assert.ok(!stripped.includes(secret), `${format}: "${secret}" survived`);
    for (const needle of gpsNeedles()) assert.ok(!stripped.includes(needle), `${format}: the GPS rational survived`);
    assert.ok(!stripped.includes('GPS') && !stripped.includes('xmpmeta'));

    const after = await sharp(stripped).metadata();
    assert.equal(after.xmp, undefined);
    assert.equal(after.iptc, undefined);
    assert.equal(after.comments, undefined);
    const [raw0, raw1] = await Promise.all([sharp(original).raw().toBuffer(), sharp(stripped).raw().toBuffer()]);
    assert.ok(raw0.equals(raw1), `${format}: the decoded pixels changed`);
    if (format === 'gif') {
      assert.equal(after.loop, before.loop, 'the loop count is kept');
      return;
    }
    assert.ok(before.icc && after.icc && Buffer.from(after.icc).equals(before.icc), `${format}: the ICC profile was not kept as it was`);
    // Orientation is the one EXIF tag left: in a 26-byte block, so it can hold nothing else
    assert.equal(after.orientation, 6);
    assert.ok(after.exif && after.exif.length <= 32, `${format}: EXIF of ${after.exif?.length} bytes left`);
    assert.deepEqual(after.autoOrient, { width: HEIGHT, height: WIDTH });
    const upright = await sharp(stripped).rotate().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([upright.info.width, upright.info.height], [HEIGHT, WIDTH]);
    // stripping is idempotent: nothing is left for a second pass to find
    assert.ok(Buffer.from(stripImageMetadata(stripped)!.bytes).equals(stripped));
  });
}

test('jpeg: what was removed is named, the JFIF thumbnail slot is emptied, and trailing data after the image is dropped', async () => {
  const result = stripImageMetadata(await cameraJpeg())!;
  assert.deepEqual(result.removed, ['EXIF', 'IPTC/Photoshop', 'XMP', 'comment', 'data after the image']);
  const bytes = Buffer.from(result.bytes);
  assert.deepEqual([...bytes.subarray(bytes.length - 2)], [0xff, 0xd9]);
});

test('a photo without orientation keeps no EXIF at all', async () => {
  const plain = await sharp(await cameraJpeg()).rotate().withExif({ IFD0: { Make: SECRETS.make } }).jpeg().toBuffer();
  const result = stripImageMetadata(plain)!;
  assert.equal(result.orientation, 1);
  assert.equal((await sharp(Buffer.from(result.bytes)).metadata()).exif, undefined);
});

test('not an image: left alone; send original: nothing touched; HEIC and oversized: refused in one line', async () => {
  const pdf = Buffer.from('%PDF-1.7\n...');
  assert.equal(stripImageMetadata(pdf), null);
  assert.equal(prepareForSending(pdf, { sendOriginal: false }).bytes, pdf);
  const photo = await cameraJpeg();
  assert.equal(prepareForSending(photo, { sendOriginal: true }).bytes, photo);
  assert.ok(prepareForSending(photo, { sendOriginal: false }).bytes.length < photo.length);
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(16)]);
  assert.throws(() => stripImageMetadata(heic), (e: unknown) => e instanceof ImageError && e.code === 'INVALID' && /HEIC/.test(e.message) && /send original/.test(e.message));
  const huge = Buffer.alloc(MAX_IMAGE_BYTES + 1);
  photo.copy(huge);
  assert.throws(() => stripImageMetadata(huge), /too large/);
});

test('damaged images are refused with a clear line, at every truncation point', async () => {
  for (const make of Object.values(makers)) {
    const image = await make();
    for (let cut = 0; cut < image.length; cut += 7) {
      const truncated = image.subarray(0, cut);
      try {
        const result = stripImageMetadata(truncated);
        assert.ok(result === null || cut > image.length - 40, 'only a file missing its very end may still parse');
      } catch (error) {
        assert.ok(error instanceof ImageError, String(error));
        assert.match(error.message, /damaged|cannot/);
        assert.doesNotMatch(error.message, /\n/);
      }
    }
  }
});

test('fast-check: any bytes after a valid image header give a result or an ImageError, never another exception', async () => {
  const headers = await Promise.all(Object.values(makers).map(async (make) => (await make()).subarray(0, 16)));
  fc.assert(fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 600 }), (head, tail) => {
    try {
      stripImageMetadata(Buffer.concat([head, tail]));
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
    }
  }), { numRuns: 2000, seed: 20261201 });
});

test('the fuzz harness: mutated camera photos give a result or an ImageError', async () => {
  const stats = fuzz(await buildImageTargets(), 3000, 20261201);
  const s = stats.byTarget['stripImageMetadata']!;
  assert.ok(s.accepted > 0 && s.codes['INVALID']! > 0, JSON.stringify(s));
});
