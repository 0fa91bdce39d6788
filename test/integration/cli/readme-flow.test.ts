// The README's "Try it" walk-through, run as a person would run it: the shell commands are read out of README.md
// and each runs in bash as its own child process (the relay through `npm run server`, the client through the
// README's `wardroom` shorthand, i.e. `npm run -s wardroom`), against a real relay over HTTPS with its pin.
//
// The only changes to the README's text: /tmp/wardroom-demo becomes a fresh temporary directory, the relay gets
// `--port 0` (any free port), and the two placeholders a person fills in by hand ('wardroom://join?server=…', the
// relay's invite; 'WDL1.…', the link code) get the values the relay and `link` printed. The commands themselves are
// compared with the list below first, so a README edit that this test does not follow fails here, by name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'core', 'cli', 'bin.ts');
const DEMO = '/tmp/wardroom-demo';
const W = `wardroom --profile ${DEMO}`;

/** The walk-through, line by line, as README.md shows it. */
const WALKTHROUGH = [
  `npm run server -- --data ${DEMO}/server`,
  `wardroom() { npm run -s wardroom -- "$@"; }`,
  `export WARDROOM_PASSPHRASE='correct horse battery staple'`,
  `INVITE='wardroom://join?server=…'`,
  `${W}/alice join "$INVITE" --username alice`,
  `${W}/bob join "$(${W}/alice invite)" --username bob`,
  `${W}/alice channel create general --topic 'all hands'`,
  `${W}/alice channel add general bob`,
  `${W}/alice send '#general' 'hello from alice'`,
  `${W}/bob read '#general'`,
  `${W}/bob send @alice 'just between us' --expire 3600`,
  `${W}/alice read @bob --json`,
  `${W}/bob search hello`,
  `${W}/bob read '#general' --follow`,
  `${W}/alice send '#general' 'anyone there?'`,
  `${W}/alice-laptop link "$INVITE" --username alice`,
  `${W}/alice approve 'WDL1.…'`,
  `${W}/bob send '#general' 'welcome, laptop'`,
  `${W}/alice-laptop read '#general'`,
  `echo 'quarterly numbers' > ${DEMO}/report.txt`,
  `${W}/bob send '#general' 'the report' --file ${DEMO}/report.txt`,
  `${W}/alice download 'MESSAGE_ID' --out ${DEMO}/alice-files`,
];

