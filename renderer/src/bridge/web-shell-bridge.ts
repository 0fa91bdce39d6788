// window.wardroom in the web shell: JSON-RPC 2.0 over the shell's WebSocket (core/shell), one object per message.
// The per-launch token comes from the fragment of the URL the shell printed (a fragment is never sent over the
// network) and travels as a WebSocket subprotocol; it is kept in sessionStorage so a reload of this tab works, and
// removed from the address bar. The link reconnects by itself; a new link is a new session on the shell's side.
import type { LaunchFragment } from '../lib/launch.ts';
import type { BridgeError, CommandName, EventName, Request, Response, WardroomBridge } from './api.ts';

const PROTOCOL = 'wardroom.v1';
const TOKEN_PREFIX = 'wardroom.token.';
const TOKEN_KEY = 'wardroom.token';
/** How long a call waits for the link to come (back) up before it fails. */
const LINK_WAIT_MS = 10_000;

/** The launch token (then cleared from the address bar), or this tab's earlier one. */
export function takeToken(launch: LaunchFragment): string | null {
  if (launch.token) {
    window.sessionStorage.setItem(TOKEN_KEY, launch.token);
    return launch.token;
  }
  return window.sessionStorage.getItem(TOKEN_KEY);
}

class CallError extends Error implements BridgeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const disconnected = () => new CallError('DISCONNECTED', 'lost the connection to the Wardroom app host (is `npm start` still running?)');

interface Pending {
  resolve(value: unknown): void;
  reject(error: CallError): void;
}

type Message = { id?: number | string | null; result?: unknown; error?: { message: string; data?: { code?: string } }; method?: string; params?: Record<string, unknown> & { seq: number } };

export function createWebShellBridge(token: string): WardroomBridge {
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/rpc`;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown, seq: number) => void>>();
  const linkListeners = new Set<(up: boolean) => void>();
  let socket: WebSocket | null = null;
  let open = false;
  let lastId = 0;
  let retry = 0;
  const waiters: (() => void)[] = [];

  const setLink = (up: boolean) => {
    if (open === up) return;
    open = up;
    for (const listener of linkListeners) listener(up);
    if (up) for (const wake of waiters.splice(0)) wake();
  };

  const onMessage = (event: MessageEvent) => {
    let message: Message;
    try {
      message = JSON.parse(String(event.data)) as Message;
    } catch {
      return;
    }
    if (typeof message.method === 'string' && message.params) {
      const { seq, ...payload } = message.params;
      for (const listener of listeners.get(message.method) ?? []) listener(payload, seq);
      return;
    }
    const call = typeof message.id === 'number' ? pending.get(message.id) : undefined;
    if (!call) return;
    pending.delete(message.id as number);
    if (message.error) call.reject(new CallError(message.error.data?.code ?? 'INTERNAL', message.error.message));
    else call.resolve(message.result);
  };

  const connect = () => {
    const ws = new WebSocket(url, [PROTOCOL, TOKEN_PREFIX + token]);
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      setLink(true);
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      socket = null;
      for (const call of pending.values()) call.reject(disconnected());
      pending.clear();
      setLink(false);
      // full jitter up to 5 s: the shell is local, it is either back soon or gone
      const delay = Math.random() * Math.min(5_000, 250 * 2 ** retry++);
      window.setTimeout(connect, delay);
    };
  };
  connect();

  const linkUp = () => (open ? Promise.resolve(true) : new Promise<boolean>((resolve) => {
    const timer = window.setTimeout(() => resolve(false), LINK_WAIT_MS);
    waiters.push(() => {
      window.clearTimeout(timer);
      resolve(true);
    });
  }));

  return {
    async call<N extends CommandName>(name: N, request: Request<N>): Promise<Response<N>> {
      if (!(await linkUp()) || !socket) throw disconnected();
      const id = ++lastId;
      const ws = socket;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: name, params: request }));
      });
    },
    on<N extends EventName>(name: N, listener: (payload: never, seq: number) => void) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener as (payload: unknown, seq: number) => void);
      return () => set.delete(listener as (payload: unknown, seq: number) => void);
    },
    onLink(listener) {
      linkListeners.add(listener);
      return () => linkListeners.delete(listener);
    },
  } as WardroomBridge;
}
