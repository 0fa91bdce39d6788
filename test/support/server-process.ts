// Runs the real `wardroom-server` CLI as a child process, for tests that kill it (SIGKILL) or read its files.
// Its JSON logs go to DATA_DIR/logs/server.log so "no plaintext anywhere" checks cover the logs too.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';

const BIN = path.join(import.meta.dirname, '..', '..', 'server', 'bin.ts');

export interface ServerProcess {
  url: string;
  /** the TLS pin the server printed, or null on plain HTTP */
  pin: string | null;
  firstAdminInvite: string | null;
  child: ChildProcess;
  stderr: string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** Kills every server this module started that is still running (test teardown, also after a failure). */
export async function killSpawnedServers(): Promise<void> {
  await Promise.all([...running].map((child) => new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
}

/** Starts `wardroom-server --data DIR --port 0` (plain HTTP unless `tls` is set) and waits for its ready line. */
export function spawnServer(dataDir: string, extraArgs: string[] = [], options: { tls?: boolean } = {}): Promise<ServerProcess> {
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  const log = createWriteStream(path.join(dataDir, 'logs', 'server.log'), { flags: 'a' });
  const child = spawn(process.execPath, [BIN, '--data', dataDir, ...(options.tls ? [] : ['--insecure-http']), '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!stderr.includes('wardroom-server ready')) return;
      const url = /listening on (https?:\/\/\S+)/.exec(stderr)?.[1];
      const invite = /(wardroom:\/\/join\?\S+)/.exec(stderr)?.[1] ?? null;
      if (url) {
        clearTimeout(timer);
        resolve({
          url, pin: /pin \(SHA-256 of SPKI, base64url\): (\S+)/.exec(stderr)?.[1] ?? null, firstAdminInvite: invite, child, stderr, exited,
          kill: (signal) => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.once('exit', () => reject(new Error(`server exited early: ${stderr}`)));
  });
}
