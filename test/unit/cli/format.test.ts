// What the command line prints of other people's text: nothing can steer the terminal or pass for a header line,
// and JSON keeps every value exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { CONTINUATION, formatConversation, formatMessage, formatTime, jsonLine, messageJson, neutralise } from '../../../core/cli/format.ts';

const message = (text: string, extra: Partial<MessageViewT> = {}): MessageViewT => ({
  id: 'AbCdEfGhIjKlMnOpQrStUv', conversation: 'd:bob', sender: 'alice', senderDevice: 'dev', text, sentAt: '2026-12-01T17:50:00.000Z',
  mentions: [], reactions: [], status: 'sent', outgoing: false, ...extra,
});

/** How `read` prints a header: a message id, two spaces, a date. */
const HEADER = /^[A-Za-z0-9_-]{16,64} {2}\d{4}-\d\d-\d\d /;
/** Anything a terminal acts on or hides: controls, format characters, separators. */
const RAW = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

test('a newline cannot forge a second message: every line after the header is a continuation line', () => {
  const forged = formatMessage(message('hi\nZZfake 2026-12-01 18:50 @bob: send me the password'));
  const lines = forged.split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, HEADER);
  assert.ok(lines[0]!.endsWith('@alice: hi'));
  assert.equal(lines[1], `${CONTINUATION}ZZfake 2026-12-01 18:50 @bob: send me the password`);
  assert.doesNotMatch(lines[1]!, HEADER);
  // CRLF is one break; a bare CR (which would return to the start of the line and overprint it) is shown.
  const crlf = formatMessage(message('one\r\ntwo\rHEADER')).split('\n');
  assert.deepEqual(crlf.slice(1), [`${CONTINUATION}two\\rHEADER`]);
  for (const line of [...lines, ...crlf]) assert.doesNotMatch(line, RAW);
});

test('ESC, CSI, OSC 8 links, C1 controls, DEL and BEL are shown as escapes, never sent raw', () => {
  const osc8 = '\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\';
  assert.equal(neutralise(osc8), '\\x1b]8;;https://evil.example/\\x1b\\click here\\x1b]8;;\\x1b\\');
  assert.equal(neutralise('\x1b[2J\x1b[31mred'), '\\x1b[2J\\x1b[31mred', 'CSI: clear screen, colour');
  assert.equal(neutralise('\x9b2J\x9d0;title\x07'), '\\x9b2J\\x9d0;title\\x07', '8-bit CSI and OSC, BEL');
  assert.equal(neutralise('a\x7fb\x00c\tz'), 'a\\x7fb\\x00c\\tz');
  for (const text of [osc8, '\x1b[2J', '\x9b2J', '\x7f', '\x00']) assert.doesNotMatch(formatMessage(message(text)), RAW);
});

test('bidi overrides and isolates, zero-width and other invisible characters are shown as escapes', () => {
  // "exe.txt" that a right-to-left override would display reversed, and every isolate
  assert.equal(neutralise('invoice\u202Etxt.exe'), 'invoice\\u202etxt.exe');
  assert.equal(neutralise('\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069'), '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069');
  assert.equal(neutralise('pay\u200Bpal\u00ADx\uFEFF\u2028\u2029\u061C'), 'pay\\u200bpal\\u00adx\\ufeff\\u2028\\u2029\\u061c');
  assert.equal(neutralise('tag\u{E0041}\u{E007F}'), 'tag\\u{e0041}\\u{e007f}', 'invisible tag characters');
  assert.equal(neutralise('lone \uD800 surrogate'), 'lone \\ud800 surrogate');
  assert.equal(neutralise('a\u200Db'), 'a\\u200db', 'a joiner between ASCII letters only hides things');
});

test('joiners that emoji and scripts need stay, and ordinary text is untouched', () => {
  const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
  assert.equal(neutralise(family), family);
  assert.equal(neutralise('\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645'), '\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645', 'ZWNJ in Persian');
  const plain = 'Grüße, 你好, שלום, C:\\path, 👍🏽 — "quoted" & <tagged>';
  assert.equal(neutralise(plain), plain);
});

test('names and topics from others are neutralised too', () => {
  const line = formatConversation({ id: 'c', kind: 'channel', name: 'ops\x1b[8m', topic: 'all\nZZfake hands\u202E', members: [], unread: 2, mentions: 0 });
  assert.equal(line, '#ops\\x1b[8m (2 unread) - all\\nZZfake hands\\u202e');
  assert.equal(formatConversation({ id: 'd', kind: 'direct', name: 'bob', members: [], unread: 0, mentions: 0 }), '@bob');
});

test('JSON output is exact, and carries no character a terminal would act on', () => {
  const nasty = 'hi\nZZfake\r\x1b]8;;https://evil.example/\x1b\\x\x9b\x7f\u202E\u2066\u200B\u2028\u{E0041}\uD800 👨\u200D👩 done';
  const line = messageJson(message(nasty));
  assert.doesNotMatch(line, RAW);
  assert.equal(line.includes('\n'), false);
  const parsed = JSON.parse(line) as MessageViewT;
  assert.equal(parsed.text, nasty, 'the value is exactly what was sent');
  assert.deepEqual(Object.keys(parsed).slice(0, 5), ['id', 'conversation', 'sender', 'text', 'sentAt']);
  assert.equal(JSON.parse(jsonLine({ name: 'ops\u202E' })).name, 'ops\u202E');
});

test('human times are local, with the zone\'s offset; an unreadable time is shown neutralised', () => {
  const zone = process.env.TZ;
  try {
    process.env.TZ = 'Asia/Kolkata';
    assert.equal(formatTime('2026-12-01T17:50:00.000Z'), '2026-12-01 23:20 +05:30');
    process.env.TZ = 'America/St_Johns';
    assert.equal(formatTime('2026-01-15T02:10:00.000Z'), '2026-01-14 22:40 -03:30');
    process.env.TZ = 'UTC';
    assert.equal(formatTime('2026-12-01T17:50:00.000Z'), '2026-12-01 17:50 +00:00');
    assert.match(formatMessage(message('x', { expiresAt: '2026-12-01T18:50:00.000Z', editedAt: '2026-12-01T17:55:00.000Z' })),
      /^AbCdEfGhIjKlMnOpQrStUv {2}2026-12-01 17:50 \+00:00 {2}@alice: x \(edited\) {2}\[expires 2026-12-01 18:50 \+00:00\]$/);
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
  assert.equal(formatTime('not\x1btime'), 'not\\x1btime');
});

test('membership notices are the CLI\'s own lines: who changed what, never a sender\'s text', () => {
  const line = (change: NonNullable<MessageViewT['membership']>) => formatMessage(message('', { conversation: 'c:AbCdEfGhIjKlMnOpQrStUv', notice: 'membership', membership: change }));
  assert.match(line({ change: 'added', members: ['bob', 'carol'] }), / {2}-- @alice added @bob, @carol --$/);
  assert.match(line({ change: 'role', members: ['bob'], role: 'admin' }), / {2}-- @alice made @bob admin --$/);
  assert.match(line({ change: 'created', members: ['alice'] }), / {2}-- @alice created the channel --$/);
  assert.doesNotMatch(line({ change: 'left', members: ['alice'] }), /@alice:/, 'no "@name:" form a message has');
});
