// The org policy's file rules as a device enforces them: the file fields of the policy in force (verified under the
// pinned org key by core/engine/policy/, tested in test/integration/engine/policy.test.ts), and applied to a file's
// name, type and size in the user's terms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFile, checkFileSize, filePolicyOf } from '../../../core/engine/files/policy.ts';
import { blobBytes, MAX_FILE_BYTES, padme } from '../../../core/engine/files/blob-format.ts';
import { NO_POLICY, policyDocumentSchema } from '../../../core/engine/policy/document.ts';

test('reads the file rules from the policy document; an org that says nothing allows files up to the built-in limit', () => {
  const document = policyDocumentSchema.parse({ version: 3, maxFileBytes: 1000, allowedFileTypes: ['image/*', 'application/pdf'], filePreviewOnly: true });
  assert.deepEqual(filePolicyOf(document), { enabled: true, maxBytes: 1000, allowedTypes: ['image/*', 'application/pdf'], previewOnly: true });
  assert.deepEqual(filePolicyOf(NO_POLICY), { enabled: true, maxBytes: MAX_FILE_BYTES, previewOnly: false });
  assert.equal(filePolicyOf(policyDocumentSchema.parse({ version: 1, fileSharing: false })).enabled, false);
  assert.equal(filePolicyOf(policyDocumentSchema.parse({ version: 1, maxFileBytes: MAX_FILE_BYTES * 4 })).maxBytes, MAX_FILE_BYTES, 'never above what the format carries');
});

test('applies the rules to a file in one line each: off, too large, a type not allowed; type/* matches a family', async () => {
  const policy = { enabled: true, maxBytes: 1000, allowedTypes: ['image/*', 'application/pdf'], previewOnly: false };
  checkFile(policy, { name: 'a.png', mime: 'image/png', size: 1000 }, 'send');
  checkFile(policy, { name: 'a.pdf', mime: 'application/pdf', size: 1 }, 'receive');
  assert.throws(() => checkFile(policy, { name: 'a.png', mime: 'image/png', size: 1001 }, 'send'), /a\.png is 1,001 bytes; your organisation's policy allows files up to 1,000/);
  assert.throws(() => checkFile(policy, { name: 'x.zip', mime: 'application/zip', size: 1 }, 'send'), /does not allow application\/zip files \(x\.zip\)/);
  assert.throws(() => checkFile(policy, { name: 'x.imagery', mime: 'imagex/png', size: 1 }, 'send'), /does not allow/, 'image/* is not a prefix match on the type name');
  assert.throws(() => checkFile({ ...policy, enabled: false }, { name: 'a.png', mime: 'image/png', size: 1 }, 'send'), /does not allow sending files/);
  assert.throws(() => checkFile({ ...policy, enabled: false }, { name: 'a.png', mime: 'image/png', size: 1 }, 'receive'), /does not allow opening or saving files/);
});

test('a name\'s type counts beside the declared one: a program declared as an image is refused; a name without an extension adds nothing', () => {
  const policy = { enabled: true, maxBytes: 1000, allowedTypes: ['image/*'], previewOnly: false };
  for (const use of ['send', 'receive'] as const) {
    assert.throws(() => checkFile(policy, { name: 'tool.exe', mime: 'image/png', size: 1 }, use), /does not allow application\/octet-stream files \(tool\.exe\)/);
    assert.throws(() => checkFile(policy, { name: 'page.html', mime: 'image/png', size: 1 }, use), /does not allow text\/html files \(page\.html\)/);
  }
  checkFile(policy, { name: 'scan', mime: 'image/png', size: 1 }, 'receive');
  checkFile(policy, { name: 'IMG_0042.JPG', mime: 'image/jpeg', size: 1 }, 'receive');
  checkFile(policy, { name: 'photo.jfif', mime: 'image/jpeg', size: 1 }, 'send');
  // staging knows only a size: whether files go and how large, never a type (that is judged at messages.send)
  checkFileSize(policy, { name: 'the file', size: 1000 }, 'send');
  assert.throws(() => checkFileSize({ ...policy, enabled: false }, { name: 'the file', size: 1 }, 'send'), /does not allow sending files/);
});

test('pads to Padmé buckets: never smaller, at most 12% larger, few distinct sizes', () => {
  const sizes = new Set<number>();
  for (let size = 1; size < 5_000_000; size = Math.ceil(size * 1.01) + 1) {
    const padded = blobBytes(size);
    assert.ok(padded >= size + 36, 'header and tag fit');
    assert.ok(padded <= (size + 36 + 16 * Math.ceil(size / 2 ** 20)) * 1.12 + 1, `at most 12% overhead at ${size}`);
    assert.equal(padme(padded), padded, 'a bucket is its own bucket');
    sizes.add(padded);
  }
  assert.ok(sizes.size < 700, `${sizes.size} buckets`);
});
