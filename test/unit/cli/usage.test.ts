// CLI behaviour that needs no engine: argument errors, passphrase sources and exit codes. The host here refuses to
// be reached, so every case proves the CLI stopped before touching a profile. (The full CLI flow against a real
// server and engines is in test/integration/cli.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError, type WardroomApi } from '../../../core/api/contract.ts';
import { runCli, USAGE, type EngineHost, type CliIo } from '../../../core/cli/main.ts';

const scratch: string[] = [];
after(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wardroom-cli-'));
  scratch.push(dir);
  return dir;
}

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
    link: async () => {
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
  const dir = await scratchDir();
  const file = path.join(dir, 'pass');
  await writeFile(file, 'correct horse battery\nsecond line\n');
  const h = harness({ WARDROOM_PASSPHRASE: 'from-env-passphrase' });
  assert.equal(await h.run(['--profile', dir, '--passphrase-file', file, 'whoami']), 1);
  assert.deepEqual(h.opened, [`${dir}:correct horse battery`]);
  assert.equal(await h.run(['--profile', dir, 'whoami']), 1);
  assert.deepEqual(h.opened.at(-1), `${dir}:from-env-passphrase`);
  assert.equal(await h.run(['--profile', dir, '--passphrase-file', path.join(dir, 'missing'), 'whoami']), 2);
  assert.match(h.err.at(-1)!, /cannot read the passphrase file: ENOENT/);
  await writeFile(path.join(dir, 'empty'), '\nsecond line\n');
  assert.equal(await h.run(['--profile', dir, '--passphrase-file', path.join(dir, 'empty'), 'whoami']), 2);
  assert.match(h.err.at(-1)!, /the passphrase file is empty/);
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

test('unknown commands are usage errors (exit 2) before any passphrase is needed', async () => {
  const h = harness();
  assert.equal(await h.run(['--profile', '/tmp/p', 'frobnicate']), 2);
  assert.match(h.err.at(-1)!, /^wardroom: unknown command: frobnicate/);
  assert.deepEqual(h.opened, []);
});

test('link is a pre-enrolment command: its argument errors stop before the host is reached', async () => {
  const dir = await scratchDir();
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', 'wardroom://join?x']), 2);
  assert.match(h.err.at(-1)!, /link needs --username NAME/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', '--username', 'alice']), 2);
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', 'L', '--username', 'alice', '--recovery-kit', 'K', '--recovery-kit-file', 'F']), 2);
  assert.match(h.err.at(-1)!, /not both/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', 'L', '--username', 'alice', '--recovery-kit-file', path.join(dir, 'missing')]), 2);
  assert.match(h.err.at(-1)!, /cannot read the recovery kit file: ENOENT/);
  assert.deepEqual(h.opened, []);
  assert.doesNotMatch(USAGE, /devices \[--json\] \| link/);
});

/** A host that links: shows a code, waits for `approve()` (or the kit), then answers whoami. */
function linkingHost() {
  const calls: { kit?: string; code?: string }[] = [];
  let approve: () => void = () => {};
  const approved = new Promise<void>((resolve) => (approve = resolve));
  const api: WardroomApi = {
    call: (async (name: string) => {
      if (name !== 'account.whoami') throw new Error(`unexpected ${name}`);
      return { username: 'alice', accountId: 'a1', deviceId: 'dev2', server: 'https://relay', admin: false };
    }) as WardroomApi['call'],
    on: () => () => {},
  };
  const host: EngineHost = {
    open: async () => { throw new Error('not reachable'); },
    join: async () => { throw new Error('not reachable'); },
    link: async (_dir, _link, _username, _passphrase, options, onCode) => {
      calls.push({ ...(options.recoveryKit ? { kit: options.recoveryKit } : {}) });
      onCode('WDL1.abc');
      if (!options.recoveryKit) {
        await new Promise<void>((resolve, reject) => {
          void approved.then(resolve);
          options.signal?.addEventListener('abort', () => reject(new ApiError('INVALID', 'linking was cancelled')));
        });
      }
      return { api, close: async () => {} };
    },
  };
  return { host, calls, approve };
}

test('link prints the code first, waits for approval, then says who it linked as', async () => {
  const { host, approve } = linkingHost();
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise(() => {}) };
  const running = runCli(['--profile', '/tmp/new', 'link', 'wardroom://join?x', '--username', 'alice'], host, io);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(out, ['WDL1.abc']);
  assert.match(err.join('\n'), /approve CODE/);
  approve();
  assert.equal(await running, 0);
  assert.deepEqual(out, ['WDL1.abc', 'linked as @alice (device dev2)']);
});

test('link with a recovery kit file needs no approval and prints no code; Ctrl-C cancels a waiting link', async () => {
  const dir = await scratchDir();
  await writeFile(path.join(dir, 'kit'), 'WRK1.kit-text\n');
  const { host, calls } = linkingHost();
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: () => {}, env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise(() => {}) };
  assert.equal(await runCli(['--profile', '/tmp/new', 'link', 'L', '--username', 'alice', '--recovery-kit-file', path.join(dir, 'kit')], host, io), 0);
  assert.deepEqual(calls, [{ kit: 'WRK1.kit-text' }]);
  assert.deepEqual(out, ['linked as @alice (device dev2)']);

  let interrupt: () => void = () => {};
  const err: string[] = [];
  const cancelled = linkingHost();
  const io2: CliIo = { out: () => {}, err: (l) => err.push(l), env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise((resolve) => (interrupt = resolve)) };
  const running = runCli(['--profile', '/tmp/new', 'link', 'L', '--username', 'alice'], cancelled.host, io2);
  await new Promise((resolve) => setImmediate(resolve));
  interrupt();
  assert.equal(await running, 1);
  assert.equal(err.at(-1), 'wardroom: linking was cancelled');
});

test('read shows local history with a warning, at once, when the relay cannot be reached', async () => {
  const listeners: ((payload: { state: string }) => void)[] = [];
  const message = {
    id: 'AAAAAAAAAAAAAAAAAAAAAA', conversation: 'd:bob', sender: 'bob', senderDevice: 'dev', text: 'kept locally', sentAt: '2026-01-02T03:04:05.000Z',
    mentions: [], reactions: [], status: 'sent', outgoing: false,
  };
  const api: WardroomApi = {
    call: (async (name: string) => {
      if (name === 'sync.now') {
        setImmediate(() => listeners.forEach((l) => l({ state: 'offline' })));
        return new Promise(() => {}); // the relay never answers
      }
      if (name === 'conversations.resolve') return { id: 'd:bob' };
      if (name === 'messages.list') return { messages: [message], hasOlder: false, hasNewer: false };
      if (name === 'messages.markRead') return {};
      throw new Error(`unexpected ${name}`);
    }) as WardroomApi['call'],
    on: ((name: string, listener: (payload: { state: string }) => void) => {
      if (name === 'connection.state') listeners.push(listener);
      return () => {};
    }) as WardroomApi['on'],
  };
  const host: EngineHost = {
    open: async () => ({ api, close: async () => {} }),
    join: async () => { throw new Error('not reachable'); },
    link: async () => { throw new Error('not reachable'); },
  };
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise(() => {}) };
  assert.equal(await runCli(['--profile', '/tmp/p', 'read', '@bob', '--json'], host, io), 0);
  assert.deepEqual(out.map((l) => JSON.parse(l).text), ['kept locally']);
  assert.deepEqual(err, ['wardroom: the relay cannot be reached; showing what this device already has']);
});

test('receipts takes on or off, checked before the profile is opened', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'passphrase' });
  assert.equal(await h.run(['--profile', '/tmp/x', 'receipts', 'maybe']), 2);
  assert.deepEqual(h.err, ['wardroom: receipts takes on or off']);
  assert.deepEqual(h.opened, [], 'the vault was never opened');
});
