// JSON-RPC 2.0 over newline-delimited JSON, as `wardroom serve` speaks it (docs/bots.md): the line splitter with its
// size limit, the decoding of what a client sends and of what a server answers, and the encoding of both. It knows
// nothing of the engine: names and params pass through untouched, and the contract's ApiError codes map onto
// JSON-RPC's integer codes in one place (rpcErrorOf).
import { z } from 'zod';
import { ApiError, ErrorCode } from '../api/contract.ts';
import { toApiError } from '../api/dispatch.ts';

/**
 * The longest request line a server accepts (bytes, without the newline). The largest valid request, a message of
 * 16,000 characters each escaped as \uXXXX, is under 100 KiB.
 */
export const MAX_REQUEST_LINE_BYTES = 1024 * 1024;
/**
 * The longest line a client accepts from a server: a page of 200 messages of 16,000 characters each, escaped, is
 * about 20 MB, so replies get far more room than requests.
 */
export const MAX_REPLY_LINE_BYTES = 64 * 1024 * 1024;

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

/**
 * Splits a byte stream into lines of at most `maxBytes`. A longer line is reported once (`oversized`) and the rest
 * of it is skipped as it streams past, never held: the decoder keeps at most `maxBytes` at any time.
 */
export class LineDecoder {
  readonly #maxBytes: number;
  readonly #onLine: (line: Buffer) => void;
  readonly #onOversized: () => void;
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;

  constructor(maxBytes: number, onLine: (line: Buffer) => void, onOversized: () => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onOversized = onOversized;
  }

  /** Bytes held for the line in progress (for tests of the bound). */
  get buffered(): number {
    return this.#size;
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const piece = bytes.subarray(start, newline < 0 ? bytes.length : newline);
      if (!this.#skipping && piece.length > 0) {
        if (this.#size + piece.length > this.#maxBytes) {
          this.#parts = [];
          this.#size = 0;
          this.#skipping = true;
          this.#onOversized();
        } else {
          // a copy: a short tail must not pin the whole chunk it came in
          this.#parts.push(Buffer.from(piece));
          this.#size += piece.length;
        }
      }
      if (newline < 0) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  /** The end of the stream ends a last line that had no newline. */
  end(): void {
    if (this.#size > 0) this.#finishLine();
    this.#skipping = false;
  }

  #finishLine(): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#onLine(line);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(line: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(line)) };
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

const failureOf = (code: number, message: string): RpcErrorObject => ({ code, message, data: { code: 'BAD_REQUEST' } });

/** What a client sent on one line. Never throws: every malformed line becomes an `invalid` with its error. */
export function decodeRequest(line: Uint8Array): Incoming {
  if (line.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)) return { kind: 'blank' };
  const json = parseJson(line);
  if (!json.ok) return { kind: 'invalid', id: null, error: failureOf(RPC_CODES.parseError, 'parse error: the line is not JSON (one JSON-RPC request per line, UTF-8)') };
  const value = json.value;
  if (Array.isArray(value)) return { kind: 'invalid', id: null, error: failureOf(RPC_CODES.invalidRequest, 'batch requests are not supported: send one request per line') };
  if (value === null || typeof value !== 'object') return { kind: 'invalid', id: null, error: failureOf(RPC_CODES.invalidRequest, 'invalid request: a request is a JSON object') };
  const parsed = Request.safeParse(value);
  const id = Id.safeParse((value as { id?: unknown }).id);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.join(', ').slice(0, 100) : issue.path.join('.'))).join(', ');
    return { kind: 'invalid', id: id.success ? id.data : null, error: failureOf(RPC_CODES.invalidRequest, `invalid request: jsonrpc "2.0", method (a string), optional id and params only (check: ${fields})`) };
  }
  const { id: requestId, method, params } = parsed.data;
  if (requestId === undefined) return { kind: 'notification', method, params };
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    return { kind: 'invalid', id: requestId, error: failureOf(RPC_CODES.invalidParams, `${method.slice(0, 64)}: params is the request object (by name), not ${Array.isArray(params) ? 'an array' : String(params === null ? null : typeof params)}`) };
  }
  return { kind: 'call', id: requestId, method, params };
}

/** A contract error as JSON-RPC: the integer class in `code`, the contract's string code in `data.code`. */
export function rpcErrorOf(error: unknown): RpcErrorObject {
  const api = toApiError(error);
  const code = api.code === 'UNKNOWN_COMMAND' ? RPC_CODES.methodNotFound : api.code === 'BAD_REQUEST' ? RPC_CODES.invalidParams : RPC_CODES.application;
  return { code, message: api.message, data: { code: api.code } };
}

export const encodeResult = (id: RpcId, result: unknown): string => `${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`;
export const encodeError = (id: RpcId, error: RpcErrorObject): string => `${JSON.stringify({ jsonrpc: '2.0', id, error })}\n`;
export const encodeCall = (id: number, method: string, params: unknown): string => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
/** Events carry their sequence number beside the payload's own fields. */
export const encodeEvent = (method: string, payload: unknown, seq: number): string => `${JSON.stringify({ jsonrpc: '2.0', method, params: { ...(payload as object), seq } })}\n`;

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

/** What a server sent on one line, for a client; null when it is not a JSON-RPC response or event. */
export function decodeReply(line: Uint8Array): ServerMessage | null {
  const json = parseJson(line);
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
