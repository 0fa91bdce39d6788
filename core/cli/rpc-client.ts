// The WardroomApi over a `wardroom serve` socket: what a one-shot command uses when a serve holds its profile, in
// place of an engine of its own. Answers and events are checked against the contract on arrival, as any transport
// checks what crosses it.
import type { Socket } from 'node:net';
import { ApiError, commands, events, type CommandName, type EventName, type WardroomApi } from '../api/contract.ts';
import { isCommandName } from '../api/dispatch.ts';
import type { EngineHost, OpenEngine } from '../api/host.ts';
import { decodeReply, encodeCall, MAX_REPLY_BYTES } from '../api/json-rpc.ts';
import { asLine, LineDecoder } from './json-rpc.ts';
import { connectIfListening, profileSocket, removeSocketFile } from './serve-socket.ts';

interface Pending {
  name: CommandName;
  resolve(value: unknown): void;
  reject(error: ApiError): void;
}

const gone = () => new ApiError('DISCONNECTED', 'the wardroom serve holding this profile went away');

export function rpcClient(socket: Socket): OpenEngine {
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown, seq: number) => void>>();
  let lastId = 0;
  let closed = false;

  const fail = (error: ApiError) => {
    closed = true;
    socket.destroy();
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  const decoder = new LineDecoder(
    MAX_REPLY_BYTES,
    (line) => {
      const reply = decodeReply(line);
      if (!reply) return fail(new ApiError('INTERNAL', 'the wardroom serve sent something that is not JSON-RPC'));
      if (reply.kind === 'event') {
        const schema = Object.hasOwn(events, reply.method) ? events[reply.method as EventName] : null;
        const payload = schema?.safeParse(reply.payload);
        if (!payload?.success) return; // an event this version does not know, or a shape it does not promise
        for (const listener of listeners.get(reply.method) ?? []) listener(payload.data, reply.seq);
        return;
      }
      const call = typeof reply.id === 'number' ? pending.get(reply.id) : undefined;
      if (!call) return;
      pending.delete(reply.id as number);
      if (reply.kind === 'error') return call.reject(reply.error);
      const checked = commands[call.name].response.safeParse(reply.result);
      if (checked.success) call.resolve(checked.data);
      else call.reject(new ApiError('INTERNAL', `${call.name}: the answer from wardroom serve broke the contract`));
    },
    () => fail(new ApiError('INTERNAL', 'the wardroom serve sent a line longer than this client accepts')),
  );
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  socket.on('error', () => fail(gone()));
  socket.on('close', () => fail(gone()));

  const api: WardroomApi = {
    call: ((name: string, request: unknown) => {
      if (!isCommandName(name)) return Promise.reject(new ApiError('UNKNOWN_COMMAND', `unknown command: ${name.slice(0, 64)}`));
      if (closed) return Promise.reject(gone());
      return new Promise((resolve, reject) => {
        lastId += 1;
        pending.set(lastId, { name, resolve, reject });
        socket.write(asLine(encodeCall(lastId, name, request)));
      });
    }) as WardroomApi['call'],
    on: ((name: string, listener: (payload: unknown, seq: number) => void) => {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    }) as WardroomApi['on'],
  };

  return {
    api,
    close: async () => {
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        // the serve ends its side once its answers are out; one that does not is not waited for
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    },
  };
}

/**
 * The engine for a one-shot command: the profile's serve when one holds it (no unlock, and the passphrase is not
 * needed), else the profile opened in this process.
 */
export async function openProfile(host: EngineHost, profileDir: string, passphrase: () => Promise<string>, env: Record<string, string | undefined>): Promise<OpenEngine> {
  const place = profileSocket(profileDir, env);
  const socket = place.path !== null ? await connectIfListening(place.path) : null;
  if (socket) return rpcClient(socket);
  const engine = await host.open(profileDir, await passphrase());
  // This process holds the vault's lock now, so no serve listens: a socket file there is a killed serve's.
  if (place.path !== null) removeSocketFile(place.path);
  return engine;
}
