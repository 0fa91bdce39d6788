// Main-thread side of the SQL worker: a typed async call per operation, answered in order by worker.ts.
import { Worker } from 'node:worker_threads';
import { VaultError, fromShape } from './errors.ts';
import type { OpenRequest, Operations, OperationName, Response, Row, RunResult, SqlParams, Statement } from './protocol.ts';

/** The SQL surface the typed helpers (messages.ts, attachments) are written against. */
export interface SqlExecutor {
  all<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T | undefined>;
  run(sql: string, params?: SqlParams): Promise<RunResult>;
  /** Runs the statements in one transaction in the worker: all commit together or none does. */
  transaction(statements: readonly Statement[]): Promise<RunResult[]>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class SqlWorker implements SqlExecutor {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  private constructor() {
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url));
    this.#worker.on('message', (response: Response) => {
      const pending = this.#pending.get(response.id);
      if (!pending) return;
      this.#pending.delete(response.id);
      if (response.ok) pending.resolve(response.result);
      else pending.reject(fromShape(response.error));
    });
    this.#worker.on('error', (error) => this.#failAll(new VaultError('IO', `vault worker failed: ${error.message}`)));
    this.#worker.on('exit', () => this.#failAll(new VaultError('CLOSED', 'the vault is locked')));
    // The worker must not keep the process alive by itself: an idle, open vault should not block exit.
    this.#worker.unref();
  }

  /** Starts a worker and opens (or creates) the database in it. `rawKey` is transferred and wiped by the worker. */
  static async start(open: OpenRequest): Promise<{ worker: SqlWorker; schemaVersion: number; migrated: number[] }> {
    const worker = new SqlWorker();
    try {
      const opened = await worker.call('open', open, open.rawKey ? [open.rawKey.buffer as ArrayBuffer] : []);
      return { worker, ...opened };
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  call<K extends OperationName>(op: K, args: Operations[K]['args'], transfer: ArrayBuffer[] = []): Promise<Operations[K]['result']> {
    if (this.#closed) return Promise.reject(new VaultError('CLOSED', 'the vault is locked'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.ref(); // keep the process alive while an answer is owed
      this.#worker.postMessage({ id, op, args }, transfer);
    }).finally(() => {
      // Never after terminate(): it refs the worker until the thread's exit is reported, and an unref here would
      // let the event loop empty first, leaving whoever awaits close() unsettled (exit 13 under top-level await).
      if (this.#pending.size === 0 && !this.#closed) this.#worker.unref();
    }) as Promise<Operations[K]['result']>;
  }

  all<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.call('all', { sql, params }) as Promise<T[]>;
  }

  get<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.call('get', { sql, params }) as Promise<T | undefined>;
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.call('run', { sql, params });
  }

  transaction(statements: readonly Statement[]): Promise<RunResult[]> {
    return this.call('transaction', { statements });
  }

  /**
   * Closes the database cleanly (waiting for queued requests), then ends the thread. Calls made once closing has
   * begun are refused at once: the worker would only answer them after the database is gone.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const closing = this.call('close', {});
    this.#closed = true;
    try {
      await closing;
    } finally {
      await this.terminate();
    }
  }

  async terminate(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate();
  }

  #failAll(error: VaultError): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
