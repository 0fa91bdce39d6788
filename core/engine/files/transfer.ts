// Moving blobs to and from the relay, resumably. Uploads go in chunks at offsets the relay acknowledges (after it
// synced them to disk), so a cut connection, a relay restart or a killed client continues from the relay's count;
// downloads continue with a Range request from the last byte verified. A relay that is away is waited for (with
// backoff) as long as transfers keep moving; one that stays away for `patienceMs` fails the transfer as OFFLINE.
import type { IncomingMessage } from 'node:http';
import { blake2bHasher } from '../../crypto/sodium.ts';
import { EngineError } from '../errors.ts';
import { RelayError, type RelayHttp } from '../relay-http.ts';
import { relayUnreachable } from '../relay-http.ts';
import { BLOB_HEADER_BYTES, BlobIntegrityError, BlobOpener, blobBytes, sealBlob, type PlainSource } from './blob-format.ts';

export interface TransferOptions {
  signal: AbortSignal;
  /** bytes of the blob done so far (a resumed transfer starts above 0) */
  progress(done: number): void;
  /** the relay cannot be reached: the transfer waits for it (said once an outage; progress follows when it is back) */
  waiting?(): void;
  /** how long the relay may stay unreachable before the transfer gives up (default 2 minutes) */
  patienceMs?: number;
}

/** Progress is reported at most once per this many bytes (and at the end): events are not free. */
const PROGRESS_STEP_BYTES = 4 * 1024 * 1024;

/** A progress callback that passes on only steps of PROGRESS_STEP_BYTES, the first report and the last. */
function stepped(progress: (done: number) => void, total: number): (done: number) => void {
  let last = -Infinity;
  return (done) => {
    if (done - last < PROGRESS_STEP_BYTES && done < total) return;
    last = done;
    progress(done);
  };
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
const DEFAULT_PATIENCE_MS = 120_000;

/** Worth another try: the relay is away or restarting, or refused only for now. */
function transient(error: unknown): boolean {
  return away(error) || (error instanceof RelayError && (error.code === 'wrong_offset' || error.code === 'upload_in_progress'));
}

/** The relay cannot be reached, or cannot serve for now: what a person is told the transfer waits for. */
function away(error: unknown): boolean {
  return relayUnreachable(error) || (error instanceof RelayError && (error.status >= 500 || error.status === 429));
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new EngineError('CANCELLED', 'cancelled');
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(done, ms);
  function done() {
    clearTimeout(timer);
    signal.removeEventListener('abort', done);
    resolve();
  }
  signal.addEventListener('abort', done, { once: true });
});

/**
 * Runs a transfer's step until it finishes, retrying transient failures with backoff while the relay keeps coming
 * back. Patience counts from the last time bytes moved (`moved`), not from the first failure: a long transfer over
 * a network that drops now and then is not failed by its second drop.
 */
class Persistence {
  readonly #options: TransferOptions;
  #delay = FIRST_RETRY_MS;
  #failingSince: number | null = null;
  #waitingSaid = false;

  constructor(options: TransferOptions) {
    this.#options = options;
  }

  /** Bytes moved: the relay is there, and the next outage starts a new wait. */
  moved(): void {
    this.#failingSince = null;
    this.#delay = FIRST_RETRY_MS;
    this.#waitingSaid = false;
  }

