// The command line as a user meets it under hostile input and faults: the real `wardroom` binary, one process per
// command, against a real relay process. What is checked is what the person sees: stdout, stderr, the exit code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cliOrg, wardroom, type CliOrg, type CliRun } from '../../support/cli.ts';

/** A header line of `read`: a message id, two spaces, a local time with its offset. */
const HEADER = /^[A-Za-z0-9_-]{16,64} {2}\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d {2}@[a-z0-9._-]+: /;
/** Anything a terminal would act on or hide (a line break only ends a line). */
const RAW = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
/** Internals that must never reach a user: request paths, relay ids, validator text, stack frames. */
const INTERNALS = /\/v1\/|\b[A-Za-z0-9_-]{22}\b|Too (small|big)|[<>]=\d|internal error|\n\s+at /;

const FORGED = 'hi\nZZfake 2026-12-01 18:50 @bob: send me the password';
const OSC8 = '\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\';
const BIDI = 'invoice\u202Etxt.exe \x1b[2J\x1b[1A\u2066done\u2069';

const ok = (run: CliRun, what: string) => assert.equal(run.code, 0, `${what}: ${run.stderr}`);
/** A failure a user caused: exit 1 (2 for usage), one line on stderr, no internals. */
function refused(run: CliRun, code: 1 | 2, message: string | RegExp) {
  assert.equal(run.code, code, run.stderr);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  if (typeof message === 'string') assert.equal(lines[0], `wardroom: ${message}`);
  else assert.match(lines[0]!, message);
  assert.doesNotMatch(run.stderr, INTERNALS);
}

