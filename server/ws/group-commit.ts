// Group commit. Sends and acks from every socket are queued and written in ONE transaction per event-loop turn,
// then each caller's promise resolves. With synchronous=FULL every transaction costs an fsync, so batching is what
// lets durable acknowledgement keep up with many senders: the busier the server, the larger each batch.
import type { AckRequest, SendRequest, SendResult, ServerStore } from '../store/types.ts';
import { isStorageFull } from '../errors.ts';

interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommitter {
  readonly #store: ServerStore;
  readonly #onCommitted: (results: SendResult[]) => void;
  #sends: Pending<SendRequest, SendResult>[] = [];
  #acks: Pending<AckRequest, number>[] = [];
  #scheduled = false;
  /** Transactions and sends committed, for logs and the benchmark. */
  batches = 0;
  committedSends = 0;

  constructor(store: ServerStore, onCommitted: (results: SendResult[]) => void) {
    this.#store = store;
    this.#onCommitted = onCommitted;
  }

  send(request: SendRequest): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.#sends.push({ input: request, resolve, reject });
      this.#schedule();
    });
  }

  ack(request: AckRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#acks.push({ input: request, resolve, reject });
      this.#schedule();
    });
  }

  /** Commits whatever is queued now; also called on shutdown so nothing accepted is left unwritten. */
  flush(): void {
    this.#scheduled = false;
    const sends = this.#sends;
    const acks = this.#acks;
    this.#sends = [];
    this.#acks = [];
    if (sends.length === 0 && acks.length === 0) return;
    let results: { sends: SendResult[]; acks: number[] };
    try {
      results = this.#store.commitBatch(sends.map((p) => p.input), acks.map((p) => p.input));
    } catch (error) {
      // The transaction rolled back as a whole: nobody was acknowledged, so every caller hears the failure. When
      // storage is full the acks are committed on their own: deleting is what makes room, so they must not share
      // the fate of the sends that did not fit.
      for (const p of sends) p.reject(error);
      if (isStorageFull(error) && sends.length > 0 && acks.length > 0) {
        this.#acks = [...acks, ...this.#acks];
        this.flush();
      } else {
        for (const p of acks) p.reject(error);
      }
      return;
    }
    this.batches++;
    this.committedSends += sends.length;
    // Push to online recipients first (their latency is the figure that matters), then answer the senders.
    this.#onCommitted(results.sends);
    sends.forEach((p, i) => p.resolve(results.sends[i]!));
    acks.forEach((p, i) => p.resolve(results.acks[i]!));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }
}
