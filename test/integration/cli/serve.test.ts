// `wardroom serve` as bots run it: real `wardroom` processes (core/cli/bin.ts) on profiles enrolled on a real relay
// on loopback. Two bots talk through the relay (the echo bot is the code block of docs/bots.md, run as written),
// malformed input gets JSON-RPC errors while the serve keeps going, clients vanish mid-call, and one-shot commands
// run through the serve's profile socket while it holds the profile.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { MAX_REQUEST_BYTES } from '../../../core/api/json-rpc.ts';
import { createChannel, idOf, PASSPHRASE, startOrg, type TestOrg } from '../../support/engines.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'core', 'cli', 'bin.ts');
const env: NodeJS.ProcessEnv = { ...process.env, WARDROOM_PASSPHRASE: PASSPHRASE, WARDROOM_KDF: 'interactive' };

type Json = Record<string, unknown> & { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string; data: { code: string } } };

/** JSON-RPC over any pair of streams, recording every line it reads (they must all be JSON). */
class LineClient {
  readonly received: Json[] = [];
  readonly raw: string[] = [];
  #partial = '';
  #lastId = 1000;
  #waiters = new Set<() => void>();
  readonly output: Writable;

  constructor(input: Readable, output: Writable) {
    this.output = output;
    input.on('data', (chunk: Buffer) => {
      const lines = (this.#partial + chunk.toString('utf8')).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) {
        this.raw.push(line);
        this.received.push(JSON.parse(line) as Json);
      }
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  send(text: string | Buffer): void {
    this.output.write(text);
  }

  /** The first line received that `find` accepts (waiting for it). */
  next(find: (message: Json) => boolean, what: string, timeoutMs = 20_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.find(find);
        if (!found) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received).slice(-1500)}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  reply(id: unknown, what = `the reply to ${String(id)}`): Promise<Json> {
    return this.next((m) => m.id === id && ('result' in m || 'error' in m), what);
  }

  async call(method: string, params?: unknown): Promise<Json> {
    const id = ++this.#lastId;
    this.send(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`);
    return this.reply(id, `the reply to ${method}`);
  }
}

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | string>;
  until(find: (p: Proc) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();

function start(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(command, args, { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => [...waiters].forEach((w) => w());
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  child.stdin!.on('error', () => {}); // a child that stopped reading is what some tests are about
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve(code ?? signal ?? -1);
  }));
  const proc: Proc = {
    child, exited, stdout: () => stdout, stderr: () => stderr,
    until(find, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!find(proc)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\nstdout: ${stdout.slice(-1500)}\nstderr: ${stderr.slice(-1500)}`)), timeoutMs);
        waiters.add(check);
        child.once('exit', check);
        check();
      });
    },
  };
  return proc;
}

