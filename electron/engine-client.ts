// Main's side of the engine process: the control channel (main's commands; the engine's keystore calls) and one
// JSON-RPC peer per window. No business logic: main forwards a window's calls to its session and its session's
// events to the window.
import { ApiError } from '../core/api/contract.ts';
import { MAX_REPLY_CHARS, MAX_REQUEST_CHARS, RpcPeer, type Port } from './rpc.ts';

export interface EngineLink {
  control: Port;
  /** a new channel to the engine process for this window: the engine gets the other end */
  attach(windowId: number): Port;
}

export interface EngineClientOptions {
  /** main's answers to the engine's calls (the keystore) */
  handlers: Record<string, (params: unknown) => Promise<unknown>>;
  /** the engine process ended (or the channel broke) */
  onExit: () => void;
  log: (line: string) => void;
}

export class EngineClient {
  readonly #link: EngineLink;
  readonly #control: RpcPeer;
  readonly #log: (line: string) => void;
  #closing = false;

  constructor(link: EngineLink, options: EngineClientOptions) {
    this.#link = link;
    this.#log = options.log;
    const { handlers } = options;
    this.#control = new RpcPeer(link.control, {
      maxInboundChars: MAX_REQUEST_CHARS,
      handle: async (method, params) => {
        const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
        if (!handler) throw new ApiError('UNKNOWN_COMMAND', `unknown main command: ${method.slice(0, 64)}`);
        return handler(params);
      },
      onClose: () => {
        if (!this.#closing) options.onExit();
      },
      log: options.log,
    });
  }

  /** A window's channel: calls go to its own session; its events arrive as notifications. */
  window(windowId: number, onEvent: (name: string, payload: Record<string, unknown>, seq: number) => void): RpcPeer {
    return new RpcPeer(this.#link.attach(windowId), {
      maxInboundChars: MAX_REPLY_CHARS,
      onNotification: (name, params) => {
        const { seq, ...payload } = params;
        if (typeof seq === 'number') onEvent(name, payload, seq);
      },
      log: this.#log,
    });
  }

  /** The OS locked the screen or is going to sleep: every open profile locks. */
  async lockAll(): Promise<void> {
    await this.#control.call('engine.lockAll');
  }

  /** Closes every profile cleanly (their vaults shut), then the channel; gives up waiting after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.#control.call('engine.close').catch((error: Error) => this.#log(`engine: closing failed: ${error.message}`)), timeout]);
    clearTimeout(timer);
    this.#control.close();
  }
}
