// `wardroom policy set`'s file flags as policy.set fields, and the lines `policy show` prints for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filePolicyChange, filePolicyLines, formatSize, parseSize } from '../../../core/cli/file-policy.ts';

test('sizes read as the app shows them (a KB is 1024 bytes), with the flag named when they do not parse', () => {
  assert.equal(parseSize('max-file-size', '100MB'), 100 * 1024 ** 2);
  assert.equal(parseSize('max-file-size', '1.5 gb'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('max-file-size', '512KiB'), 512 * 1024);
  assert.equal(parseSize('max-file-size', '1000'), 1000);
  assert.throws(() => parseSize('max-file-size', '100 furlongs'), /--max-file-size: "100 furlongs" is not a size/);
  assert.throws(() => parseSize('max-file-size', '-5MB'), /is not a size/);
  assert.equal(formatSize(100 * 1024 ** 2), '100 MB');
  assert.equal(formatSize(1.5 * 1024 ** 3), '1.5 GB');
  assert.equal(formatSize(700), '700 B');
});

test('each flag sets its field; off, any and --no-preview-only remove the rule; absent flags change nothing', () => {
  assert.deepEqual(filePolicyChange({}), {});
  assert.deepEqual(filePolicyChange({ files: 'off', 'max-file-size': '100MB', 'allowed-types': 'image/*, Application/PDF,image/*', 'preview-only': true, 'link-previews': 'off' }), {
    fileSharing: false, maxFileBytes: 100 * 1024 ** 2, allowedFileTypes: ['image/*', 'application/pdf'], filePreviewOnly: true, linkPreviews: false,
  });
  assert.deepEqual(filePolicyChange({ files: 'on', 'max-file-size': 'off', 'allowed-types': 'any', 'no-preview-only': true, 'link-previews': 'on' }), {
    fileSharing: true, maxFileBytes: null, allowedFileTypes: null, filePreviewOnly: null, linkPreviews: true,
  });
  assert.throws(() => filePolicyChange({ 'preview-only': true, 'no-preview-only': true }), /not both/);
  assert.throws(() => filePolicyChange({ 'allowed-types': ',' }), /takes a list/);
  assert.throws(() => filePolicyChange({ 'allowed-types': 'text/html;x=1' }), /is not a media type/);
});

test('policy show says nothing of files until the policy does, then every rule in a line', () => {
  assert.deepEqual(filePolicyLines({}), []);
  assert.deepEqual(filePolicyLines({ maxFileBytes: 100 * 1024 ** 2, allowedFileTypes: ['image/*', 'application/pdf'], filePreviewOnly: true }), [
    '  files: on, open in the app only (no saving)', '  largest file: 100 MB', '  file types: image/*, application/pdf', '  link previews: on',
  ]);
  assert.deepEqual(filePolicyLines({ fileSharing: false, linkPreviews: false }), ['  files: off', '  link previews: off']);
});