/** `wardroom --profile DIR serve …`, ready once it says so on stderr. */
async function startServe(profileDir: string, args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<Proc & { rpc: LineClient }> {
  const proc = start(process.execPath, [BIN, '--profile', profileDir, 'serve', ...args], extraEnv);
  const rpc = new LineClient(proc.child.stdout!, proc.child.stdin!);
  await proc.until((p) => p.stderr().includes('wardroom serve: ready'), 'serve to be ready');
  return Object.assign(proc, { rpc });
}

/** A one-shot `wardroom` command, to its exit. */
async function wardroom(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const proc = start(process.execPath, [BIN, ...args], extraEnv);
  proc.child.stdin!.end();
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

async function connect(socketPath: string): Promise<LineClient & { socket: net.Socket }> {
  const socket = net.connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return Object.assign(new LineClient(socket, socket), { socket });
}

/** The ```js block of docs/bots.md, the echo bot, as a file to run. */
function echoBotFrom(dir: string): string {
  const doc = readFileSync(path.join(ROOT, 'docs', 'bots.md'), 'utf8');
  const code = /\n## An echo bot\n[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, 'docs/bots.md has the echo bot');
  const file = path.join(dir, 'echo-bot.mjs');
  writeFileSync(file, code);
  return file;
}

/** Polls `check` (for what has no event to wait on: a log line). */
async function eventually(check: () => boolean, what: string, context: () => string = () => '', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const isJsonRpc = (m: Json) => m.jsonrpc === '2.0' && ('result' in m || 'error' in m || typeof m.method === 'string');

describe('wardroom serve', () => {
  let org: TestOrg;
  let alice: string;
  let bob: string;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'wardroom-serve-'));
    org = await startOrg();
    const a = await org.addUser('alice');
    const b = await org.addUser('bob');
    await createChannel(a, 'bots', ['bob']);
    // bob has the channel (and its key) before his profile is handed to a serve
    await a.engine.api.call('messages.send', { conversation: await idOf(a.engine.api, '#bots'), text: 'setting up' });
    await b.waitFor(() => b.received().find((m) => m.text === 'setting up'), 20_000, 'the first channel message');
    alice = a.profileDir;
    bob = b.profileDir;
    await a.engine.close();
    await b.engine.close();
  });

  // a failed test must not leave a serve holding a profile for the next one
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
  });

  after(async () => {
    await org?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('two bots talk through the relay: one sends, the echo bot of docs/bots.md answers, the first receives the echo', { timeout: 90_000 }, async () => {
    const bobSocket = path.join(scratch, 'bob.sock');
    const bobServe = await startServe(bob, ['--socket', bobSocket]);
    assert.equal(statSync(bobSocket).mode & 0o777, 0o600, '--socket is created 0600');
    assert.equal(statSync(path.join(bob, 'wardroom.sock')).mode & 0o777, 0o600, 'the profile socket is 0600');
    const bot = start(process.execPath, [echoBotFrom(scratch), bobSocket, '#bots']);
    await bot.until((p) => p.stderr().includes('echoing #bots'), 'the echo bot to find #bots');

    const aliceServe = await startServe(alice);
    const bots = (await aliceServe.rpc.call('conversations.resolve', { target: '#bots' })).result!.id;
    const sent = await aliceServe.rpc.call('messages.send', { conversation: bots, text: 'ping from a bot' });
    assert.equal(sent.error, undefined, JSON.stringify(sent.error));
    const echo = await aliceServe.rpc.next((m) => m.method === 'message.received' && m.params?.text === 'echo: ping from a bot', 'the echo');
    assert.equal(echo.params!.sender, 'bob');
    assert.equal(echo.params!.replyTo, sent.result!.id, 'the echo replies to the message it echoes');
    assert.equal(echo.params!.conversation, sent.result!.conversation);
    assert.equal(typeof echo.params!.seq, 'number');
    const seqs = aliceServe.rpc.received.filter((m) => m.method).map((m) => m.params!.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'events arrive in seq order');
    assert.ok(aliceServe.rpc.received.every(isJsonRpc), 'stdout is JSON-RPC only');

    // SIGTERM stops a serve cleanly; the bot's connection closes with it and the bot ends
    bobServe.child.kill('SIGTERM');
    assert.equal(await bobServe.exited, 0, bobServe.stderr());
    assert.equal(await bot.exited, 0, bot.stderr());
    assert.ok(!existsSync(bobSocket) && !existsSync(path.join(bob, 'wardroom.sock')), 'its sockets are removed');
    // the end of stdin stops the stdio serve, once what it read has been answered
    aliceServe.rpc.send(`${JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'account.whoami' })}\n`);
    aliceServe.child.stdin!.end();
    assert.equal(await aliceServe.exited, 0, aliceServe.stderr());
    assert.equal((await aliceServe.rpc.reply('last')).result!.username, 'alice');
    assert.equal(aliceServe.stderr(), `wardroom serve: ready on stdin/stdout and ${path.join(alice, 'wardroom.sock')}\n`);
  });

  it('answers the host\'s commands from another process: lock (engine commands then refused) and unlock again', { timeout: 60_000 }, async () => {
    const serve = await startServe(alice);
    const { rpc } = serve;
    const listed = (await rpc.call('profiles.list')).result as { profiles: { name: string }[]; current: string };
    assert.equal(listed.current, path.basename(alice));
    assert.deepEqual(listed.profiles.find((p) => p.name === listed.current), { name: path.basename(alice), state: 'open', username: 'alice' });
    assert.equal((await rpc.call('profiles.lock', { profile: path.basename(alice) })).result!.state, 'locked');
    await rpc.next((m) => m.method === 'profile.state' && m.params?.state === 'locked' && m.params?.reason === 'requested', 'the locked event');
    const refused = await rpc.call('account.whoami');
    assert.equal((refused.error as { data: { code: string } }).data.code, 'LOCKED');
    const wrong = await rpc.call('profiles.unlock', { profile: path.basename(alice), passphrase: 'not the passphrase' });
    assert.equal((wrong.error as { data: { code: string } }).data.code, 'WRONG_PASSPHRASE');
    assert.equal((await rpc.call('profiles.unlock', { profile: path.basename(alice), passphrase: PASSPHRASE })).result!.state, 'open');
    assert.equal((await rpc.call('account.whoami')).result!.username, 'alice');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0, serve.stderr());
  });

  it('serves a whole app data directory: every host command from another process', { timeout: 90_000 }, async () => {
    const appDir = path.join(scratch, 'app');
    const proc = start(process.execPath, [BIN, '--profiles', appDir, 'serve']);
    const rpc = new LineClient(proc.child.stdout!, proc.child.stdin!);
    await proc.until((p) => p.stderr().includes('wardroom serve: ready on stdin/stdout'), 'the app serve to be ready');
    const result = async (method: string, params?: unknown) => {
      const reply = await rpc.call(method, params);
      assert.equal(reply.error, undefined, `${method}: ${JSON.stringify(reply.error)}`);
      return reply.result as Record<string, unknown>;
    };
    const errorCode = async (method: string, params?: unknown) => ((await rpc.call(method, params)).error as { data: { code: string } }).data.code;

    assert.deepEqual(await result('profiles.list'), { profiles: [] });
    assert.equal(await errorCode('account.whoami'), 'LOCKED');
    const { link } = await org.admin.engine.api.call('org.invite', { admin: false });
    const joined = await result('profiles.join', { profile: 'carol', link, username: 'carol', passphrase: PASSPHRASE });
    assert.deepEqual(joined.profile, { name: 'carol', state: 'open', username: 'carol' });
    assert.equal((await result('account.whoami')).username, 'carol');
    await result('app.activity');
    const { link: second } = await org.admin.engine.api.call('org.invite', { admin: false });
    const linked = await result('profiles.link', { profile: 'carol-laptop', link: second, username: 'carol', passphrase: PASSPHRASE, recoveryKit: joined.recoveryKit });
    assert.deepEqual(linked.profile, { name: 'carol-laptop', state: 'open', username: 'carol' });
    assert.equal((await result('profiles.select', { profile: 'carol' })).name, 'carol');
    assert.equal((await result('profiles.list')).current, 'carol');
    await result('app.lockAll');
    assert.equal(await errorCode('account.whoami'), 'LOCKED');
    await rpc.next((m) => m.method === 'profile.state' && m.params?.profile === 'carol-laptop' && m.params?.reason === 'system', 'the system lock event');
    assert.equal((await result('profiles.unlock', { profile: 'carol', passphrase: PASSPHRASE })).state, 'open');
    assert.equal(await errorCode('profiles.remove', { profile: 'carol', confirm: true }), 'CONFLICT');
    await result('profiles.lock', { profile: 'carol' });
    await result('profiles.remove', { profile: 'carol-laptop', confirm: true });
    assert.deepEqual((await result('profiles.list')).profiles, [{ name: 'carol', state: 'locked', username: 'carol' }]);
    assert.ok(!existsSync(path.join(appDir, 'carol-laptop')));
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.stderr());
  });

  it('answers malformed input with a JSON-RPC error each and keeps serving; nothing secret reaches the log', { timeout: 60_000 }, async () => {
    const serve = await startServe(alice);
    const { rpc } = serve;
    // replies only: events (connection.state, …) come in between
    const replies = () => rpc.received.filter((m) => 'result' in m || 'error' in m);
    const replyAt = (index: number) => rpc.next(() => replies().length > index, `reply ${index}`).then(() => replies()[index]!);
    const errorAt = (index: number) => replyAt(index).then((m) => m.error!);
    let index = 0;
    const expectError = async (line: string | Buffer, code: number, data: string, message?: RegExp) => {
      rpc.send(line);
      const error = await errorAt(index++);
      assert.equal(error.code, code, `${String(line).slice(0, 80)}: ${JSON.stringify(error)}`);
      assert.equal(error.data.code, data);
      if (message) assert.match(error.message, message);
    };
    await expectError('this is not json\n', -32700, 'BAD_REQUEST', /not JSON/);
    await expectError(Buffer.from([0x22, 0xc3, 0x28, 0x22, 0x0a]), -32700, 'BAD_REQUEST');
    await expectError('42\n', -32600, 'BAD_REQUEST', /a request is a JSON object/);
    await expectError('[{"jsonrpc":"2.0","id":1,"method":"account.whoami"}]\n', -32600, 'BAD_REQUEST', /batch requests are not supported/);
    await expectError('{"id":1,"method":"account.whoami"}\n', -32600, 'BAD_REQUEST');
    await expectError('{"jsonrpc":"2.0","id":2,"method":"account.takeOver"}\n', -32601, 'UNKNOWN_COMMAND', /unknown command: account\.takeOver/);
    await expectError('{"jsonrpc":"2.0","id":3,"method":"messages.send","params":{"conversation":"general","text":"x"}}\n', -32602, 'BAD_REQUEST', /conversation/);
    await expectError('{"jsonrpc":"2.0","id":4,"method":"messages.send","params":["#bots","x"]}\n', -32602, 'BAD_REQUEST', /not an array/);
    await expectError('{"jsonrpc":"2.0","id":5,"method":"conversations.resolve","params":{"target":"#nowhere"}}\n', -32000, 'NOT_FOUND', /#nowhere/);
    // 10 MB in one line, in pieces: refused once, and its rest (valid-looking JSON lines included) is skipped
    const head = '{"jsonrpc":"2.0","id":6,"method":"messages.send","params":{"conversation":"c:AAAAAAAAAAAAAAAAAAAAAA","text":"';
    rpc.send(head);
    for (let i = 0; i < 10; i++) rpc.send('z'.repeat(1024 * 1024));
    rpc.send('", "x": {"jsonrpc":"2.0","id":7,"method":"account.whoami"}}}\n');
    const tooLong = await errorAt(index++);
    assert.deepEqual([tooLong.code, tooLong.data.code], [-32600, 'BAD_REQUEST']);
    assert.match(tooLong.message, new RegExp(`longer than ${MAX_REQUEST_BYTES} bytes`));
    // a notification is never answered, even when it fails
    rpc.send('{"jsonrpc":"2.0","method":"messages.send","params":{"conversation":"nope"}}\n');
    const secret = 'the launch code is 0000';
    const resolved = await rpc.call('conversations.resolve', { target: '#bots' });
    assert.equal(replies().indexOf(resolved), index++, 'the next reply is the call after the notification');
    const sent = await rpc.call('messages.send', { conversation: resolved.result!.id, text: secret });
    index++;
    assert.equal(sent.result!.text, secret);
    assert.equal((await rpc.call('account.whoami')).result!.username, 'alice', 'still serving');
    assert.equal(replies().length, index + 1, `one reply per line, nothing for id 6 or 7: ${rpc.raw.slice(-3).join('\n')}`);
    assert.ok(rpc.received.every(isJsonRpc));

    serve.child.kill('SIGINT');
    assert.equal(await serve.exited, 0);
    assert.equal(serve.stderr().split('\n').filter(Boolean).length, 1, `only the ready line on stderr: ${serve.stderr()}`);
    const log = readFileSync(path.join(alice, 'wardroom.log'), 'utf8');
    assert.match(log, /stdio: closed after \d+ calls, 7 refused requests/);
    for (const leak of [secret, 'zzzz', PASSPHRASE, 'takeOver']) assert.ok(!log.includes(leak), `the log holds "${leak}"`);
  });

  it('outlives clients that vanish mid-call, and gives each connected client its own events', { timeout: 60_000 }, async () => {
    const socketPath = path.join(scratch, 'bob-2.sock');
    const serve = await startServe(bob, ['--socket', socketPath]);
    const watchers = [await connect(socketPath), await connect(socketPath)];
    // two calls in flight and half a third when their clients go: one ends its side, one closes at once, and one
    // is a process killed outright
    const calls = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sync.now' })}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'conversations.list' })}\n{"jsonrpc":"2.0","id":3,"me`;
    for (const leave of [(s: net.Socket) => s.end(), (s: net.Socket) => s.destroy()]) {
      const client = await connect(socketPath);
      client.send(calls);
      leave(client.socket);
    }
    const killed = start(process.execPath, ['-e', `const s = require('node:net').connect(${JSON.stringify(socketPath)}, () => s.write(${JSON.stringify(calls)}, () => process.kill(process.pid, 'SIGKILL')))`]);
    assert.equal(await killed.exited, 'SIGKILL');
    const sent = await wardroom(['--profile', alice, 'send', '#bots', 'to every watcher']);
    assert.equal(sent.code, 0, sent.stderr);
    for (const watcher of watchers) {
      const event = await watcher.next((m) => m.method === 'message.received' && m.params?.text === 'to every watcher', 'the event on each client');
      assert.equal(event.params!.sender, 'alice');
    }
    assert.equal((await watchers[0]!.call('account.whoami')).result!.username, 'bob', 'still serving');
    // this serve's part of the profile log
    const log = () => readFileSync(path.join(bob, 'wardroom.log'), 'utf8').split('serve: started').at(-1)!;
    // the two that left after writing settle both calls; the killed one's bytes may be dropped with its connection
    // (the kernel can reset it before they are read), so it need only have been closed cleanly
    await eventually(() => (log().match(/socket client \d+: closed after 2 calls/g) ?? []).length >= 2
      && (log().match(/socket client \d+: closed after \d+ calls/g) ?? []).length >= 3, 'the calls of the vanished clients to settle', log);
    watchers.forEach((w) => w.socket.destroy());
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0, serve.stderr());
    assert.equal(serve.stderr().split('\n').filter(Boolean).length, 1, `no crash, no unhandled rejection: only the ready line on stderr: ${serve.stderr()}`);
  });

  it('runs one-shot commands through the profile socket while a serve holds the profile; a killed serve\'s socket is cleared', { timeout: 90_000 }, async () => {
    const serve = await startServe(alice);
    // no passphrase: the serve answers, nothing is unlocked
    const sent = await wardroom(['--profile', alice, 'send', '#bots', 'one-shot through serve'], { WARDROOM_PASSPHRASE: '' });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^\S{16,} (sent|pending)\n$/);
    const read = await wardroom(['--profile', alice, 'read', '#bots', '--json']);
    assert.equal(read.code, 0, read.stderr);
    assert.ok(read.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string }).some((m) => m.text === 'one-shot through serve'));
    assert.equal(read.stderr, '');
    await eventually(() => /socket client 2: closed after/.test(readFileSync(path.join(alice, 'wardroom.log'), 'utf8')), 'the serve to log both one-shot clients');
    assert.ok((await serve.rpc.call('account.whoami')).result, 'the serve still answers its own client');

    // a serve killed outright leaves its socket file; the next serve replaces it
    serve.child.kill('SIGKILL');
    await serve.exited;
    const socketFile = path.join(alice, 'wardroom.sock');
    assert.ok(statSync(socketFile).isSocket(), 'the killed serve left its socket');
    const second = await startServe(alice);
    assert.equal((await wardroom(['--profile', alice, 'whoami'], { WARDROOM_PASSPHRASE: '' })).code, 0, 'reachable through the new socket');
    second.child.kill('SIGKILL');
    await second.exited;
    // and a one-shot command, holding the profile's lock itself, removes it
    const whoami = await wardroom(['--profile', alice, 'whoami']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, /^@alice /);
    assert.ok(!existsSync(socketFile), 'the stale socket is gone');
  });

  it('refuses a --socket path longer than a Unix socket allows (before unlocking), one another process listens on, and a wrong passphrase', { timeout: 30_000 }, async () => {
    const long = await wardroom(['--profile', alice, 'serve', '--socket', path.join(scratch, 'x'.repeat(120))]);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /^wardroom: --socket: the socket path is \d+ bytes; Unix sockets allow at most 10[37]\n$/);
    const taken = path.join(scratch, 'taken.sock');
    const other = net.createServer().listen(taken);
    await new Promise((resolve) => other.once('listening', resolve));
    const refused = await wardroom(['--profile', alice, 'serve', '--socket', taken]);
    other.close();
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /another process is listening on/);
    assert.ok(!existsSync(path.join(alice, 'wardroom.sock')), 'nothing left behind');
    const wrong = await wardroom(['--profile', alice, 'serve'], { WARDROOM_PASSPHRASE: 'not the passphrase' });
    assert.deepEqual([wrong.code, wrong.stdout, wrong.stderr], [1, '', 'wardroom: wrong passphrase for this profile\n']);
  });
});
