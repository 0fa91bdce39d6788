// CLI behaviour that needs no engine: argument errors, passphrase sources and exit codes. The host here refuses to
// be reached, so every case proves the CLI stopped before touching a profile. (The full CLI flow against a real
// server and engines is in test/integration/cli.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

test('no arguments prints usage on stderr and exits 2; --help prints it on stdout and exits 0', async () => {
  const h = harness();
  assert.equal(await h.run([]), 2);
  assert.match(h.err.join('\n'), /^usage: wardroom/);
  assert.deepEqual(h.out, []);
  assert.equal(await h.run(['--help']), 0);
  assert.match(h.out.join('\n'), /^usage: wardroom/);
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

test('an engine failure that is not an API error does not leak its message, and says where the log is', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--profile', '/tmp/p', 'whoami']), 1);
  assert.deepEqual(h.err, ['wardroom: unexpected error (details in /tmp/p/wardroom.log)']);
});

test('bad numbers for timers are refused before the engine opens', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--expire', '-5']), 2);
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--expire', 'soon']), 2);
  assert.match(h.err.at(-1)!, /--expire: "soon" is not a duration: write it like 30s, 5m, 2h or 7d/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--burn', '3s']), 2);
  assert.match(h.err.at(-1)!, /--burn: timers are at least 5 seconds/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', '#ops', 'hi', '--expire', '400d']), 2);
  assert.match(h.err.at(-1)!, /at most 365 days/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'set']), 2);
  assert.match(h.err.at(-1)!, /policy set changes nothing/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'set', '--max-expire', '1w']), 2);
  assert.match(h.err.at(-1)!, /--max-expire: "1w" is not a duration/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'set', '--max-file-size', 'huge']), 2);
  assert.match(h.err.at(-1)!, /--max-file-size: "huge" is not a size: write it like 100MB/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'set', '--files', 'yes']), 2);
  assert.match(h.err.at(-1)!, /--files takes on or off/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'set', '--allowed-types', 'images']), 2);
  assert.match(h.err.at(-1)!, /--allowed-types: images is not a media type such as image\/png or image\/\*/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'policy', 'frob']), 2);
  assert.equal(await h.run(['--profile', '/tmp/p', 'timer', '@bob']), 2);
  assert.deepEqual(h.opened, [], 'all before the engine opens');
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
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', 'L', '--username', 'alice', '--recovery-kit', 'K']), 2);
  assert.match(h.err.at(-1)!, /^wardroom: --recovery-kit would show the kit to everyone on this computer \(ps\): use --recovery-kit-file FILE/);
  assert.equal(await h.run(['--profile', '/tmp/p', 'link', 'L', '--username', 'alice', '--recovery-kit=K']), 2);
  assert.match(h.err.at(-1)!, /--recovery-kit-file/);
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
    call: (async (name: string, request: { name?: string }) => {
      // a new device is named at once (the host name unless --device-name says otherwise)
      if (name === 'devices.rename') return { id: 'dev2', name: request.name, createdAt: '2026-01-02T03:04:05.000Z', current: true, status: 'active' };
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
  assert.deepEqual(err.map((l) => JSON.parse(l)), [{ notice: 'the relay cannot be reached; showing what this device already has' }], 'under --json stderr is JSON too');
});

test('receipts takes on or off, checked before the profile is opened', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'passphrase' });
  assert.equal(await h.run(['--profile', '/tmp/x', 'receipts', 'maybe']), 2);
  assert.deepEqual(h.err, ['wardroom: receipts takes on or off']);
  assert.deepEqual(h.opened, [], 'the vault was never opened');
});

/** A host whose engine answers the given commands (anything else fails the test), recording every call. */
/** What every command that names a conversation calls first, and what `read` calls last. */
const defaults: Record<string, (request: Record<string, unknown>) => unknown> = {
  'conversations.resolve': ({ target }) => ({ id: `${(target as string)[0] === '#' ? 'c' : 'd'}:${(target as string).slice(1)}` }),
  'messages.markRead': () => ({}),
};