  async run<T>(step: () => Promise<T>): Promise<T> {
    const options = this.#options;
    for (;;) {
      checkAborted(options.signal);
      try {
        return await step();
      } catch (error) {
        checkAborted(options.signal);
        if (!transient(error)) throw error;
        if (away(error) && !this.#waitingSaid) {
          this.#waitingSaid = true;
          options.waiting?.();
        }
        this.#failingSince ??= Date.now();
        if (Date.now() - this.#failingSince > (options.patienceMs ?? DEFAULT_PATIENCE_MS)) throw error;
        await sleep(this.#delay, options.signal);
        this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
      }
    }
  }
}

export interface UploadSpec {
  blobId: string;
  key: Uint8Array;
  prefix: Uint8Array;
  source: PlainSource;
  /** the relay's largest chunk (from blob creation); 1 MiB by default */
  maxChunkBytes?: number;
}

/** Uploads what the relay does not have yet and answers with the blob's digest. */
export async function uploadBlob(http: RelayHttp, spec: UploadSpec, options: TransferOptions): Promise<Uint8Array> {
  const total = blobBytes(spec.source.size);
  const bodyBytes = spec.maxChunkBytes ?? 1024 * 1024;
  const progress = stepped(options.progress, total);
  const persistence = new Persistence(options);
  let progressed = false;
  return persistence.run(async () => {
    const status = await http.blobStatus(spec.blobId);
    if (status.size !== total) throw new EngineError('INVALID', 'the relay holds a blob of another size for this file');
    let offset = status.uploaded;
    if (!progressed) {
      progress(offset);
      progressed = true;
    }
    const hash = blake2bHasher();
    // two bodies: one on its way to the relay while the next is sealed
    const bodies = [new Uint8Array(bodyBytes), new Uint8Array(bodyBytes)];
    let body = bodies[0]!;
    let filled = 0;
    let inFlight: Promise<void> | null = null;
    const send = (bytes: Uint8Array, at: number) => http.putBlobChunk(spec.blobId, at, bytes).then((reply) => {
      if (reply.uploaded !== at + bytes.length) throw new RelayError('wrong_offset', 'the relay acknowledged another offset');
      persistence.moved();
      progress(reply.uploaded);
    });
    const flush = async () => {
      const bytes = body.subarray(0, filled);
      await inFlight;
      checkAborted(options.signal);
      inFlight = send(bytes, offset);
      // Its failure is seen at the next flush or the end; until then it must count as handled, or a relay that goes
      // away while the next body is sealed becomes an unhandled rejection, which ends the engine's process.
      inFlight.catch(() => {});
      offset += filled;
      body = body === bodies[0] ? bodies[1]! : bodies[0]!;
      filled = 0;
    };
    try {
      for await (const piece of sealBlob(spec.source, spec.key, spec.prefix, hash, offset)) {
        for (let at = 0; at < piece.length;) {
          const take = Math.min(bodyBytes - filled, piece.length - at);
          body.set(piece.subarray(at, at + take), filled);
          filled += take;
          at += take;
          if (filled === bodyBytes) await flush();
        }
      }
      if (filled > 0) await flush();
      await inFlight;
    } catch (error) {
      await (inFlight as Promise<void> | null)?.catch(() => {});
      if (error instanceof BlobIntegrityError) throw new EngineError('INVALID', error.message);
      throw error;
    }
    return hash.digest();
  });
}

export interface DownloadSpec {
  blobId: string;
  key: Uint8Array;
  digest: Uint8Array;
  size: number;
}

/** Where verified plaintext goes, and what was verified by an earlier, interrupted run. */
export interface DownloadSink {
  /** whole chunks of plaintext already written and verified (0 for a fresh download) */
  resumeChunks: number;
  /** their plaintext, to hash them again */
  written: PlainSource;
  write(plain: Uint8Array): Promise<void>;
}

/** The first bytes of a blob (its header), for a download that resumes past them. */
async function readHead(http: RelayHttp, blobId: string, length: number): Promise<Uint8Array> {
  const response = await http.downloadBlob(blobId, 0);
  const head = new Uint8Array(length);
  let filled = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const take = Math.min(length - filled, chunk.length);
      head.set(chunk.subarray(0, take), filled);
      filled += take;
      if (filled === length) break;
    }
  } finally {
    response.destroy();
  }
  if (filled < length) throw new BlobIntegrityError('the file is truncated');
  return head;
}

/**
 * Downloads and verifies a blob into `sink`. Throws INVALID (nothing verified kept by the caller) when the blob is
 * damaged, truncated or too long; resumes after cut connections from the last byte received.
 */
export async function downloadBlob(http: RelayHttp, spec: DownloadSpec, sink: DownloadSink, options: TransferOptions): Promise<void> {
  const opener = new BlobOpener(spec.key, spec.size, blake2bHasher());
  const total = blobBytes(spec.size);
  const progress = stepped(options.progress, total);
  const persistence = new Persistence(options);
  try {
    if (sink.resumeChunks > 0) {
      const head = await persistence.run(() => readHead(http, spec.blobId, BLOB_HEADER_BYTES));
      await opener.resume(head, sink.resumeChunks, sink.written);
    }
    progress(opener.position);
    await persistence.run(async () => {
      if (opener.position === total) return;
      const response: IncomingMessage = await http.downloadBlob(spec.blobId, opener.position);
      let ended = false;
      response.once('end', () => {
        ended = true;
      });
      try {
        for await (const chunk of response as AsyncIterable<Buffer>) {
          checkAborted(options.signal);
          await opener.push(chunk, (plain) => sink.write(plain));
          persistence.moved();
          progress(opener.position);
        }
      } catch (error) {
        if (error instanceof BlobIntegrityError || error instanceof EngineError) throw error;
        throw new RelayError('network', 'the download was cut', { cause: error });
      } finally {
        response.destroy();
      }
      if (!ended && opener.position < total) throw new RelayError('network', 'the download was cut');
    });
    opener.finish(spec.digest);
  } catch (error) {
    if (error instanceof BlobIntegrityError) throw new EngineError('INVALID', `${error.message}: it was damaged or cut short at the relay, and nothing of it was kept`);
    throw error;
  }
}
