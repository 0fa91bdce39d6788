// The real `wardroom` binary (core/cli/bin.ts) as a person runs it, one process per command, against a real relay
// process (server-process.ts): for the tests of what a user meets, exit codes, stdout, stderr and signals included.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inviteVia } from './hostile-relay.ts';
import { PASSPHRASE } from './engines.ts';
import { killSpawnedServers, spawnServer, type ServerProcess } from './server-process.ts';

export const WARDROOM_BIN = path.join(import.meta.dirname, '..', '..', 'core', 'cli', 'bin.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliChild {
  process: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once stdout or stderr (as chosen) matches; rejects if the process ends first, or after 30 s. */
  until(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void>;
  exited: Promise<CliRun>;
}

/** The environment every test command gets: the test passphrase, the cheap KDF, no profile from the caller's shell. */
function cliEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WARDROOM_PASSPHRASE: PASSPHRASE, WARDROOM_KDF: 'interactive', ...extra };
  if (!('WARDROOM_PROFILE' in extra)) delete env.WARDROOM_PROFILE;
  return env;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every wardroom process started here that is still running (teardown, also after a failed test). */
export async function killWardrooms(): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  })));
}

interface CliOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** a command still running after this long has hung: it is SIGKILLed (its run says so in `signal`) */
  killAfterMs?: number;
}

export function startWardroom(args: string[], options: CliOptions = {}): CliChild {
  const child = spawn(process.execPath, [WARDROOM_BIN, ...args], { env: cliEnv(options.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const hung = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  child.once('close', () => {
    running.delete(child);
    clearTimeout(hung);
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  child.stdin.end(options.stdin ?? '');
  const exited = new Promise<CliRun>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    process: child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    until(stream, pattern) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} on ${stream} within 30 s: ${stream === 'stdout' ? stdout : stderr}`));
        }, 30_000);
        const check = () => {
          if (!pattern.test(stream === 'stdout' ? stdout : stderr)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        listeners.add(check);
        void exited.then((run) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (!pattern.test(stream === 'stdout' ? stdout : stderr)) reject(new Error(`exited (${run.code ?? run.signal}) before ${pattern} on ${stream}: ${stderr}`));
        });
        check();
      });
    },
    exited,
  };
}

export function wardroom(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return startWardroom(args, options).exited;
}

export interface CliOrg {
  relay: ServerProcess;
  root: string;
  profile(username: string): string;
  /** the recovery kit each `join` printed */
  recoveryKit(username: string): string;
  /** `wardroom --profile <username's profile> ...args` */
  as(username: string, args: string[], options?: { env?: NodeJS.ProcessEnv; stdin?: string }): Promise<CliRun>;
  startAs(username: string, args: string[], options?: { env?: NodeJS.ProcessEnv; stdin?: string }): CliChild;
  close(): Promise<void>;
}

export interface CliOrgOptions {
  /** the relay speaks TLS (its invites carry its pin), as a real one does: for tests of the pin */
  tls?: boolean;
  /**
   * The address the profiles are given for the relay (a lying proxy in front of it, started here): every invite
   * link is pointed there, so each profile reaches the relay only through it.
   */
  front?: (relay: ServerProcess) => Promise<string>;
}

/**
 * A relay process (plain HTTP on loopback unless `tls`) and one profile per username, each enrolled with `wardroom
 * join`: the first with the relay's admin invite, the others with invites the first prints.
 */
export async function cliOrg(usernames: [string, ...string[]], options: CliOrgOptions = {}): Promise<CliOrg> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-cli-org-'));
  const relay = await spawnServer(path.join(root, 'relay'), [], { tls: options.tls ?? false });
  const front = options.front ? await options.front(relay) : null;
  const profile = (username: string) => path.join(root, username);
  const as = (username: string, args: string[], options = {}) => wardroom(['--profile', profile(username), ...args], options);
  const kits = new Map<string, string>();
  const joined = async (username: string, invite: string) => {
    const run = await as(username, ['join', front ? inviteVia(invite, front) : invite, '--username', username]);
    if (run.code !== 0) throw new Error(`join ${username} failed: ${run.stderr}`);
    kits.set(username, /^ {2}(WRK1\.\S+)$/m.exec(run.stdout)![1]!);
  };
  const [admin, ...others] = usernames;
  await joined(admin, relay.firstAdminInvite!);
  for (const username of others) {
    const invite = await as(admin, ['invite']);
    if (invite.code !== 0) throw new Error(`invite failed: ${invite.stderr}`);
    await joined(username, invite.stdout.trim());
  }
  return {
    relay, root, profile, as,
    recoveryKit: (username) => kits.get(username)!,
    startAs: (username, args, options = {}) => startWardroom(['--profile', profile(username), ...args], options),
    async close() {
      await killWardrooms();
      await killSpawnedServers();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