function apiHost(handlers: Record<string, (request: Record<string, unknown>) => unknown>, openFails: ApiError[] = []) {
  const calls: { name: string; request: Record<string, unknown> }[] = [];
  const api: WardroomApi = {
    call: (async (name: string, request: Record<string, unknown>) => {
      calls.push({ name, request });
      const handler = handlers[name] ?? defaults[name];
      if (!handler) throw new Error(`unexpected ${name}`);
      return handler(request);
    }) as WardroomApi['call'],
    on: () => () => {},
  };
  let opens = 0;
  const host: EngineHost = {
    open: async () => {
      const failure = openFails[opens++];
      if (failure) throw failure;
      return { api, close: async () => {} };
    },
    join: async () => { throw new Error('not reachable'); },
    link: async () => { throw new Error('not reachable'); },
  };
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise(() => {}) };
  return { calls, out, err, opens: () => opens, run: (argv: string[]) => runCli(['--profile', '/tmp/p', ...argv], host, io) };
}

test('help, COMMAND --help and --version need no profile and no passphrase', async () => {
  const h = harness();
  assert.equal(await h.run(['help']), 0);
  assert.equal(h.out.pop(), USAGE);
  assert.match(USAGE, /WARDROOM_PROFILE/);
  assert.equal(await h.run(['help', 'read']), 0);
  const readHelp = h.out.pop()!;
  assert.match(readHelp, /^usage: wardroom read TARGET \[--limit N\] \[--before ID\] \[--follow\] \[--peek\]\n/);
  assert.match(readHelp, /pages through the\s+history itself/);
  assert.equal(await h.run(['read', '--help']), 0);
  assert.equal(h.out.pop(), readHelp, 'COMMAND --help is help COMMAND');
  assert.equal(await h.run(['help', 'channel']), 0);
  assert.match(h.out.pop()!, /wardroom channel remove NAME USERNAME/);
  assert.equal(await h.run(['help', 'frobnicate']), 2);
  assert.match(h.err.pop()!, /^wardroom: no command frobnicate/);
  const { version } = JSON.parse(await readFile(path.join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(await h.run(['--version']), 0);
  assert.equal(h.out.pop(), `wardroom ${version}`);
  assert.equal(await h.run(['--version', '--json']), 0);
  assert.deepEqual(JSON.parse(h.out.pop()!), { version });
  assert.deepEqual(h.opened, []);
});

test('under --json every error is one JSON object {code, message} on stderr', async () => {
  const h = harness({ WARDROOM_PASSPHRASE: 'pass-phrase-1' });
  assert.equal(await h.run(['--json', 'frobnicate']), 2);
  assert.deepEqual(JSON.parse(h.err.pop()!), { code: 'USAGE', message: 'unknown command: frobnicate (wardroom help lists them)' });
  assert.equal(await h.run(['--json', '--bogus']), 2);
  assert.equal(JSON.parse(h.err.pop()!).code, 'USAGE', 'a flag the parser refuses, too');
  assert.equal(await h.run(['--json', '--profile', '/tmp/p', 'whoami']), 1);
  assert.deepEqual(JSON.parse(h.err.pop()!), { code: 'INTERNAL', message: 'unexpected error (details in /tmp/p/wardroom.log)' });
  const refused = apiHost({ 'account.whoami': () => { throw new ApiError('RELAY', 'the relay refused: \x1b[31mno\nZZfake'); } });
  assert.equal(await refused.run(['--json', 'whoami']), 1);
  assert.deepEqual(refused.err.map((l) => JSON.parse(l)), [{ code: 'RELAY', message: 'the relay refused: \x1b[31mno\nZZfake' }]);
  assert.equal(await refused.run(['whoami']), 1);
  assert.deepEqual(refused.err.slice(1), ['wardroom: the relay refused: \\x1b[31mno\\nZZfake'], 'the relay\'s words, neutralised, on one line');
  assert.ok(h.err.every((line) => !line.includes('\n')));
});

test('a bare word as a target is a usage error that suggests @word, before the profile is opened', async () => {
  const h = harness();
  assert.equal(await h.run(['--profile', '/tmp/p', 'send', 'bob', 'hi']), 2);
  assert.deepEqual(h.err.pop(), 'wardroom: a target starts with @ or #: did you mean @bob (a person) or #bob (a channel)?');
  assert.equal(await h.run(['--profile', '/tmp/p', 'read', 'general']), 2);
  assert.match(h.err.pop()!, /did you mean @general \(a person\) or #general \(a channel\)\?$/);
  assert.deepEqual(h.opened, []);
});

test('--recovery-kit-file - reads the kit from standard input, and refuses an empty or endless one', async () => {
  const run = async (stdin: string) => {
    const { host, calls } = linkingHost();
    const err: string[] = [];
    const io: CliIo = {
      out: () => {}, err: (l) => err.push(l), env: { WARDROOM_PASSPHRASE: 'pass-phrase-1' }, interrupted: new Promise(() => {}),
      stdinLine: async (max) => stdin.slice(0, max + 1),
    };
    const code = await runCli(['--profile', '/tmp/new', 'link', 'L', '--username', 'alice', '--recovery-kit-file', '-'], host, io);
    return { code, calls, err };
  };
  const piped = await run('WRK1.from-stdin\nrest is ignored');
  assert.equal(piped.code, 0);
  assert.deepEqual(piped.calls, [{ kit: 'WRK1.from-stdin' }]);
  const empty = await run('\n');
  assert.equal(empty.code, 2);
  assert.deepEqual(empty.err, ['wardroom: no recovery kit on standard input (it is the first line)']);
  const endless = await run('W'.repeat(10_000));
  assert.equal(endless.code, 2);
  assert.match(endless.err[0]!, /far too long/);
});

test('read pages through the history itself: any --limit, oldest first, --before passed on', async () => {
  const ids = Array.from({ length: 450 }, (_, i) => `m${String(i).padStart(21, '0')}`); // oldest first
  const view = (id: string) => ({
    id, conversation: 'd:bob', sender: 'bob', senderDevice: 'dev', text: `text ${id}`, sentAt: '2026-01-02T03:04:05.000Z',
    mentions: [], reactions: [], status: 'sent', outgoing: false,
  });
  const h = apiHost({
    'sync.now': () => ({ received: 0, sent: 0 }),
    'messages.list': ({ limit, before }) => {
      const end = before ? ids.indexOf(before as string) : ids.length;
      const start = Math.max(0, end - (limit as number));
      return { messages: ids.slice(start, end).map(view), hasOlder: start > 0, hasNewer: end < ids.length }; // oldest first
    },
  });
  assert.equal(await h.run(['read', '@bob', '--limit', '420', '--json']), 0);
  assert.deepEqual(h.out.map((l) => JSON.parse(l).id), ids.slice(30));
  const pages = h.calls.filter((c) => c.name === 'messages.list').map((c) => c.request);
  assert.deepEqual(pages, [{ conversation: 'd:bob', limit: 200 }, { conversation: 'd:bob', limit: 200, before: ids[250] }, { conversation: 'd:bob', limit: 20, before: ids[50] }]);

  h.out.length = 0;
  assert.equal(await h.run(['read', '@bob', '--limit', '1000', '--before', ids[100]!, '--json']), 0);
  assert.deepEqual(h.out.map((l) => JSON.parse(l).id), ids.slice(0, 100), 'stops when the history runs out');
  h.out.length = 0;
  assert.equal(await h.run(['read', '@bob']), 0);
  assert.equal(h.out.length, 50, 'the last 50 by default');
  assert.match(h.out.at(-1)!, new RegExp(`^${ids.at(-1)} `));
});

test('channel add, remove, leave and topic, edit, delete and react each print one line saying what changed', async () => {
  const ok = () => ({});
  const h = apiHost({
    'channels.add': ok, 'channels.remove': ok, 'channels.leave': ok, 'channels.setTopic': ok, 'messages.edit': ok, 'messages.delete': ok, 'messages.react': ok,
  });
  const id = 'AbCdEfGhIjKlMnOpQrStUv';
  const cases: [string[], string, unknown][] = [
    [['channel', 'add', 'general', 'bob'], 'added @bob to #general', { channel: 'general', username: 'bob', member: true }],
    [['channel', 'remove', 'general', 'bob'], 'removed @bob from #general', { channel: 'general', username: 'bob', member: false }],
    [['channel', 'leave', 'general'], 'left #general', { channel: 'general', left: true }],
    [['channel', 'topic', 'general', 'all hands'], 'set the topic of #general: all hands', { channel: 'general', topic: 'all hands' }],
    [['edit', id, 'new text'], `edited ${id}`, { id, text: 'new text' }],
    [['delete', id], `deleted ${id} for everyone`, { id, deleted: true }],
    [['react', id, '👍'], `reacted 👍 to ${id}`, { id, emoji: '👍', removed: false }],
    [['react', id, '👍', '--remove'], `removed 👍 from ${id}`, { id, emoji: '👍', removed: true }],
  ];
  for (const [args, human, json] of cases) {
    h.out.length = 0;
    assert.equal(await h.run(args), 0);
    assert.deepEqual(h.out, [human], args.join(' '));
    h.out.length = 0;
    assert.equal(await h.run([...args, '--json']), 0);
    assert.deepEqual(h.out.map((l) => JSON.parse(l)), [json], `${args.join(' ')} --json`);
  }
  assert.deepEqual(h.err, []);
});

test('a busy profile: the command says so once on stderr, waits, and goes on when the other process lets go', async () => {
  const busy = new ApiError('LOCKED', 'this profile is in use by another wardroom process (pid 4242)');
  const h = apiHost({ 'account.whoami': () => ({ username: 'alice', accountId: 'a1', deviceId: 'dev1', server: 'https://relay', admin: false }) }, [busy, busy]);
  assert.equal(await h.run(['whoami']), 0);
  assert.equal(h.opens(), 3);
  assert.deepEqual(h.err, ['wardroom: this profile is in use by another wardroom process (pid 4242): waiting up to 5 s for it to finish']);
  assert.deepEqual(h.out, ['@alice on https://relay, device dev1']);
});

test('a message id that starts with a dash is an argument, not an option, also as the value of --reply or --before', async () => {
  const id = '-5bCdEfGhIjKlMnOpQrStU';
  const other = '--xYz0123456789_abcdef';
  const h = apiHost({ 'messages.edit': () => ({}), 'messages.react': () => ({}), 'messages.send': (r) => ({ id: 'AbCdEfGhIjKlMnOpQrStUv', status: 'sent', replyTo: r.replyTo }) });
  assert.equal(await h.run(['edit', id, 'new text']), 0);
  assert.equal(await h.run(['react', other, '👍']), 0);
  assert.equal(await h.run(['send', '@bob', 'hi', '--reply', id]), 0);
  const requests = h.calls.filter((c) => c.name !== 'conversations.resolve').map((c) => c.request);
  assert.deepEqual(requests, [{ id, text: 'new text' }, { id: other, emoji: '👍', remove: false }, { conversation: 'd:bob', text: 'hi', replyTo: id }]);
  const typo = harness();
  assert.equal(await typo.run(['--profile', '/tmp/p', 'whoami', '--passphrase-fil']), 2, 'a mistyped option is still refused');
  assert.match(typo.err.pop()!, /Unknown option '--passphrase-fil'/);
});
