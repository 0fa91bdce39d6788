// The web shell: the renderer bundle served on 127.0.0.1 and the host's contract carried over a WebSocket, for
// where Electron cannot run (and for the end-to-end tests). One host of profiles is shared by every connection; each
// WebSocket is its own session. guard.ts says who may connect and why.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { MAX_REQUEST_BYTES } from '../api/json-rpc.ts';
import type { ProfileHost } from '../host/index.ts';
import { isOurHost, isOurOrigin, isToken, newToken, offeredToken, PROTOCOL, SECURITY_HEADERS } from './guard.ts';
import { attachSocket } from './socket-session.ts';
import { serveFile } from './static-files.ts';

export interface WebShellOptions {
  host: ProfileHost;
  /** the built renderer (renderer/dist) */
  staticDir: string;
  /** 0 (the default) for any free port */
  port?: number;
  /** a fixed token (tests); by default a new random one */
  token?: string;
  /** diagnostics: never given tokens, params, results or message text */
  log?: (line: string) => void;
}

export interface WebShell {
  /** what to open: the address with the token in its fragment */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The WebSocket's path. */
export const SOCKET_PATH = '/rpc';

export async function startWebShell(options: WebShellOptions): Promise<WebShell> {
  const token = options.token ?? newToken();
  const log = options.log ?? (() => {});
  const staticDir = path.resolve(options.staticDir);
  let port = 0;
  let clients = 0;

  const server = createServer((request, response) => {
    const host = request.headers.host;
    if (!isOurHost(host, port)) {
      response.writeHead(421, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      response.end('this Wardroom shell answers only at the address it printed\n');
      return;
    }
    serveFile(staticDir, request, response, host!).catch((error: Error) => {
      log(`web shell: serving a file failed: ${error.message}`);
      if (!response.headersSent) response.writeHead(500, SECURITY_HEADERS);
      response.end();
    });
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES, handleProtocols: () => PROTOCOL });

  /** Why an upgrade is refused, or null: the checks run before a WebSocket exists. */
  const refusal = (request: IncomingMessage): [number, string] | null => {
    const host = request.headers.host;
    if (!isOurHost(host, port)) return [421, 'unexpected Host'];
    if (!isOurOrigin(request.headers.origin, host!)) return [403, 'unexpected Origin'];
    if ((request.url ?? '') !== SOCKET_PATH) return [404, 'no such socket'];
    if (!isToken(offeredToken(request.headers['sec-websocket-protocol']), token)) return [401, 'missing or wrong token'];
    return null;
  };
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refused = refusal(request);
    if (refused) {
      log(`web shell: refused a connection: ${refused[1]}`);
      socket.end(`HTTP/1.1 ${refused[0]} ${refused[1]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      clients += 1;
      attachSocket(ws, options.host, `web client ${clients}`, log);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
