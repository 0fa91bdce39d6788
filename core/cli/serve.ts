// `wardroom --profile DIR serve [--socket PATH]`: opens the profile once and keeps the engine running for bots and
// scripts, speaking JSON-RPC 2.0 (one object per line) on stdin/stdout, or with --socket on a Unix socket for any
// number of clients. It always listens on the profile's own socket too (serve-socket.ts), so one-shot commands of
// the same profile go through it instead of failing on the vault's lock. docs/bots.md is the user's manual.
//
// stdout carries JSON-RPC only; a few diagnostics go to stderr and the rest to the profile's log, none of them
// holding params, results or message text.
import net from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '../api/contract.ts';
import type { EngineHost } from '../api/host.ts';
import { createSession, ProfileHost, profileLog } from '../host/index.ts';
import { UsageError } from './main.ts';
import { startSession, type RpcSession } from './rpc-session.ts';
import { claimSocketPath, listenPrivately, profileSocket, removeSocketFile, socketPathProblem } from './serve-socket.ts';

export interface ServeIo {
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** resolves on SIGINT or SIGTERM: serve stops then */
  interrupted: Promise<void>;
  /** the process's stdin and stdout, for the stdio mode */
  stdio?: { input: Readable; output: Writable };
}

export interface ServeOptions {
  host: EngineHost;
  /** serve this profile, unlocked at start (`--profile DIR`), or ... */
  profileDir?: string;
  /** ... every profile of an app data directory, none unlocked until a client asks (`--profiles DIR`) */
  appDir?: string;
  passphrase(): Promise<string>;
  /** --socket PATH: serve there instead of on stdin/stdout */
  socket?: string;
  io: ServeIo;
}

/** Runs until interrupted (or, in the stdio mode, until stdin ends and every call has been answered). */
export async function serve({ host, profileDir, appDir, passphrase, socket, io }: ServeOptions): Promise<number> {
  const ownSocket = socket === undefined ? null : path.resolve(socket);
  const problem = ownSocket && socketPathProblem(ownSocket);
  if (problem) throw new UsageError(`--socket: ${problem}`);
  if (!ownSocket && !io.stdio) throw new UsageError('serve needs --socket PATH here (no stdin/stdout to serve on)');

  // The profile is held by a host of its parent directory, so clients can also lock and unlock it (host commands);
  // each client gets its own session, which answers only host commands while the profile is locked.
  // With --profiles the host serves a whole app data directory: clients join, link, unlock and remove profiles.
  const root = appDir !== undefined ? path.resolve(appDir) : path.dirname(path.resolve(profileDir!));
  const log = appDir !== undefined ? () => {} : profileLog(profileDir!);
  const profiles = new ProfileHost({ root, engines: host, env: io.env, log });
  const name = profileDir !== undefined ? path.basename(path.resolve(profileDir)) : undefined;
  if (name !== undefined) await profiles.unlock(name, await passphrase());
  const sessions = new Set<RpcSession>();
  const servers: { server: net.Server; path: string }[] = [];
  let clients = 0;

  const track = (session: RpcSession, done: () => void) => {
    sessions.add(session);
    void session.finished.then(() => {
      sessions.delete(session);
      done();
    });
  };
  const listen = async (socketPath: string) => {
    await claimSocketPath(socketPath);
    const server = net.createServer({ allowHalfOpen: true }, (connection) => {
      clients += 1;
      const routed = createSession(profiles, name);
      const session = startSession(routed, connection, connection, { log, label: `socket client ${clients}`, onOverflow: () => connection.destroy() });
      track(session, () => {
        routed.close();
        connection.end();
      });
    });
    await listenPrivately(server, socketPath);
    servers.push({ server, path: socketPath });
  };

  try {
    // stdio first: a client's requests may already wait in the pipe, and no event is missed while sockets open
    const stdioSession = ownSocket ? null : createSession(profiles, name);
    const stdio = stdioSession ? startSession(stdioSession, io.stdio!.input, io.stdio!.output, { log, label: 'stdio' }) : null;
    if (stdio) track(stdio, () => stdioSession!.close());
    const place = profileDir !== undefined ? profileSocket(profileDir, io.env) : { path: null, reason: '' };
    if (place.path === null && profileDir === undefined) {
      // an app data directory has no one profile whose one-shot commands could come here
    } else if (place.path !== null) {
      await listen(place.path).catch((error: Error) => io.err(`wardroom serve: ${error.message}; one-shot commands cannot reach this serve`));
    } else {
      io.err(`wardroom serve: ${place.reason}; one-shot commands cannot reach this serve`);
    }
    if (ownSocket) {
      await listen(ownSocket).catch((error: Error) => {
        throw new ApiError('BAD_REQUEST', `--socket: ${error.message}`);
      });
    }
    log(`serve: started (${[stdio ? 'stdio' : '', ...servers.map((s) => (s.path === ownSocket ? '--socket' : 'profile socket'))].filter(Boolean).join(', ')})`);
    io.err(`wardroom serve: ready on ${[stdio ? 'stdin/stdout' : '', ...servers.map((s) => s.path)].filter(Boolean).join(' and ')}`);
    await Promise.race([io.interrupted, stdio?.finished ?? new Promise<never>(() => {})]);
    return 0;
  } finally {
    for (const { server, path: socketPath } of servers) {
      server.close();
      removeSocketFile(socketPath);
    }
    for (const session of sessions) session.stop();
    await Promise.all([...sessions].map((session) => session.finished));
    await profiles.close();
    log('serve: stopped');
  }
}
