// File names as a sender chose them, made safe to show and to save (core/engine/files/names.ts): no directory, no
// character a terminal or a text layout acts on, not hidden, and short enough in bytes for any file system once a
// download's partial-file affixes are added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { MAX_NAME_BYTES, safeFileName } from '../../../core/engine/files/names.ts';
import { applyPayload } from '../../../core/engine/inbound/payloads.ts';
import { NO_POLICY } from '../../../core/engine/policy/document.ts';
import { decodePayload, encodePayload, type Payload } from '../../../core/protocol/wire.ts';

/** What a download writes first, beside the final name (files.ts): the longest name a file system must take. */
const partialName = (name: string) => `.${name}.0123456789abcdef.wardroom-part`;

test('directories, control and format characters, hidden and empty names are neutralised', () => {
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('..\\..\\evil.exe'), 'evil.exe');
  assert.equal(safeFileName('\x1b]0;pwned\x07report\r\n.pdf'), '_]0;pwned_report_.pdf');
  assert.equal(safeFileName('invoice\u202Egnp.exe'), 'invoice_gnp.exe');
  assert.equal(safeFileName('.bashrc'), '_bashrc');
  assert.equal(safeFileName('   '), 'file');
  assert.equal(safeFileName('holiday photo.png'), 'holiday photo.png', 'an ordinary name is kept as it is');
});

test('a long name is cut to what every file system takes, between characters, keeping its extension', () => {
  for (const character of ['a', 'é', '報', '🙂']) {
    const name = safeFileName(`${character.repeat(300)}.txt`);
    assert.ok(Buffer.byteLength(name) <= MAX_NAME_BYTES, `${character}: ${Buffer.byteLength(name)} bytes`);
    assert.ok(Buffer.byteLength(partialName(`${name} (999)`)) <= 255, `${character}: the partial file's name fits too`);
    assert.ok(name.endsWith('.txt'), name);
    assert.ok([...name.slice(0, -4)].every((c) => c === character), `${character}: cut between whole characters`);
  }
  // 80 CJK characters: 244 bytes, a name Linux accepts, whose partial file would not have fitted
  const japanese = `${'報'.repeat(80)}.txt`;
  assert.ok(Buffer.byteLength(partialName(safeFileName(japanese))) <= 255);
  const hugeExtension = `report.${'x'.repeat(300)}`;
  assert.ok(Buffer.byteLength(safeFileName(hugeExtension)) <= MAX_NAME_BYTES, 'an extension that is most of the name is cut as part of it');
  assert.equal(safeFileName(safeFileName(japanese)), safeFileName(japanese), 'cleaning twice changes nothing');
});

test('a name a hostile sender put in a message is stored cleaned, whatever the sender\'s app did', () => {
  const hostile = ['../../.ssh/authorized_keys', '\x1b]8;;https://evil.example/\x1b\\click\x1b[2J.pdf', `${'報'.repeat(300)}.txt`];
  const file = (name: string) => ({ blobId: 'blob-1', key: randomBytes(32), digest: randomBytes(32), size: 3, name, mime: 'text/plain', thumbnail: null });
  const payload = { v: 1, id: randomBytes(16), sentAt: 1, timers: null, syncTo: null, group: null, kind: 'file', files: hostile.map(file), caption: null, replyTo: null } as unknown as Payload;
  const { statements } = applyPayload(decodePayload(encodePayload(payload)), {
    conversationId: 'd:mallory', sender: 'mallory', senderDevice: 'd1', own: false, me: 'ann', receivedAt: 2, relayReceivedAt: 2, now: 2, policy: NO_POLICY,
  });
  const stored = statements.filter((s) => s.sql.includes('INSERT OR IGNORE INTO files')).map((s) => (s.params as readonly unknown[])[5] as string);
  assert.deepEqual(stored, hostile.map(safeFileName));
  assert.deepEqual(stored.slice(0, 2), ['authorized_keys', 'click_[2J.pdf']);
  assert.ok(Buffer.byteLength(stored[2]!) <= MAX_NAME_BYTES);
});
