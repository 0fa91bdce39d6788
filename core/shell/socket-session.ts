// One renderer's WebSocket: a session of the host (createSession), with JSON-RPC 2.0 objects one per message through
// the endpoint `wardroom serve` uses too (core/api/json-rpc.ts). No business logic: only framing and flow control.
import type { WebSocket } from 'ws';
import { createRpcEndpoint, MAX_UNREAD_OUTPUT_BYTES, type RpcEndpoint } from '../api/json-rpc.ts';
import { createSession, type ProfileHost } from '../host/index.ts';

export function attachSocket(socket: WebSocket, host: ProfileHost, label: string, log: (line: string) => void): RpcEndpoint {
  const session = createSession(host);
  const send = (text: string) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_UNREAD_OUTPUT_BYTES) {
      log(`${label}: cut off, it left ${socket.bufferedAmount} bytes unread`);
      socket.terminate();
      return;
    }
    socket.send(text);
  };
  const endpoint = createRpcEndpoint(session, send, { log, label, onBusy: () => socket.pause(), onIdle: () => socket.resume() });
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    endpoint.receive(bytes);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => log(`${label}: connection error ${error.code ?? 'unknown'}`));
  socket.once('close', () => endpoint.end());
  void endpoint.finished.then(() => session.close());
  return endpoint;
}
