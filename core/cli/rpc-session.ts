// One JSON-RPC client of `wardroom serve` (stdin/stdout, or one socket connection): reads request lines, routes each
// method name to the target's callUntyped and writes the answer, and forwards every event as a notification. No
// business logic: the target (a Dispatcher) checks names and params against the contract; this only frames.
import type { Readable, Writable } from 'node:stream';
import { decodeRequest, encodeError, encodeEvent, encodeResult, LineDecoder, MAX_REQUEST_LINE_BYTES, RPC_CODES, rpcErrorOf, type RpcId } from './json-rpc.ts';

/** What a session drives: the engine's dispatcher today, one that also answers host commands later. */
/** What a client talks to: a session of the host (commands by name, events by name), checked on the far side. */
export interface RpcTarget {
  callUntyped(name: string, params: unknown): Promise<unknown>;
  on(name: string, listener: (payload: unknown, seq: number) => void): () => void;
}

/** Calls of one client in flight at once; past it, its input is paused until one settles (backpressure). */
export const MAX_CALLS_IN_FLIGHT = 64;
/** Output a client has not read yet; past it the client is too slow, and its session ends. */
export const MAX_UNREAD_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface SessionOptions {
  eventNames: readonly string[];
  /** diagnostics: never given params, results or message text */
  log(line: string): void;
  /** who this is in the log: "stdio", "socket client 3" */
  label: string;
  /** a client too slow to read what it is sent: a socket is cut off here */
  onOverflow?(): void;
}

export interface RpcSession {
  /** Resolves once the input ended (or the connection broke) and every call it made has settled. */
  readonly finished: Promise<void>;
  /** Stops reading; calls already in flight are still answered. */
  stop(): void;
}

export function startSession(target: RpcTarget, input: Readable, output: Writable, options: SessionOptions): RpcSession {
  const { log, label } = options;
  let inFlight = 0;
  let inputDone = false;
  let calls = 0;
  let refused = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  let overflowed = false;
  const write = (line: string) => {
    if (overflowed || output.destroyed || output.writableEnded) return;
    if (output.writableLength > MAX_UNREAD_OUTPUT_BYTES) {
      overflowed = true;
      log(`${label}: ended, it left ${output.writableLength} bytes unread`);
      stop();
      options.onOverflow?.();
      return;
    }
    output.write(line);
  };

  const unsubscribe = options.eventNames.map((name) => target.on(name, (payload, seq) => write(encodeEvent(name, payload, seq))));

  const settle = () => {
    if (!inputDone || inFlight > 0) return;
    for (const off of unsubscribe.splice(0)) off();
    log(`${label}: closed after ${calls} calls, ${refused} refused lines`);
    finish();
  };

  const run = (method: string, params: unknown, answer: ((line: string) => void) | null, id: RpcId) => {
    calls += 1;
    inFlight += 1;
    if (inFlight >= MAX_CALLS_IN_FLIGHT) input.pause();
    // A client that went away mid-call gets no answer, and the call's outcome is never left unhandled.
    void Promise.resolve()
      .then(() => target.callUntyped(method, params))
      .then(
        (result) => answer?.(encodeResult(id, result)),
        (error: unknown) => answer?.(encodeError(id, rpcErrorOf(error))),
      )
      .finally(() => {
        inFlight -= 1;
        if (!inputDone && input.isPaused()) input.resume();
        settle();
      });
  };

  const decoder = new LineDecoder(
    MAX_REQUEST_LINE_BYTES,
    (line) => {
      const request = decodeRequest(line);
      switch (request.kind) {
        case 'blank': return;
        case 'call': return run(request.method, request.params, write, request.id);
        case 'notification': return run(request.method, request.params, null, null);
        case 'invalid':
          refused += 1;
          return write(encodeError(request.id, request.error));
      }
    },
    () => {
      refused += 1;
      write(encodeError(null, { code: RPC_CODES.invalidRequest, message: `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes: refused, and the rest of it skipped`, data: { code: 'BAD_REQUEST' } }));
    },
  );

  const onData = (chunk: Buffer) => decoder.push(chunk);
  const stop = () => {
    if (inputDone) return;
    inputDone = true;
    input.off('data', onData);
    input.pause();
    settle();
  };
  input.on('data', onData);
  input.once('end', () => {
    if (!inputDone) decoder.end();
    stop();
  });
  // A broken connection (reset, EPIPE) ends the session like an end of input; it must never throw.
  for (const stream of new Set<Readable | Writable>([input, output])) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      log(`${label}: connection error ${error.code ?? 'unknown'}`);
      stop();
    });
    stream.once('close', stop);
  }
  log(`${label}: connected`);
  return { finished, stop };
}
