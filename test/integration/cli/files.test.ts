// `wardroom send --file` and `wardroom download` as a person runs them: the real binary in child processes against
// a relay process. Files go up with progress on stderr (plain lines, stderr being a pipe here), come down byte for
// byte under their own names, never replacing a file; Ctrl-C cancels an upload and leaves nothing at the relay; an
// upload while the relay is down says once that it waits, and finishes when the relay is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliOrg, type CliOrg } from '../../support/cli.ts';
import { spawnServer } from '../../support/server-process.ts';
import { ProgressReporter } from '../../../core/cli/progress.ts';
import { cameraJpeg, gpsNeedles, SECRETS } from '../../support/camera-images.ts';

describe('wardroom send --file and download', () => {
  let org: CliOrg;
  const blobs = () => {
    const dir = path.join(org.root, 'relay', 'blobs');
    return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length : 0;
  };

  before(async () => {
    org = await cliOrg(['ann', 'ben']);
  });
  after(() => org.close());

  it('sends two files with a text and saves them on the other side, reporting progress and never replacing a file', async () => {
    const work = mkdtempSync(path.join(org.root, 'work-'));
    const report = path.join(work, 'report.pdf');
    const data = path.join(work, 'data.bin');
    writeFileSync(report, '%PDF-1.7 quarterly numbers');
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    writeFileSync(data, bytes);
    const sent = await org.as('ann', ['send', '@ben', 'the numbers', '--file', report, '--file', data]);
    assert.equal(sent.code, 0, sent.stderr);
    const id = sent.stdout.trim().split(' ')[0]!;
    assert.match(sent.stderr, /uploading 2 files 0% .*\n.*uploading 2 files 100% /s, 'plain progress lines on a pipe');
    const read = await org.as('ben', ['read', '@ann']);
    assert.match(read.stdout, /@ann: the numbers {2}\[file 0: report\.pdf, 26 bytes\] {2}\[file 1: data\.bin, 3,145,733 bytes\]/);
    const out = mkdtempSync(path.join(org.root, 'out-'));
    const saved = await org.as('ben', ['download', id, '--out', out]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /saved .*report\.pdf \(26 bytes\)\nsaved .*data\.bin \(3,145,733 bytes\)/);
    assert.match(saved.stderr, /downloading file 0 100% .*\n.*downloading file 1 100% /s, 'files numbered as read lists them');
    assert.deepEqual(readFileSync(path.join(out, 'report.pdf')), readFileSync(report));
    assert.deepEqual(readFileSync(path.join(out, 'data.bin')), bytes);
    const one = await org.as('ben', ['download', id, '--out', out, '--index', '1', '--json']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout.trim()).path, path.join(out, 'data (1).bin'));
    assert.deepEqual(readdirSync(out).sort(), ['data (1).bin', 'data.bin', 'report.pdf']);
  });

  it('a file named to attack the terminal or the file system is listed inert by read and saved under a safe name', async () => {
    const work = mkdtempSync(path.join(org.root, 'names-'));
    // names Linux accepts: a terminal title and colour, CR, a right-to-left override and Windows separators; and 80
    // CJK characters (244 bytes), whose partial file during a download would be over 255 bytes
    const hostile = path.join(work, '\x1b]0;pwned\x07\x1b[31mred\r..\\..\\evil\u202Egnp.exe');
    const long = path.join(work, `${'報'.repeat(80)}.txt`);
    writeFileSync(hostile, 'one');
    writeFileSync(long, 'two');
    const sent = await org.as('ann', ['send', '@ben', 'names', '--file', hostile, '--file', long]);
    assert.equal(sent.code, 0, sent.stderr);
    const read = await org.as('ben', ['read', '@ann', '--limit', '1']);
    assert.doesNotMatch(read.stdout.replaceAll('\n', ''), /[\p{Cc}\p{Cf}]/u, 'nothing a terminal acts on');
    assert.match(read.stdout, /\[file 0: evil_gnp\.exe, 3 bytes\] {2}\[file 1: 報+\.txt, 3 bytes\]\n$/);
    const out = path.join(org.root, 'names-out');
    const saved = await org.as('ben', ['download', sent.stdout.trim().split(' ')[0]!, '--out', out]);
    assert.equal(saved.code, 0, saved.stderr);
    const names = readdirSync(out).sort();
    assert.equal(names.length, 2, names.join(', '));
    assert.equal(names[0], 'evil_gnp.exe', 'no directory, no control or format character');
    assert.match(names[1]!, /^報+\.txt$/);
    assert.ok(Buffer.byteLength(names[1]!) <= 200, 'a name short enough for any file system');
    assert.equal(readFileSync(path.join(out, names[1]!), 'utf8'), 'two');
  });

  it('strips a photo\'s metadata unless original-images is on; link-previews and original-images take on or off', async () => {
    const work = mkdtempSync(path.join(org.root, 'work-'));
    const photo = path.join(work, 'harbour.jpg');
    const original = await cameraJpeg();
    writeFileSync(photo, original);
    const sendAndFetch = async () => {
      const sent = await org.as('ann', ['send', '@ben', '--file', photo]);
      assert.equal(sent.code, 0, sent.stderr);
      const out = mkdtempSync(path.join(org.root, 'photo-'));
      const saved = await org.as('ben', ['download', sent.stdout.trim().split(' ')[0]!, '--out', out]);
      assert.equal(saved.code, 0, saved.stderr);
      return readFileSync(path.join(out, 'harbour.jpg'));
    };
    const stripped = await sendAndFetch();
    assert.ok(gpsNeedles().every((needle) => !stripped.includes(needle)) && !stripped.includes(SECRETS.serial), 'no GPS position or serial by default');
    const on = await org.as('ann', ['original-images', 'on', '--json']);
    assert.equal(on.code, 0, on.stderr);
    assert.deepEqual(JSON.parse(on.stdout), { enabled: true });
    assert.deepEqual(await sendAndFetch(), original, 'sent byte for byte, metadata and all');
    assert.equal((await org.as('ann', ['original-images', 'off'])).stdout, 'original-images off\n');
    assert.equal((await org.as('ann', ['link-previews', 'off'])).stdout, 'link-previews off\n');
    const bad = await org.as('ann', ['link-previews', 'maybe']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /link-previews takes on or off/);
  });

  it('refuses in one line: a missing file, no text and no file, a message with no files', async () => {
    const missing = await org.as('ann', ['send', '@ben', '--file', path.join(org.root, 'nope.bin')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^wardroom: no file at .*nope\.bin\n$/);
    const nothing = await org.as('ann', ['send', '@ben']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /usage: wardroom send TARGET \[TEXT\] \[--file PATH\]/);
    const text = await org.as('ann', ['send', '@ben', 'just words']);
    const none = await org.as('ben', ['download', text.stdout.trim().split(' ')[0]!, '--out', org.root]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no such file/);
  });

  it('cancels an upload on Ctrl-C: exit non-zero, said in one line, and no blob left at the relay', async () => {
    const big = path.join(org.root, 'big.bin');
    writeFileSync(big, randomBytes(80 * 1024 * 1024));
    const before = blobs();
    const child = org.startAs('ann', ['send', '@ben', '--file', big]);
    await child.until('stderr', /uploading 0%/);
    child.process.kill('SIGINT');
    const run = await child.exited;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /wardroom: cancelled\n$/);
    assert.equal(blobs(), before, 'the partial blob was deleted');
  });

  it('cancels a download on Ctrl-C, and refuses one under "preview only": nothing saved, not even the directory it made', async () => {
    const big = path.join(org.root, 'download-me.bin');
    writeFileSync(big, randomBytes(64 * 1024 * 1024));
    const sent = await org.as('ann', ['send', '@ben', '--file', big]);
    assert.equal(sent.code, 0, sent.stderr);
    const id = sent.stdout.trim().split(' ')[0]!;
    const out = path.join(org.root, 'cancelled-downloads', 'today');
    const child = org.startAs('ben', ['download', id, '--out', out]);
    await child.until('stderr', /downloading file 0 [1-9]\d*%/);
    child.process.kill('SIGINT');
    const run = await child.exited;
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /wardroom: cancelled\n$/);
    assert.equal(existsSync(path.join(org.root, 'cancelled-downloads')), false, 'no file, no partial file, no directory made for them');

    assert.equal((await org.as('ann', ['policy', 'set', '--preview-only'])).code, 0);
    const refused = await org.as('ben', ['download', id, '--out', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^wardroom: your organisation's policy allows files to be opened in the app only, not saved\n$/);
    assert.equal(existsSync(path.join(org.root, 'cancelled-downloads')), false, 'preview only: nothing written to disk');
    assert.equal((await org.as('ann', ['policy', 'set', '--no-preview-only'])).code, 0);
    const saved = await org.as('ben', ['download', id, '--out', out]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.deepEqual(readdirSync(out), ['download-me.bin']);
  });

  it('says once that an upload waits while the relay is down, and finishes it when the relay is back', async () => {
    const big = path.join(org.root, 'outage.bin');
    writeFileSync(big, randomBytes(80 * 1024 * 1024));
    const child = org.startAs('ann', ['send', '@ben', 'through an outage', '--file', big]);
    await child.until('stderr', /uploading [1-9]\d*%/);
    const port = new URL(org.relay.url).port;
    await org.relay.kill('SIGKILL');
    await child.until('stderr', /waiting for the relay/);
    org.relay = await spawnServer(path.join(org.root, 'relay'), ['--port', port]);
    const run = await child.exited;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.match(/waiting for the relay/g)?.length, 1, `said once: ${run.stderr}`);
    assert.match(run.stderr, /\nwardroom: waiting for the relay, which cannot be reached \(uploading continues when it is back; Ctrl-C cancels\)\n(.*\n)*wardroom: uploading 100% /);
    const read = await org.as('ben', ['read', '@ann', '--limit', '1']);
    assert.match(read.stdout, /@ann: through an outage {2}\[file 0: outage\.bin, 83,886,080 bytes\]/);
  });

  it('draws a bar in place on a terminal, a line a quarter elsewhere', () => {
    const drawn: string[] = [];
    const bar = new ProgressReporter({ redraw: (text, end) => drawn.push(end ? '\n' : text), line: () => assert.fail('no lines on a terminal') }, 'uploading', false);
    bar.update(0, 4_000_000);
    bar.update(4_000_000, 4_000_000);
    bar.finish();
    assert.deepEqual(drawn, ['uploading [------------------------]   0% 0.0 MB of 4.0 MB', 'uploading [########################] 100% 4.0 MB of 4.0 MB', '\n']);
    const lines: string[] = [];
    const plain = new ProgressReporter({ line: (l) => lines.push(l) }, 'downloading', false);
    for (let done = 0; done <= 100; done += 5) plain.update(done, 100);
    assert.equal(lines.length, 5, '0, 25, 50, 75 and 100%');
    // a wait for the relay ends the bar's line and is said on its own; the bar goes on below it
    drawn.length = 0;
    const waiting = new ProgressReporter({ redraw: (text, end) => drawn.push(end ? '\n' : text), line: (l) => drawn.push(`line: ${l}`) }, 'uploading', false);
    waiting.update(0, 4_000_000);
    waiting.waiting();
    waiting.update(4_000_000, 4_000_000);
    assert.deepEqual(drawn.slice(1), ['\n', 'line: wardroom: waiting for the relay, which cannot be reached (uploading continues when it is back; Ctrl-C cancels)',
      'uploading [########################] 100% 4.0 MB of 4.0 MB']);
  });
});
