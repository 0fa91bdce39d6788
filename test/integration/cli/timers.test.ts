// Timers and the org policy from the command line: durations on send, what read --json shows, a conversation's
// timer, policy show and set (admins only, with a clear error for everyone else), and shred's report. The real
// `wardroom` in child processes against profiles enrolled on a real relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startOrg, type TestOrg } from '../../support/engines.ts';
import { wardroom } from '../../support/cli.ts';

const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('wardroom timers and policy', { timeout: 120_000 }, () => {
  let org: TestOrg;
  let admin: string;
  let bob: string;

  before(async () => {
    org = await startOrg();
    const b = await org.addUser('bob');
    bob = b.profileDir;
    admin = org.admin.profileDir;
    await b.engine.close(); // both are the command line from here on
    await org.admin.engine.close();
  });
  after(() => org.close());

  it('sends with --expire 30s --burn 10s, and read --json shows expiresAt and burnAfterReadSeconds', async () => {
    const sent = await wardroom(['--profile', admin, 'send', '@bob', 'short-lived', '--expire', '30s', '--burn', '10s', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const read = await wardroom(['--profile', bob, 'read', '@admin', '--json', '--peek']);
    assert.equal(read.code, 0, read.stderr);
    const message = lines(read.stdout).find((m) => m.text === 'short-lived')!;
    assert.equal(message.burnAfterReadSeconds, 10);
    const life = Date.parse(message.expiresAt as string) - Date.parse(message.sentAt as string);
    assert.ok(life > 25_000 && life <= 30_000, `expires 30 s after sending (${life} ms)`);
  });

  it('sets a conversation\'s timer, announced to the other side', async () => {
    const set = await wardroom(['--profile', bob, 'timer', '@admin', '1d']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'messages in @admin disappear after 1 day');
    const read = await wardroom(['--profile', admin, 'read', '@bob']);
    assert.match(read.stdout, /-- bob set messages to disappear after 1 day --/);
  });

  it('shows the policy, lets only an admin set it, and says so to anyone else', async () => {
    const none = await wardroom(['--profile', bob, 'policy', 'show', '--json']);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(lines(none.stdout)[0], { version: 0, org: null, canSign: false });
    const refused = await wardroom(['--profile', bob, 'policy', 'set', '--max-expire', '7d']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), 'wardroom: only org admins can change the org policy');
    const set = await wardroom(['--profile', admin, 'policy', 'set', '--max-expire', '7d', '--max-burn', '1h', '--require-timer', '--default-expire', '1d']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /org policy version 1\n {2}max expiry: 7 days\n {2}max burn after reading: 1 hour\n {2}timer required: yes\n {2}default expiry: 1 day\nsigned and published/);
    const shown = await wardroom(['--profile', bob, 'policy', 'show', '--json']);
    const policy = lines(shown.stdout)[0]!;
    assert.deepEqual({ ...policy, org: undefined }, { version: 1, maxExpireSeconds: 604_800, maxBurnSeconds: 3600, requireTimer: true, defaultExpireSeconds: 86_400, org: undefined, canSign: false });
    assert.equal(typeof policy.org, 'string', 'the org key bob pinned');
    const over = await wardroom(['--profile', bob, 'timer', '@admin', '30d']);
    assert.equal(over.code, 1);
    assert.equal(over.stderr.trim(), 'wardroom: the org policy lets messages live at most 7 days');
  });

  it('sets the file rules from the command line, shows them to everyone, and bob\'s send is refused in his terms', async () => {
    const set = await wardroom(['--profile', admin, 'policy', 'set', '--max-file-size', '100MB', '--allowed-types', 'image/*,application/pdf', '--preview-only', '--link-previews', 'off']);
    assert.equal(set.code, 0, set.stderr);
    const shown = await wardroom(['--profile', bob, 'policy', 'show']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\n {2}files: on, open in the app only \(no saving\)\n {2}largest file: 100 MB\n {2}file types: image\/\*, application\/pdf\n {2}link previews: off\n/);
    const json = lines((await wardroom(['--profile', bob, 'policy', 'show', '--json'])).stdout)[0]!;
    assert.deepEqual([json.maxFileBytes, json.allowedFileTypes, json.filePreviewOnly, json.linkPreviews], [100 * 1024 ** 2, ['image/*', 'application/pdf'], true, false]);
    const off = await wardroom(['--profile', admin, 'policy', 'set', '--files', 'off']);
    assert.match(off.stdout, /\n {2}files: off\n/);
    const file = path.join(bob, '..', 'note.txt');
    writeFileSync(file, 'hello');
    const refused = await wardroom(['--profile', bob, 'send', '@admin', '--file', file]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), 'wardroom: your organisation\'s policy does not allow sending files');
    const lifted = await wardroom(['--profile', admin, 'policy', 'set', '--files', 'on', '--max-file-size', 'off', '--allowed-types', 'any', '--no-preview-only', '--link-previews', 'on']);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.match(lifted.stdout, /files: on\n {2}largest file: no limit but the relay's\n {2}file types: any\n {2}link previews: on/);
  });

  it('shreds on demand and reports what it removed', async () => {
    const shred = await wardroom(['--profile', bob, 'shred', '--json']);
    assert.equal(shred.code, 0, shred.stderr);
    const report = lines(shred.stdout)[0]!;
    assert.deepEqual(Object.keys(report).sort(), ['bytes', 'files', 'pages', 'rows', 'walBytes']);
  });
});
