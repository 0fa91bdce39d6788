// JSON-RPC 2.0 between the main process and the engine process, over a message port: the control channel
// (process.parentPort) and one port per window. Each message is one JSON text, so its size is known before it is
// parsed and nothing but plain data crosses. Either side may call the other (the engine asks main for the OS
// keystore); events travel as notifications with their seq beside the payload's fields, as `wardroom serve` sends
// them. Errors carry the contract's code in error.data.code.
import { z } from 'zod';
import { ApiError, ErrorCode } from '../core/api/contract.ts';
import { toApiError } from '../core/api/dispatch.ts';

/** The two ends' view of a port: Electron's MessagePortMain, its parentPort, or Node's MessagePort in tests. */
export interface Port {
  post(message: string): void;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: () => void): void;
  close(): void;
}

// Sizes are in characters of JSON text, which is what a message costs in memory on either side.
/** Requests the engine accepts: the largest valid request (a 16,000-character message, escaped) is under 100 K. */
export const MAX_REQUEST_CHARS = 1024 * 1024;
/** Replies may be much longer: a page of 200 long messages is about 20 M. */
export const MAX_REPLY_CHARS = 64 * 1024 * 1024;

const CODES = { invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, application: -32000 } as const;

const Id = z.number().int().nonnegative();
const Message = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: Id, method: z.string().max(200), params: z.unknown().optional() }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), method: z.string().max(200), params: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), id: Id, result: z.unknown() }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), id: Id.nullable(), error: z.object({ code: z.number().int(), message: z.string(), data: z.object({ code: z.string() }).optional() }) }).strict(),
]);

function errorObject(error: unknown) {
  const api = toApiError(error);
  const code = api.code === 'UNKNOWN_COMMAND' ? CODES.methodNotFound : api.code === 'BAD_REQUEST' ? CODES.invalidParams : CODES.application;
  return { code, message: api.message, data: { code: api.code } };
}

const knownCode = (code: string | undefined): ErrorCode => {
  const parsed = ErrorCode.safeParse(code);
  return parsed.success ? parsed.data : 'INTERNAL';
};

export interface PeerOptions {
  /** the largest message this side accepts */
  maxInboundChars: number;
  /** answers the other side's calls; absent, every call is UNKNOWN_COMMAND */
  handle?: (method: string, params: unknown) => Promise<unknown>;
  /** the other side's notifications (events: name, payload without seq, seq) */
  onNotification?: (method: string, params: Record<string, unknown>) => void;
  /** the port closed (the other side went away); calls in flight were refused with DISCONNECTED */
  onClose?: () => void;
  /** diagnostics only: never params, results or message text */
  log?: (line: string) => void;
}

export class RpcPeer {
  readonly #port: Port;
  readonly #options: PeerOptions;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: ApiError) => void }>();
  #nextId = 1;
  #closed = false;

  constructor(port: Port, options: PeerOptions) {
    this.#port = port;
    this.#options = options;
    port.onMessage((message) => this.#receive(message));
    port.onClose(() => this.#shut());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls the other side; rejects with its ApiError, or DISCONNECTED when the port closes first. */
  call(method: string, params: unknown = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ApiError('DISCONNECTED', 'the engine process is not running'));
    const id = this.#nextId++;
    let text: string;
    try {
      text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    } catch {
      // a BigInt or a cycle: structured clone carries them to main, JSON (and the contract) does not
      return Promise.reject(new ApiError('BAD_REQUEST', `${method.slice(0, 64)}: the request is not plain JSON data`));
    }
    if (text.length > MAX_REQUEST_CHARS) return Promise.reject(new ApiError('BAD_REQUEST', `${method.slice(0, 64)}: the request is longer than ${MAX_REQUEST_CHARS} characters`));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#port.post(text);
    });
  }

  notify(method: string, params: Record<string, unknown>): void {
    if (!this.#closed) this.#port.post(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  close(): void {
    this.#port.close();
    this.#shut();
  }

  #shut(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { reject } of this.#pending.values()) reject(new ApiError('DISCONNECTED', 'the engine process stopped before answering'));
    this.#pending.clear();
    this.#options.onClose?.();
  }

  #receive(raw: unknown): void {
    const log = this.#options.log ?? (() => {});
    if (typeof raw !== 'string' || raw.length > this.#options.maxInboundChars) {
      log(`rpc: refused a message that is not JSON text of at most ${this.#options.maxInboundChars} characters`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      log('rpc: refused a message that is not JSON');
      return;
    }
    const parsed = Message.safeParse(json);
    if (!parsed.success) {
      log('rpc: refused a message that is not JSON-RPC 2.0');
      const id = Id.safeParse((json as { id?: unknown } | null)?.id);
      if (id.success && typeof (json as { method?: unknown }).method === 'string') this.#reply(id.data, { error: errorObject(new ApiError('BAD_REQUEST', 'invalid JSON-RPC request')) });
      return;
    }
    const message = parsed.data;
    if ('result' in message || 'error' in message) return this.#settle(message);
    if ('id' in message) return this.#answer(message.id, message.method, message.params);
    this.#options.onNotification?.(message.method, message.params ?? {});
  }

  #settle(message: { id: number | null; result?: unknown; error?: { message: string; data?: { code: string } } }): void {
    const pending = message.id === null ? undefined : this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id!);
    if (message.error) pending.reject(new ApiError(knownCode(message.error.data?.code), message.error.message));
    else pending.resolve(message.result);
  }

  #answer(id: number, method: string, params: unknown): void {
    const handle = this.#options.handle;
    void Promise.resolve()
      .then(() => (handle ? handle(method, params) : Promise.reject(new ApiError('UNKNOWN_COMMAND', `unknown command: ${method.slice(0, 64)}`))))
      .then((result) => this.#reply(id, { result: result ?? {} }), (error: unknown) => this.#reply(id, { error: errorObject(error) }));
  }

  #reply(id: number, body: { result: unknown } | { error: ReturnType<typeof errorObject> }): void {
    if (this.#closed) return;
    const text = JSON.stringify({ jsonrpc: '2.0', id, ...body });
    this.#port.post(text.length > MAX_REPLY_CHARS ? JSON.stringify({ jsonrpc: '2.0', id, error: errorObject(new ApiError('INTERNAL', `the answer is longer than ${MAX_REPLY_CHARS} characters`)) }) : text);
  }
}
