// One front end's view of the host: a transport connection (an Electron window, a web-shell socket, a `serve`
// client) gets a session. Host commands go to the profile host; every other command goes to the engine of the
// profile this session selected, and while that profile is locked only host commands are answered. Events of the
// host, and of the selected profile's engine, reach the session's listeners.
import { ApiError, commands, events, type EventName } from '../api/contract.ts';
import type { Dispatcher } from '../api/dispatch.ts';
import { hostCommands, hostEvents, type HostCommandName, type HostEventName } from '../api/host.ts';
import type { ProfileHost } from './profiles.ts';

export type SessionListener = (name: string, payload: unknown, seq: number) => void;

export interface Session {
  /** For transports: any command name (host or engine) and an unchecked request; the schemas check it. */
  callUntyped(name: string, request: unknown): Promise<unknown>;
  /** Every event this session sees, host and engine alike, with its name. */
  onAny(listener: SessionListener): () => void;
  current(): string | undefined;
  close(): void;
}

const isHostCommand = (name: string): name is HostCommandName => Object.hasOwn(hostCommands, name);
const ENGINE_EVENTS = Object.keys(events) as EventName[];
const HOST_EVENTS = Object.keys(hostEvents) as HostEventName[];

export function createSession(host: ProfileHost, initial?: string): Session {
  const listeners = new Set<SessionListener>();
  let selected: string | undefined;
  let detach: () => void = () => {};
  const fanOut = (name: string) => (payload: unknown, seq: number) => {
    for (const listener of listeners) listener(name, payload, seq);
  };

  /** Listens to the selected profile's engine; a new selection (or a new engine after an unlock) re-attaches. */
  const attach = () => {
    detach();
    const engine = selected ? host.engineOf(selected) : undefined;
    if (!engine) {
      detach = () => {};
      return;
    }
    const offs = ENGINE_EVENTS.map((name) => engine.api.on(name, fanOut(name) as never));
    detach = () => offs.forEach((off) => off());
  };
  const hostOffs = HOST_EVENTS.map((name) => host.on(name, (payload, seq) => {
    fanOut(name)(payload, seq);
    const change = payload as { profile: string; state: string };
    if (name === 'profile.state' && change.profile === selected && (change.state === 'open' || change.state === 'locked')) attach();
  }));
  const select = (name: string) => {
    selected = name;
    attach();
  };
  if (initial) select(initial);

  return {
    async callUntyped(name, request) {
      if (isHostCommand(name)) return host.call(name, request, { select, current: () => selected });
      if (!Object.hasOwn(commands, name)) throw new ApiError('UNKNOWN_COMMAND', `unknown command: ${name.slice(0, 64)}`);
      const engine = selected ? host.engineOf(selected) : undefined;
      if (!engine) throw new ApiError('LOCKED', selected ? `the profile ${selected} is locked: unlock it first` : 'no profile is open: unlock or create one first');
      return (engine.api as Dispatcher).callUntyped(name, request);
    },
    onAny(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    current: () => selected,
    close() {
      detach();
      hostOffs.forEach((off) => off());
      listeners.clear();
    },
  };
}