/** Every non-comment line of the ```sh blocks in the README's "## Try it" section. */
function readmeCommands(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Try it\n');
  assert.ok(start >= 0, 'README.md has a "## Try it" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => block[1]!.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | string>;
  /** resolves once `find` holds for the output so far */
  until(find: (c: Child) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

const children = new Set<Child>();

/** Starts a bash script in its own process group, so Ctrl-C can be sent to all of it as a terminal would. */
function startScript(script: string, env: NodeJS.ProcessEnv): Child {
  const proc = spawn('bash', ['-c', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const waiters = new Set<() => void>();
  const child: Child = {
    process: proc, stdout: '', stderr: '',
    exited: new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1))),
    until(find, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!find(child)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}\nstdout: ${child.stdout.slice(-2000)}\nstderr: ${child.stderr.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  // The relay's stdout is its JSON log: keep only a tail, but always drain it.
  proc.stdout!.on('data', (chunk: Buffer) => {
    child.stdout = (child.stdout + chunk.toString()).slice(-200_000);
    notify();
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    child.stderr = (child.stderr + chunk.toString()).slice(-200_000);
    notify();
  });
  proc.once('exit', notify);
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** Ctrl-C: SIGINT to the whole process group (bash, npm, node), as a terminal sends it. */
function interrupt(child: Child): Promise<number | string> {
  try {
    process.kill(-child.process.pid!, 'SIGINT');
  } catch {
    // already gone
  }
  return child.exited;
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('README "Try it": the wardroom command line against a real relay', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WARDROOM_KDF: 'interactive' };
  const steps = readmeCommands();
  let step = 0;
  let prelude = '';
  let invite = '';
  let linkCode = '';
  let fileMessage = '';
  let bobKit = '';
  let server: Child;

  /** The next README line, with the demo directory and the hand-filled placeholders replaced. */
  const next = (): string => {
    const line = steps[step++]!;
    return line
      .replaceAll(DEMO, root)
      .replace(`'wardroom://join?server=…'`, `'${invite}'`)
      .replace(`'WDL1.…'`, `'${linkCode}'`)
      .replace(`'MESSAGE_ID'`, `'${fileMessage}'`);
  };
  /** A README line that sets something up for the lines after it (the shorthand, the passphrase, the invite). */
  const setUp = () => {
    prelude += `${next()}\n`;
  };
  const background = () => startScript(`${prelude}${next()}`, env);
  const run = async () => {
    const child = background();
    const code = await child.exited;
    return { code, stdout: child.stdout, stderr: child.stderr };
  };
  /** Runs the next line and expects success with nothing on stderr. */
  const ok = async () => {
    const result = await run();
    assert.equal(result.code, 0, `"${steps[step - 1]}" failed: ${result.stderr}`);
    assert.equal(result.stderr, '', `"${steps[step - 1]}" wrote to stderr`);
    return result.stdout;
  };

  before(() => {
    assert.deepEqual(steps, WALKTHROUGH, 'the README walk-through changed: update WALKTHROUGH and the steps in this test with it');
  });

  after(async () => {
    await Promise.all([...children].map(async (child) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.process.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await interrupt(child);
      clearTimeout(timer);
    }));
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the walk-through from README.md', { timeout: 150_000 }, async () => {
    // Terminal 1: the relay (HTTPS with a self-signed certificate), on any free port.
    server = startScript(`${next()} --port 0`, env);
    await server.until((c) => c.stderr.includes('wardroom-server ready'), 'the relay to start');
    const url = /listening on (https:\/\/\S+)/.exec(server.stderr)?.[1];
    const pin = /pin \(SHA-256 of SPKI, base64url\): (\S+)/.exec(server.stderr)?.[1];
    invite = /^(wardroom:\/\/join\?\S+)$/m.exec(server.stderr)?.[1] ?? '';
    assert.ok(url && pin, `the relay printed its https URL and pin: ${server.stderr}`);
    assert.ok(invite.includes(`pin=${pin}`) && invite.includes(encodeURIComponent(url)), 'the admin invite carries the relay and its pin');

    // Terminal 2: the shorthand, the passphrase, the invite.
    setUp();
    setUp();
    setUp();

    const aliceJoined = await ok();
    assert.match(aliceJoined, new RegExp(`^joined ${url.replace(/[.]/g, '\\.')} as @alice \\(device \\S+\\)$`, 'm'));
    assert.match(aliceJoined, /^ {2}WRK1\.\S+$/m);
    const bobJoined = await ok();
    assert.match(bobJoined, /^joined https:\/\/\S+ as @bob \(device \S+\)$/m);
    bobKit = /^ {2}(WRK1\.\S+)$/m.exec(bobJoined)![1]!;

    assert.equal(await ok(), 'created #general\n');
    assert.equal(await ok(), 'added @bob to #general\n');
    assert.match(await ok(), /^\S{16,} sent\n$/);
    const bobReads = lines(await ok());
    assert.equal(bobReads.length, 2);
    // the change that let Bob in, as Alice signed it, then what she said
    assert.match(bobReads[0]!, /^\S+ {2}\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d {2}-- @alice added @bob --$/);
    assert.match(bobReads[1]!, /^\S+ {2}\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d {2}@alice: hello from alice$/);

    // A direct message with an expiry, read back as JSON lines.
    const dmId = /^(\S+) sent$/.exec((await ok()).trim())![1]!;
    const json = lines(await ok()).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(json.length, 1);
    const dm = json[0]!;
    assert.deepEqual(Object.keys(dm).slice(0, 6), ['id', 'conversation', 'sender', 'text', 'sentAt', 'expiresAt']);
    assert.equal(dm.id, dmId);
    assert.equal(dm.sender, 'bob');
    assert.equal(dm.text, 'just between us');
    assert.equal(typeof dm.conversation, 'string');
    assert.equal(new Date(dm.sentAt as string).toISOString(), dm.sentAt, 'sentAt is ISO 8601');
    assert.equal(new Date(dm.expiresAt as string).toISOString(), dm.expiresAt, 'expiresAt is ISO 8601');
    const lifetime = Date.parse(dm.expiresAt as string) - Date.parse(dm.sentAt as string);
    assert.ok(Math.abs(lifetime - 3600_000) < 5000, `expires an hour after it was sent (${lifetime} ms)`);
    assert.equal(dm.burnAfterReadSeconds, undefined);

    const found = lines(await ok());
    assert.equal(found.length, 1);
    assert.match(found[0]!, /@alice: hello from alice$/);

    // Terminal 3: read --follow until Ctrl-C, while Alice sends.
    const follow = background();
    await follow.until((c) => c.stdout.includes('@alice: hello from alice'), 'read --follow to print the history');
    assert.match(await ok(), / sent\n$/);
    await follow.until((c) => c.stdout.includes('@alice: anyone there?'), 'read --follow to print the new message');
    // Ctrl-C ends it. What the shell then reports is npm's (130 for an interrupted script); the binary's own exit
    // code after SIGINT is checked below, without npm in between.
    assert.ok([0, 130, 'SIGINT'].includes(await interrupt(follow)), `read --follow stops on Ctrl-C: ${follow.stderr}`);
    const followed = lines(follow.stdout);
    assert.equal(followed.length, 3, `the history once (a notice and a message), then the new message once: ${follow.stdout}`);
    assert.match(followed[2]!, /@alice: anyone there\?$/);

    // A second device for Alice: link waits with a code until her first device approves it.
    const linking = background();
    await linking.until((c) => /^WDL1\.\S+\n/.test(c.stdout) && c.stderr.includes('waiting for approval'), 'the link code and the hint on stderr');
    linkCode = lines(linking.stdout)[0]!;
    const approved = /^approved (\S+) \(/.exec(await ok())?.[1];
    assert.ok(approved, 'approve names the device');
    assert.equal(await linking.exited, 0, `link finished: ${linking.stderr}`);
    assert.deepEqual(lines(linking.stdout), [linkCode, `linked as @alice (device ${approved})`]);

    assert.match(await ok(), / sent\n$/);
    const laptopReads = lines(await ok());
    assert.equal(laptopReads.length, 1, 'the new device has what was sent after it was linked');
    assert.match(laptopReads[0]!, /@bob: welcome, laptop$/);

    // A file: sent with progress on stderr (plain lines: stderr is not a terminal here), downloaded byte for byte.
    await ok();
    const sentFile = await run();
    assert.equal(sentFile.code, 0, sentFile.stderr);
    assert.match(sentFile.stderr, /^wardroom: uploading 0% .*\n(.*\n)*wardroom: uploading 100% /);
    fileMessage = /^(\S+) sent\n$/.exec(sentFile.stdout)?.[1] ?? '';
    assert.ok(fileMessage, `send printed the message id: ${sentFile.stdout}`);
    const downloaded = await run();
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.match(downloaded.stdout, /^saved \S+\/alice-files\/report\.txt \(18 bytes\)\n$/);
    assert.equal(readFileSync(path.join(root, 'alice-files', 'report.txt'), 'utf8'), 'quarterly numbers\n');
    assert.equal(step, steps.length, 'every README line ran');
  });

  /** The binary itself, beside the walk-through: the failures a person meets first, and recovery. */
  const wardroom = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, WARDROOM_PASSPHRASE: 'correct horse battery staple', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  };

  it('refuses a wrong passphrase with exit 1 and one line', async () => {
    const result = await wardroom(['--profile', path.join(root, 'alice'), 'whoami'], { WARDROOM_PASSPHRASE: 'not the passphrase' });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'wardroom: wrong passphrase for this profile\n');
  });

  it('refuses an unknown command with exit 2 and one line', async () => {
    const result = await wardroom(['--profile', path.join(root, 'alice'), 'frobnicate']);
    assert.equal(result.code, 2);
    assert.equal(lines(result.stderr).length, 1);
    assert.match(result.stderr, /^wardroom: unknown command: frobnicate/);
  });

  it('read --follow --json prints each new message as one JSON line, and exits 0 on SIGINT', async () => {
    const follow = spawn(process.execPath, [BIN, '--profile', path.join(root, 'alice'), 'read', '@bob', '--follow', '--json'], {
      cwd: ROOT, env: { ...env, WARDROOM_PASSPHRASE: 'correct horse battery staple' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const printed = (text: string) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes(text)) resolve();
      };
      follow.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        check();
      });
      follow.once('exit', () => reject(new Error(`read --follow exited early: ${stderr}`)));
      check();
    });
    follow.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once('close', (code) => resolve(code)));
    await printed('just between us');
    const sent = await wardroom(['--profile', path.join(root, 'bob'), 'send', '@alice', 'this one burns', '--burn', '60']);
    assert.equal(sent.code, 0, sent.stderr);
    await printed('this one burns');
    follow.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, '');
    const messages = lines(stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(messages.map((m) => m.text), ['just between us', 'this one burns']);
    assert.equal(messages[1]!.burnAfterReadSeconds, 60);
    assert.equal(messages[1]!.expiresAt, undefined, 'the burn timer starts when it is read, not before');
  });

  it('links a device with the recovery kit from a file, without approval', async () => {
    assert.ok(bobKit, 'the walk-through ran first');
    const kitFile = path.join(root, 'bob-kit.txt');
    writeFileSync(kitFile, `${bobKit}\n`, { mode: 0o600 });
    const result = await wardroom(['--profile', path.join(root, 'bob-phone'), 'link', invite, '--username', 'bob', '--recovery-kit-file', kitFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^linked as @bob \(device \S+\)\n$/, 'no code to approve: the kit approved it');
  });
});
