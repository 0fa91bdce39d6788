// JSON-RPC 2.0 messages for the contract, whatever carries them: `wardroom serve` one per line (core/cli), the web
// shell one per WebSocket message (core/shell). The request and reply codecs, the contract's ApiError codes mapped
// onto JSON-RPC's integer codes in one place (rpcErrorOf), and an endpoint that routes each request to a target's
// callUntyped and forwards its events. It knows nothing of the engine: names and params pass through untouched and
// the target checks them against the contract. No Node here, so both transports (and a browser) can load it.
import { z } from 'zod';
import { ApiError, ErrorCode } from './contract.ts';
import { toApiError } from './dispatch.ts';

/**
 * The longest request a server accepts (bytes; a line without its newline, or a WebSocket message). The largest
 * valid request is a files.stageChunk: 1 MiB of bytes as base64 (1.33 MiB) and its envelope; a message of 16,000
 * characters each escaped as \uXXXX is under 100 KiB.
 */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/**
 * The longest reply a client accepts from a server: a page of 200 messages of 16,000 characters each, escaped, is
 * about 20 MB, so replies get far more room than requests.
 */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;
/** Output a client has not read yet; past it the client is too slow, and its connection is cut. */
export const MAX_UNREAD_OUTPUT_BYTES = 64 * 1024 * 1024;

export const RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  /** every contract error other than UNKNOWN_COMMAND and BAD_REQUEST; error.data.code says which */
  application: -32000,
} as const;

export type RpcId = string | number | null;

export interface RpcErrorObject {
  code: number;
  message: string;
  /** the contract's error code (core/api): UNKNOWN_COMMAND, BAD_REQUEST, NOT_FOUND, … */
  data: { code: string };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(message: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(message)) };
  } catch {
    return { ok: false };
  }
}

const Id = z.union([z.string(), z.number(), z.null()]);
// Strict, like the contract's requests: an unknown member is a client bug better refused than ignored.
const Request = z.object({
  jsonrpc: z.literal('2.0'),
  id: Id.optional(),
  method: z.string(),
  params: z.unknown().optional(),
}).strict();

export type Incoming =
  | { kind: 'blank' }
  | { kind: 'call'; id: RpcId; method: string; params: unknown }
  /** a request without an id: run, never answered */
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'invalid'; id: RpcId; error: RpcErrorObject };

export const badRequest = (code: number, message: string): RpcErrorObject => ({ code, message, data: { code: 'BAD_REQUEST' } });

/** What a client sent in one message (a line, a WebSocket message). Never throws: every malformed one becomes an `invalid`. */
export function decodeRequest(message: Uint8Array): Incoming {
  if (message.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)) return { kind: 'blank' };
  const json = parseJson(message);
  if (!json.ok) return { kind: 'invalid', id: null, error: badRequest(RPC_CODES.parseError, 'parse error: the request is not JSON (one JSON-RPC request per line or message, UTF-8)') };
  const value = json.value;
  if (Array.isArray(value)) return { kind: 'invalid', id: null, error: badRequest(RPC_CODES.invalidRequest, 'batch requests are not supported: send one request per line or message') };
  if (value === null || typeof value !== 'object') return { kind: 'invalid', id: null, error: badRequest(RPC_CODES.invalidRequest, 'invalid request: a request is a JSON object') };
  const parsed = Request.safeParse(value);
  const id = Id.safeParse((value as { id?: unknown }).id);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.join(', ').slice(0, 100) : issue.path.join('.'))).join(', ');
    return { kind: 'invalid', id: id.success ? id.data : null, error: badRequest(RPC_CODES.invalidRequest, `invalid request: jsonrpc "2.0", method (a string), optional id and params only (check: ${fields})`) };
  }
  const { id: requestId, method, params } = parsed.data;
  if (requestId === undefined) return { kind: 'notification', method, params };
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    return { kind: 'invalid', id: requestId, error: badRequest(RPC_CODES.invalidParams, `${method.slice(0, 64)}: params is the request object (by name), not ${Array.isArray(params) ? 'an array' : String(params === null ? null : typeof params)}`) };
  }
  return { kind: 'call', id: requestId, method, params };
}

/** A contract error as JSON-RPC: the integer class in `code`, the contract's string code in `data.code`. */
export function rpcErrorOf(error: unknown): RpcErrorObject {
  const api = toApiError(error);
  const code = api.code === 'UNKNOWN_COMMAND' ? RPC_CODES.methodNotFound : api.code === 'BAD_REQUEST' ? RPC_CODES.invalidParams : RPC_CODES.application;
  return { code, message: api.message, data: { code: api.code } };
}

// One JSON text each, without a line end: the line transport adds its newline, a WebSocket sends it as it is.
export const encodeResult = (id: RpcId, result: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, result });
export const encodeError = (id: RpcId, error: RpcErrorObject): string => JSON.stringify({ jsonrpc: '2.0', id, error });
export const encodeCall = (id: number, method: string, params: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, method, params });
/** Events carry their sequence number beside the payload's own fields. */
export const encodeEvent = (method: string, payload: unknown, seq: number): string => JSON.stringify({ jsonrpc: '2.0', method, params: { ...(payload as object), seq } });

