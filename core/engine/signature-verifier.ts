// Every channel message carries an Ed25519 signature, and checking it is the largest single cost of reading a
// backlog (about 0.08 ms each on this machine with native libsodium; it was 0.23 ms in the WASM build). A worker
// thread checks part of each inbound batch on another core while the engine's thread decrypts the rest. The
// protocol asks a SignatureCheck; the one built here answers from the worker's results for exactly the bytes the
// worker saw, and verifies anything else itself, so a wrong or missing result can never accept a bad signature.
import { Worker } from 'node:worker_threads';
import { toHex, verify } from '../crypto/sodium.ts';
import type { SignatureCheck } from '../protocol/sender-keys.ts';

export interface SignatureJob {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** A SignatureCheck answering from results computed ahead for these exact bytes, verifying anything else. */
export function precheckedSignatures(jobs: readonly SignatureJob[], results: readonly boolean[]): SignatureCheck {
  const known = new Map<string, { job: SignatureJob; ok: boolean }>();
  jobs.forEach((job, i) => known.set(toHex(job.signature), { job, ok: results[i] === true }));
  return (signature, message, publicKey) => {
    const hit = known.get(toHex(signature));
    if (hit && sameBytes(hit.job.message, message) && sameBytes(hit.job.publicKey, publicKey)) return hit.ok;
    return verify(signature, message, publicKey);
  };
}

export class SignatureVerifier {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, { resolve: (results: boolean[]) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  /** Verifies on the worker thread (started on first use). */
  verifyAll(jobs: readonly SignatureJob[]): Promise<boolean[]> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A worker owing an answer keeps the process alive; an idle one does not (see #start).
      worker.ref();
      worker.postMessage({ id, jobs });
    }).finally(() => {
      if (this.#pending.size === 0 && this.#worker === worker) worker.unref();
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker) await worker.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./signature-worker.ts', import.meta.url));
    worker.on('message', ({ id, results }: { id: number; results: boolean[] }) => {
      this.#pending.get(id)?.resolve(results);
      this.#pending.delete(id);
    });
    const failAll = (error: Error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      if (this.#worker === worker) this.#worker = null;
    };
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error('the signature worker stopped')));
    // After the listeners: adding a 'message' listener refs the worker's port again, and an idle worker held the
    // process open until close().
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
