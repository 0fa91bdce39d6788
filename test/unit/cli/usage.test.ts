// CLI behaviour that needs no engine: argument errors, passphrase sources and exit codes. The host here refuses to
// be reached, so every case proves the CLI stopped before touching a profile. (The full CLI flow against a real
// server and engines is in test/integration/cli.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, type EngineHost, type CliIo } from '../../../core/cli/main.ts';

function harness(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const opened: string[] = [];
  const host: EngineHost = {
    open: async (dir, passphrase) => {
      opened.push(`${dir}:${passphrase}`);
      throw new Error('not reachable in this test');
    },
    join: async () => {
      throw new Error('not reachable in this test');
    },
  };
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, interrupted: new Promise(() => {}) };
  return { out, err, opened, run: (argv: string[]) => runCli(argv, host, io) };
}

test('no arguments prints usage and exits 2; --help exits 0', async () => {
  const h = harness();
  assert.equal(await h.run([]), 2);
  assert.match(h.out.join('\n'), /usage: wardroom/);
  assert.equal(await h.run(['--help']), 0);
});

test('missing profile, missing passphrase and unknown flags are one-line usage errors (exit 2)', async () => {
  const h = harness();
  assert.equal(await h.run(['whoami']), 2);
  assert.match(h.err.at(-1)!, /^wardroom: no profile/);
  assert.equal(await h.run(['--profile', '/tmp/x', 'whoami']), 2);
  assert.match(h.err.at(-1)!, /^wardroom: no passphrase: set WARDROOM_PASSPHRASE/);
  assert.equal(await h.run(['--profile', '/tmp/x', '--bogus', 'whoami']), 2);
  assert.match(h.err.at(-1)!, /^wardroom: Unknown option '--bogus'/);
  assert.deepEqual(h.opened, []);
  assert.ok(h.err.every((line) => !line.includes('\n')));
});

test('the passphrase file wins over the environment and only its first line is used', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wardroom-cli-'));
  const file = path.join(dir, 'pass');
  await writeFile(file, 'correct horse battery\nsecond line\n');
  const h = harness({ WARDROOM_PASSPHRASE: 'from-env-passphrase' });
  assert.equal(await h.run(['--profile', dir, '--passphrase-file', file, 'whoami']), 1);
  assert.deepEqual(h.opened, [`${dir}:correct horse battery`]);
  assert.equal(await h.run(['--profile', dir, 'whoami']), 1);
  assert.deepEqual(h.opened.at(-1), `${dir}:from-env-passphrase`);
  assert.equal(await h.run(['--profile', dir, '--passphrase-file', path.join(dir, 'missing'), 'whoami']), 2);
  assert.match(h.err.at(-1)!, /cannot read the passphrase file: ENOENT/);
});

test('an engine failure that is not an API error does not leak its message into the one-line error', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--profile', '/tmp/p', 'whoami']), 1);
  assert.equal(h.err[0], 'wardroom: unexpected error (see the log)');
});

test('bad numbers for timers are refused before the engine opens', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--expire', '-5']), 2);
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--expire', 'soon']), 2);
  assert.match(h.err.at(-1)!, /--expire takes a whole number/);
});
