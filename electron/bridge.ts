// What the preload exposes as window.wardroom: call(name, request) and on(event, listener), nothing else. The
// page never sees ipcRenderer or an IPC event object (whose `sender` would hand it ipcRenderer); it gets answers,
// errors as the contract's { code, message }, and event payloads with their seq.
import { CALL_CHANNEL, EVENT_CHANNEL, NAME_MAX, type CallOutcome } from './channels.ts';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export type EventListener = (payload: unknown, seq: number) => void;

export interface WardroomBridge {
  /** Resolves with the command's answer; rejects with { code, message } (the contract's ApiErrorShape). */
  call(name: string, request?: unknown): Promise<unknown>;
  /** Listens to one event; the returned function removes the listener. */
  on(event: string, listener: EventListener): () => void;
}

export function createBridge(ipc: IpcRendererLike): WardroomBridge {
  const listeners = new Map<string, Set<EventListener>>();
  ipc.on(EVENT_CHANNEL, (_event, name, payload, seq) => {
    if (typeof name !== 'string' || typeof seq !== 'number') return;
    for (const listener of [...(listeners.get(name) ?? [])]) {
      try {
        listener(payload, seq);
      } catch (error) {
        // one broken listener must not keep the event from the others
        console.error(`window.wardroom: a listener of ${name} threw`, error);
      }
    }
  });
  return Object.freeze({
    async call(name: string, request: unknown = {}) {
      if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX) throw Object.freeze({ code: 'BAD_REQUEST', message: `a command name is a string of 1-${NAME_MAX} characters` });
      const outcome = (await ipc.invoke(CALL_CHANNEL, name, request)) as CallOutcome;
      if (outcome.ok) return outcome.result;
      throw Object.freeze({ code: outcome.error.code, message: outcome.error.message });
    },
    on(event: string, listener: EventListener) {
      if (typeof event !== 'string' || typeof listener !== 'function') throw new TypeError('window.wardroom.on(event name, listener function)');
      const set = listeners.get(event) ?? new Set<EventListener>();
      listeners.set(event, set);
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  });
}
