// The relay's start-up as an operator meets it, through the real `wardroom-server` binary: a start that cannot
// succeed says why in one line on stderr, exits non-zero and leaves nothing behind; one data directory serves one
// relay at a time, and its lock goes with the process however it ends.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../../support/server-process.ts';

const BIN = path.join(import.meta.dirname, '..', '..', '..', 'server', 'bin.ts');

function relay(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
    });
  });
}

/** Exit `code`, and exactly the one line `wardroom-server: message` on stderr: no stack, no second line. */
async function refuses(args: string[], code: 1 | 2, message: string | RegExp, env?: NodeJS.ProcessEnv) {
  const run = await relay(args, env);
  assert.equal(run.code, code, run.stderr);
  const lines = run.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  if (typeof message === 'string') assert.equal(lines[0], `wardroom-server: ${message}`);
  else assert.match(lines[0]!, message);
}

describe('wardroom-server start-up', () => {
  after(killSpawnedServers);

  it('refuses a --data that is a file, a busy port, a bad --host and missing TLS files, and creates nothing', { timeout: 120_000 }, async () => {
    const scratch = tempDir();
    const file = path.join(scratch, 'not-a-dir');
    writeFileSync(file, 'x');
    await refuses(['--data', file, '--port', '0'], 1, `--data ${file} is a file, not a directory`);

    const busy = await spawnServer(path.join(scratch, 'busy'));
    const port = new URL(busy.url).port;
    const fresh = path.join(scratch, 'fresh', 'data'); // its parent is missing too
    // TLS (the default): the key pair is made before the port turns out to be taken, and must go again.
    await refuses(['--data', fresh, '--port', port], 1, `port ${port} on 127.0.0.1 is already in use (another relay? --port picks another)`);
    await refuses(['--data', fresh, '--port', '0', '--host', '10.254.254.254'], 1, '--host 10.254.254.254 is not an address of this computer');
    await refuses(['--data', fresh, '--port', '0', '--host', 'no-such-host.invalid'], 1, '--host no-such-host.invalid does not resolve to an address');
    await refuses(['--data', fresh, '--port', '0', '--tls-cert', path.join(scratch, 'none.pem'), '--tls-key', path.join(scratch, 'none.key')], 1,
      `cannot read ${path.join(scratch, 'none.pem')}: ENOENT`);
    assert.equal(existsSync(path.join(scratch, 'fresh')), false, 'no directory left from any failed start');

    // A directory that already existed keeps what it held, and only that.
    const existing = path.join(scratch, 'existing');
    mkdirSync(existing);
    writeFileSync(path.join(existing, 'notes.txt'), 'mine');
    await refuses(['--data', existing, '--port', port], 1, /already in use/);
    assert.deepEqual(readdirSync(existing), ['notes.txt']);

    // So the first start that succeeds is the organisation's first start, with its admin invite.
    const first = await spawnServer(fresh);
    assert.ok(first.firstAdminInvite, 'the admin invite of the first successful start');
    await Promise.all([first.kill('SIGTERM'), busy.kill('SIGTERM')]);
  });

  it('refuses bad flags, settings and commands with one line and exit 2', async () => {
    const dataDir = path.join(tempDir(), 'data');
    await refuses(['--data', dataDir, '--bogus'], 2, "Unknown option '--bogus' (wardroom-server --help lists the options)");
    await refuses(['--data', dataDir, '--port', '99999'], 2, '--port takes a whole number from 0 to 65535');
    await refuses(['--data', dataDir, '--port', 'http'], 2, '--port takes a whole number from 0 to 65535');
    await refuses(['--data', dataDir, '--log-level', 'loud'], 2, '--log-level is one of fatal, error, warn, info, debug, silent');
    await refuses(['frobnicate'], 2, 'unknown command "frobnicate" (wardroom-server --help lists the commands)');
    assert.equal(existsSync(dataDir), false);
  });

  it('invite without a relay\'s data directory says so in one line and creates nothing', async () => {
    const home = tempDir();
    const env = { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, 'share') };
    await refuses(['invite'], 1, `no relay has run from ${path.join(home, 'share', 'wardroom-server')} yet: start it once first, or pass the --data it runs with`, env);
    assert.deepEqual(readdirSync(home), []);
  });

  it('a second relay on the same data directory refuses with one line; the lock goes with the first, even on SIGKILL', { timeout: 60_000 }, async () => {
    const dataDir = tempDir();
    const first = await spawnServer(dataDir);
    await refuses(['--data', dataDir, '--insecure-http', '--port', '0'], 1, `another relay is already running on ${dataDir}`);
    const stillServing = await fetch(`${first.url}/v1/server`);
    assert.equal(stillServing.status, 200, 'the first relay is untouched');
    assert.equal(await first.kill('SIGKILL'), 'SIGKILL');
    const next = await spawnServer(dataDir);
    assert.equal(next.firstAdminInvite, null, 'the same organisation, started again');
    await next.kill('SIGTERM');
  });
});
