// One JSON-RPC client of `wardroom serve` on a stream (stdin/stdout, or one socket connection): splits the input into
// lines for the shared endpoint (core/api/json-rpc.ts), which routes each to the target and answers, and writes its
// answers and events as lines. No business logic: the target (a session of the host) checks names and params.
import type { Readable, Writable } from 'node:stream';
import { badRequest, createRpcEndpoint, MAX_REQUEST_BYTES, MAX_UNREAD_OUTPUT_BYTES, RPC_CODES, type RpcTarget } from '../api/json-rpc.ts';
import { asLine, LineDecoder } from './json-rpc.ts';

export interface SessionOptions {
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
  let overflowed = false;
  let inputDone = false;
  const write = (text: string) => {
    if (overflowed || output.destroyed || output.writableEnded) return;
    if (output.writableLength > MAX_UNREAD_OUTPUT_BYTES) {
      overflowed = true;
      log(`${label}: ended, it left ${output.writableLength} bytes unread`);
      stop();
      options.onOverflow?.();
      return;
    }
    output.write(asLine(text));
  };
  const endpoint = createRpcEndpoint(target, write, {
    log,
    label,
    onBusy: () => input.pause(),
    onIdle: () => {
      if (!inputDone) input.resume();
    },
  });
  const decoder = new LineDecoder(
    MAX_REQUEST_BYTES,
    (line) => endpoint.receive(line),
    () => endpoint.refuse(badRequest(RPC_CODES.invalidRequest, `request line longer than ${MAX_REQUEST_BYTES} bytes: refused, and the rest of it skipped`)),
  );

  const onData = (chunk: Buffer) => decoder.push(chunk);
  const stop = () => {
    if (inputDone) return;
    inputDone = true;
    input.off('data', onData);
    input.pause();
    endpoint.end();
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
  return { finished: endpoint.finished, stop };
}
