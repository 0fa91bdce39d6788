// The compliance archive from the command line: the real `wardroom` binary, one process per command, against a
// real relay process. `archive sync` and `archive run` (stopped by SIGTERM and Ctrl-C) record, `archive export`
// writes the signed record, `archive verify` checks it (with no profile) and names the first bad line; while
// retention is on, `whoami` and `read` say so.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliOrg, wardroom, type CliOrg, type CliRun } from '../../support/cli.ts';

const ok = (run: CliRun, what: string) => assert.equal(run.code, 0, `${what}: ${run.stderr}`);

describe('wardroom archive (real relay, real binary)', () => {
  let org: CliOrg;
  const file = (name: string) => path.join(org.root, name);

  before(async () => {
    org = await cliOrg(['admin', 'alice', 'archive']);
  });
  after(() => org?.close());

  it('archive sync puts the profile in archive mode and records what it receives', async () => {
    const first = await org.as('archive', ['archive', 'sync', '--json']);
    ok(first, 'archive sync');
    const status = JSON.parse(first.stdout) as { archiving: boolean; records: number; fingerprint: string; retention: { on: boolean } };
    assert.deepEqual({ archiving: status.archiving, records: status.records, on: status.retention.on }, { archiving: true, records: 0, on: false });
    assert.match(status.fingerprint, /^[A-Za-z0-9_-]{43}$/);
    ok(await org.as('alice', ['send', '@archive', 'hello archive']), 'send');
    const second = await org.as('archive', ['archive', 'sync']);
    ok(second, 'archive sync');
    assert.equal(second.stdout, 'archive: 1 records; retention off\n');
  });

  it('archive run records until SIGTERM or Ctrl-C stops it cleanly', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const run = org.startAs('archive', ['archive', 'run']);
      await run.until('stdout', /running until stopped/);
      const before = Number(/archive: (\d+) records/.exec(run.stdout)![1]);
      ok(await org.as('alice', ['send', '@archive', `while running (${signal})`]), 'send');
      await run.until('stdout', new RegExp(`archive: ${before + 1} records`));
      run.process.kill(signal);
      const done = await run.exited;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, new RegExp(`archive: stopped with ${before + 1} records\\n$`));
    }
  });

  it('archive export writes the signed record, archive verify checks it without a profile and names the first bad line', async () => {
    const exported = await org.as('archive', ['archive', 'export', '--out', file('export.jsonl')]);
    ok(exported, 'export');
    const fingerprint = /signed by key ([A-Za-z0-9_-]{43})$/m.exec(exported.stdout)![1]!;
    assert.match(exported.stdout, /^exported 3 records to /);
    const again = await org.as('archive', ['archive', 'export', '--out', file('export.jsonl')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists already: choose a new file/);

    const verified = await wardroom(['archive', 'verify', file('export.jsonl'), '--key', fingerprint]);
    ok(verified, 'verify');
    assert.equal(verified.stdout, `verified 3 records by @archive, signed by key ${fingerprint} (the one given)\n`);
    const lines = readFileSync(file('export.jsonl'), 'utf8').trimEnd().split('\n');
    const bad = async (name: string, changed: string[]) => {
      writeFileSync(file(name), `${changed.join('\n')}\n`);
      const run = await wardroom(['archive', 'verify', file(name)]);
      assert.equal(run.code, 1, name);
      assert.equal(run.stdout, '');
      return run.stderr.trim();
    };
    const altered = [...lines];
    altered[2] = altered[2]!.replace('while running', 'while walking');
    assert.match(await bad('altered.jsonl', altered), /altered\.jsonl: line 3: altered/);
    assert.match(await bad('removed.jsonl', lines.filter((_, i) => i !== 1)), /removed\.jsonl: line 2: record 3 is out of place/);
    assert.match(await bad('moved.jsonl', [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]), /moved\.jsonl: line 2: record 3 is out of place/);
    assert.match(await bad('appended.jsonl', [...lines, lines[1]!]), new RegExp(`appended\\.jsonl: line ${lines.length + 1}: a line after the signed end`));
    const wrongKey = await wardroom(['archive', 'verify', file('export.jsonl'), '--key', 'A'.repeat(43)]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /line 1: signed by the key .* not the one given with --key/);
    const missing = await wardroom(['archive', 'verify', file('nothing.jsonl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nothing\.jsonl: no such file/);
    const usage = await org.as('archive', ['archive', 'export']);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, 'wardroom: archive export needs --out FILE\n');
    const notArchive = await org.as('alice', ['archive', 'export', '--out', file('alice.jsonl')]);
    assert.equal(notArchive.code, 1);
    assert.match(notArchive.stderr, /this profile is not the archive/);
  });

  it('while retention is on, whoami and read say so, and the change is announced in the conversation', async () => {
    const typo = await org.as('admin', ['policy', 'set', '--retention', 'yes']);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, 'wardroom: --retention takes on or off\n');
    const none = await org.as('admin', ['policy', 'set', '--retention', 'on']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /retention needs an archive account/);
    const set = await org.as('admin', ['policy', 'set', '--retention', 'on', '--archive-account', 'archive']);
    ok(set, 'policy set');
    assert.match(set.stdout, /^ {2}retention: on, archive @archive$/m);
    const shown = await org.as('alice', ['policy', 'show']);
    ok(shown, 'policy show');
    assert.match(shown.stdout, /^ {2}retention: on, archive @archive$/m);
    const me = await org.as('alice', ['whoami']);
    ok(me, 'whoami');
    assert.equal(me.stdout.split('\n')[1], 'Retention is on in this workspace: the organisation\'s archive keeps a copy of every message, edit, deletion and attachment (the archive is @archive)');
    const json = await org.as('alice', ['whoami', '--json']);
    assert.deepEqual((JSON.parse(json.stdout) as { retention: unknown }).retention, {
      on: true, archiveAccount: 'archive', notice: 'Retention is on in this workspace: the organisation\'s archive keeps a copy of every message, edit, deletion and attachment',
    });
    let read: CliRun | undefined;
    for (let i = 0; i < 5; i++) {
      read = await org.as('alice', ['read', '@archive']);
      ok(read, 'read');
      if (read.stdout.includes('retention was turned on')) break;
    }
    const lines = read!.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '-- Retention is on in this workspace: the organisation\'s archive keeps a copy of every message, edit, deletion and attachment (the archive is @archive) --');
    assert.match(lines.at(-1)!, /^[A-Za-z0-9_-]{16,64} {2}.* {2}-- retention was turned on: the archive @archive keeps a copy of everything from now on --$/);
    const jsonRead = await org.as('alice', ['read', '@archive', '--json']);
    assert.match(jsonRead.stderr, /\{"notice":"Retention is on in this workspace/);
    assert.ok(jsonRead.stdout.trimEnd().split('\n').every((l) => 'id' in (JSON.parse(l) as object)), 'stdout stays one message a line');
  });

  it('archive export writes the files beside the record, and archive verify names a file that was altered or removed', async () => {
    writeFileSync(file('plan.txt'), 'the plan\n');
    ok(await org.as('alice', ['send', '@archive', 'the plan attached', '--file', file('plan.txt')]), 'send a file');
    ok(await org.as('archive', ['archive', 'sync']), 'archive sync');
    const exported = await org.as('archive', ['archive', 'export', '--out', file('files.jsonl')]);
    ok(exported, 'export');
    assert.match(exported.stdout, /; 1 files in .*files\.jsonl\.files$/m);
    const verified = await wardroom(['archive', 'verify', file('files.jsonl')]);
    ok(verified, 'verify');
    assert.match(verified.stdout, /; 1 files beside it match\n$/);
    const record = readFileSync(file('files.jsonl'), 'utf8').split('\n').findIndex((l) => l.includes('"plan.txt"')) + 1;
    const [name] = readdirSync(file('files.jsonl.files'));
    writeFileSync(path.join(file('files.jsonl.files'), name!), 'another plan\n');
    const altered = await wardroom(['archive', 'verify', file('files.jsonl'), '--json']);
    assert.equal(altered.code, 1);
    const said = JSON.parse(altered.stderr) as { line: number; message: string; file: string };
    assert.equal(said.line, record);
    assert.equal(said.file, path.join(file('files.jsonl.files'), name!));
    assert.match(said.message, /"plan\.txt"\) was altered/);
    rmSync(said.file);
    const removed = await wardroom(['archive', 'verify', file('files.jsonl')]);
    assert.equal(removed.code, 1);
    assert.match(removed.stderr, new RegExp(`line ${record}: the file files\\.jsonl\\.files/${name} \\("plan\\.txt"\\) is missing`));
  });
});