const Reply = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: Id, result: z.unknown() }).strict(),
  z.object({
    jsonrpc: z.literal('2.0'),
    id: Id,
    error: z.object({ code: z.number().int(), message: z.string(), data: z.object({ code: z.string() }).optional() }),
  }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), method: z.string(), params: z.object({ seq: z.number().int().positive() }).loose() }).strict(),
]);

export type ServerMessage =
  | { kind: 'result'; id: RpcId; result: unknown }
  | { kind: 'error'; id: RpcId; error: ApiError }
  | { kind: 'event'; method: string; payload: Record<string, unknown>; seq: number };

/** A code from the far side, kept when it is one of the contract's (a newer serve may know more). */
const knownCode = (code: string | undefined): ErrorCode => {
  const parsed = ErrorCode.safeParse(code);
  return parsed.success ? parsed.data : 'INTERNAL';
};

/** What a server sent in one message, for a client; null when it is not a JSON-RPC response or event. */
export function decodeReply(message: Uint8Array): ServerMessage | null {
  const json = parseJson(message);
  const parsed = json.ok ? Reply.safeParse(json.value) : null;
  if (!parsed?.success) return null;
  const reply = parsed.data;
  if ('method' in reply) {
    const { seq, ...payload } = reply.params;
    return { kind: 'event', method: reply.method, payload, seq };
  }
  if ('error' in reply) return { kind: 'error', id: reply.id, error: new ApiError(knownCode(reply.error.data?.code), reply.error.message) };
  return { kind: 'result', id: reply.id, result: reply.result };
}

// ---------------------------------------------------------------- one client's endpoint

/** What a client talks to: a session of the host (commands by name, every event it sees), checked on the far side. */
export interface RpcTarget {
  callUntyped(name: string, params: unknown): Promise<unknown>;
  onAny(listener: (name: string, payload: unknown, seq: number) => void): () => void;
}

/** Calls of one client in flight at once; past it, the transport stops reading from it until one settles. */
export const MAX_CALLS_IN_FLIGHT = 64;

export interface EndpointOptions {
  /** diagnostics: never given params, results or message text */
  log(line: string): void;
  /** who this is in the log: "stdio", "socket client 3", "web client 2" */
  label: string;
  /** MAX_CALLS_IN_FLIGHT calls are running: stop reading (backpressure) ... */
  onBusy?(): void;
  /** ... and read again */
  onIdle?(): void;
}

export interface RpcEndpoint {
  /** One request as the client sent it (a line without its newline, a WebSocket message). */
  receive(message: Uint8Array): void;
  /** Answers something the transport refused before decoding (a line or message over its size limit). */
  refuse(error: RpcErrorObject): void;
  /** No more requests will come: once the calls in flight settled, events stop and `finished` resolves. */
  end(): void;
  readonly finished: Promise<void>;
}

/**
 * Routes one client's requests to `target` and writes the answers (in the order calls complete) and every event
 * through `send`. A client that went away mid-call gets no answer, and no call's outcome is ever left unhandled.
 */
export function createRpcEndpoint(target: RpcTarget, send: (text: string) => void, options: EndpointOptions): RpcEndpoint {
  const { log, label } = options;
  let inFlight = 0;
  let ended = false;
  let calls = 0;
  let refused = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let unsubscribe = target.onAny((name, payload, seq) => send(encodeEvent(name, payload, seq)));

  const settle = () => {
    if (!ended || inFlight > 0) return;
    unsubscribe();
    unsubscribe = () => {};
    log(`${label}: closed after ${calls} calls, ${refused} refused requests`);
    finish();
  };

  const run = (method: string, params: unknown, id: RpcId | undefined) => {
    calls += 1;
    inFlight += 1;
    if (inFlight === MAX_CALLS_IN_FLIGHT) options.onBusy?.();
    void Promise.resolve()
      .then(() => target.callUntyped(method, params))
      .then(
        (result) => id !== undefined && send(encodeResult(id, result)),
        (error: unknown) => id !== undefined && send(encodeError(id, rpcErrorOf(error))),
      )
      .finally(() => {
        inFlight -= 1;
        if (inFlight === MAX_CALLS_IN_FLIGHT - 1 && !ended) options.onIdle?.();
        settle();
      });
  };

  const refuse = (error: RpcErrorObject, id: RpcId = null) => {
    refused += 1;
    send(encodeError(id, error));
  };

  log(`${label}: connected`);
  return {
    receive(message) {
      if (ended) return;
      const request = decodeRequest(message);
      switch (request.kind) {
        case 'blank': return;
        case 'call': return run(request.method, request.params, request.id);
        case 'notification': return run(request.method, request.params, undefined);
        case 'invalid': return refuse(request.error, request.id);
      }
    },
    refuse: (error) => refuse(error),
    end() {
      if (ended) return;
      ended = true;
      settle();
    },
    finished,
  };
}
