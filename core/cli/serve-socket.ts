// Where `wardroom serve` listens for the one-shot commands of its own profile, and how a socket path is claimed.
//
// The well-known socket is PROFILE/wardroom.sock: the profile directory is private (0700), and the socket is 0600
// too. Whoever can connect acts as the profile without its passphrase, exactly like the OS user who owns it (who
// could as well read the serve process's memory); docs/bots.md says so. A Unix socket path holds at most 107 bytes
// (103 on macOS): for a deeper profile the socket goes to $XDG_RUNTIME_DIR (per user, 0700 by its specification),
// named after a hash of the profile's real path; without one, serve says on stderr that one-shot commands cannot
// reach it.
import { createHash } from 'node:crypto';
import { lstatSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const PROFILE_SOCKET = 'wardroom.sock';
/** sun_path less its terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;

export type SocketPlace = { path: string } | { path: null; reason: string };

export function socketPathProblem(socketPath: string): string | null {
  const bytes = Buffer.byteLength(socketPath);
  return bytes > MAX_SOCKET_PATH_BYTES ? `the socket path is ${bytes} bytes; Unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}` : null;
}

function privateDir(dir: string): boolean {
  try {
    const stat = statSync(dir);
    return stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * The one socket of this profile's serve, the same for the serve and for every command that looks for it: decided
 * on the profile's real path, so a symlink or a relative path to the profile finds it too.
 */
export function profileSocket(profileDir: string, env: Record<string, string | undefined>): SocketPlace {
  let real: string;
  try {
    real = realpathSync(profileDir);
  } catch {
    real = path.resolve(profileDir);
  }
  const inProfile = path.join(real, PROFILE_SOCKET);
  if (!socketPathProblem(inProfile)) return { path: inProfile };
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime) && privateDir(runtime)) {
    const inRuntime = path.join(runtime, `wardroom-${createHash('sha256').update(real).digest('hex').slice(0, 32)}.sock`);
    if (!socketPathProblem(inRuntime)) return { path: inRuntime };
  }
  return { path: null, reason: `the profile's path is too long for its socket (${Buffer.byteLength(inProfile)} bytes; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}) and XDG_RUNTIME_DIR offers no private directory` };
}

/** Connects, or answers null when nothing listens there (no file, or a stale one left by a killed serve). */
export function connectIfListening(socketPath: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(null));
  });
}

function isSocketFile(file: string): boolean {
  try {
    return lstatSync(file).isSocket();
  } catch {
    return false;
  }
}

/**
 * Makes `socketPath` free to listen on: removes a stale socket (nothing answers on it), and refuses a live one or
 * a file that is not a socket (it is never deleted).
 */
export async function claimSocketPath(socketPath: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new SocketError(`${socketPath} exists and is not a socket: not replacing it`);
  const live = await connectIfListening(socketPath);
  if (live) {
    live.destroy();
    throw new SocketError(`another process is listening on ${socketPath}`);
  }
  removeSocketFile(socketPath);
}

/** Removes a socket file (never anything else); gone already is fine. */
export function removeSocketFile(socketPath: string): void {
  if (!isSocketFile(socketPath)) return;
  try {
    unlinkSync(socketPath);
  } catch {
    // removed by someone else in between
  }
}

export class SocketError extends Error {
  override readonly name = 'SocketError';
}

/**
 * Listens on `socketPath` with mode 0600 from the start: the umask covers the moment between bind and chmod.
 * (Node binds a Unix socket synchronously inside listen(), so the umask is restored at once.)
 */
export function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => reject(new SocketError(`cannot listen on ${socketPath}: ${error.code ?? error.message}`));
    server.once('error', fail);
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', fail);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}