describe('wardroom under hostile input and faults (real relay, real binary)', () => {
  let org: CliOrg;

  before(async () => {
    org = await cliOrg(['alice', 'bob']);
    ok(await org.as('alice', ['channel', 'create', 'general']), 'channel create');
    ok(await org.as('alice', ['channel', 'add', 'general', 'bob']), 'channel add');
  });
  after(() => org?.close());

  it('a hostile sender can neither forge a line nor reach the terminal; JSON keeps the text exact', async () => {
    for (const text of [FORGED, OSC8, BIDI]) ok(await org.as('bob', ['send', '@alice', text]), 'send');
    const read = await org.as('alice', ['read', '@bob'], { env: { TZ: 'Asia/Kolkata' } });
    ok(read, 'read');
    const lines = read.stdout.split('\n').slice(0, -1);
    assert.equal(lines.filter((line) => HEADER.test(line)).length, 3, `three messages, three headers:\n${read.stdout}`);
    for (const line of lines) {
      assert.ok(HEADER.test(line) || line.startsWith('  | '), `a header or a continuation line: ${JSON.stringify(line)}`);
      assert.doesNotMatch(line, RAW);
    }
    assert.ok(lines.includes('  | ZZfake 2026-12-01 18:50 @bob: send me the password'), 'the forged line is shown as what it is');
    assert.ok(lines.some((line) => line.endsWith('@bob: \\x1b]8;;https://evil.example/\\x1b\\click here\\x1b]8;;\\x1b\\')), 'the OSC 8 link is inert');
    assert.ok(lines.some((line) => line.endsWith('@bob: invoice\\u202etxt.exe \\x1b[2J\\x1b[1A\\u2066done\\u2069')), 'bidi and CSI are inert');
    assert.ok(lines.every((line) => !HEADER.test(line) || / \+05:30 {2}/.test(line)), 'local time with the zone\'s offset');

    const json = await org.as('alice', ['read', '@bob', '--json']);
    ok(json, 'read --json');
    assert.doesNotMatch(json.stdout.replaceAll('\n', ''), RAW);
    const messages = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { text: string; sentAt: string });
    assert.deepEqual(messages.map((m) => m.text), [FORGED, OSC8, BIDI], 'exactly what was sent');
    assert.ok(messages.every((m) => new Date(m.sentAt).toISOString() === m.sentAt), 'ISO 8601 in JSON');

    const found = await org.as('alice', ['search', 'password']);
    ok(found, 'search');
    assert.deepEqual(found.stdout.split('\n').slice(1, -1), ['  | ZZfake 2026-12-01 18:50 @bob: send me the password']);

    ok(await org.as('alice', ['channel', 'topic', 'general', 'all hands\x1b]0;pwned\x07\u202E']), 'channel topic');
    const channels = await org.as('bob', ['channels']);
    ok(channels, 'channels');
    assert.match(channels.stdout, /^#general - all hands\\x1b\]0;pwned\\x07\\u202e$/m);
  });

  it('refuses whitespace-only and over-long messages in plain words', async () => {
    refused(await org.as('bob', ['send', '@alice', ' \t\n ']), 1, 'the message is empty');
    refused(await org.as('bob', ['send', '#general', '\u200B\u202E']), 1, 'the message is empty');
    refused(await org.as('bob', ['send', '@alice', 'x'.repeat(16_001)]), 1, 'a message has at most 16,000 characters');
    const sent = await org.as('bob', ['send', '@alice', 'fine']);
    ok(sent, 'send');
    refused(await org.as('bob', ['edit', sent.stdout.split(' ')[0]!, '   ']), 1, 'the message is empty');
  });

  it('says what changed, and refuses what a user got wrong in their terms, with no paths, ids or validator text', async () => {
    refused(await org.as('alice', ['channel', 'remove', 'general', 'nobody']), 1, 'no user @nobody in this organisation');
    refused(await org.as('alice', ['channel', 'add', 'general', 'nobody']), 1, 'no user @nobody in this organisation');
    refused(await org.as('alice', ['channel', 'add', 'general', 'bob']), 1, 'bob is already a member of this channel');
    refused(await org.as('alice', ['send', 'bob', 'hi']), 2, 'a target starts with @ or #: did you mean @bob (a person) or #bob (a channel)?');
    refused(await org.as('alice', ['channel', 'topic', 'general', 't'.repeat(257)]), 1, 'a topic has at most 256 characters');
    refused(await org.as('alice', ['search', 'hi', '--limit', '500']), 1, 'the limit must be at most 200');
    const json = await org.as('alice', ['--json', 'channel', 'remove', 'general', 'nobody']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stderr), { code: 'NOT_FOUND', message: 'no user @nobody in this organisation' });

    const removed = await org.as('alice', ['channel', 'remove', 'general', 'bob']);
    ok(removed, 'channel remove');
    assert.equal(removed.stdout, 'removed @bob from #general\n');
    const added = await org.as('alice', ['--json', 'channel', 'add', 'general', 'bob']);
    ok(added, 'channel add --json');
    assert.deepEqual(JSON.parse(added.stdout), { channel: 'general', username: 'bob', member: true });
  });

  it('help and --version work without a profile; --recovery-kit is refused and the kit comes from stdin', async () => {
    const version = await wardroom(['--version']);
    ok(version, '--version');
    assert.match(version.stdout, /^wardroom \d+\.\d+\.\d+\n$/);
    const help = await wardroom(['help', 'link']);
    ok(help, 'help link');
    assert.match(help.stdout, /^usage: wardroom link LINK --username NAME \[--recovery-kit-file FILE\] \[--device-name NAME\]\n/);

    const invite = (await org.as('alice', ['invite'])).stdout.trim();
    const kit = org.recoveryKit('bob');
    refused(await wardroom(['--profile', `${org.root}/bob-phone`, 'link', invite, '--username', 'bob', '--recovery-kit', kit]), 2, /^wardroom: --recovery-kit would show the kit to everyone on this computer \(ps\)/);
    const linked = await wardroom(['--profile', `${org.root}/bob-phone`, 'link', invite, '--username', 'bob', '--recovery-kit-file', '-'], { stdin: `${kit}\n` });
    ok(linked, 'link with the kit on stdin');
    assert.match(linked.stdout, /^linked as @bob \(device \S+\)\n$/);
  });

  it('a busy profile: waits a few seconds with a notice, then names the process that holds it; Ctrl-C ends --follow with 0', async () => {
    ok(await org.as('bob', ['send', '@alice', 'are you there?']), 'send');
    const follow = org.startAs('alice', ['read', '@bob', '--follow']);
    await follow.until('stdout', /are you there\?/);
    const holder = follow.process.pid!;
    const busy = await org.as('alice', ['whoami']);
    assert.equal(busy.code, 1);
    assert.deepEqual(busy.stderr.split('\n').filter(Boolean), [
      `wardroom: this profile is in use by another wardroom process (pid ${holder}): waiting up to 5 s for it to finish`,
      `wardroom: this profile is in use by another wardroom process (pid ${holder}); still busy after 5 s`,
    ]);

    const waiting = org.startAs('alice', ['whoami']);
    await waiting.until('stderr', /waiting up to 5 s/);
    follow.process.kill('SIGINT');
    const followed = await follow.exited;
    assert.equal(followed.code, 0, `Ctrl-C is a normal end of --follow: ${followed.stderr}`);
    assert.equal(followed.stderr, '');
    const after = await waiting.exited;
    ok(after, 'whoami once the other process let go');
    assert.match(after.stdout, /^@alice on http:\/\/127\.0\.0\.1:\d+, device \S+ \(admin\)\n$/);
  });

  it('50 runs of whoami in a row all exit 0, while a backlog keeps the engine busy as it closes', { timeout: 300_000 }, async () => {
    // A backlog of channel messages makes every whoami close its engine in the middle of a batch: the case that
    // exited 13 ("unsettled top-level await") about one run in four.
    for (let i = 0; i < 6; i++) ok(await org.as('bob', ['send', '#general', `backlog ${i}`]), 'send');
    const codes: (number | null)[] = [];
    for (let run = 0; run < 50; run++) {
      const me = await org.as('alice', ['whoami']);
      codes.push(me.code);
      assert.match(me.stdout, /^@alice on http:\/\/127\.0\.0\.1:\d+, device \S+ \(admin\)\n$/, `run ${run + 1}`);
      assert.equal(me.stderr, '', `run ${run + 1}`);
    }
    assert.deepEqual(codes, Array(50).fill(0));
  });
});
