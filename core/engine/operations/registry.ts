// Long commands (a backlog sync now; file transfers next) run under an id the caller chose: they report progress
// as operation.progress events and stop when operations.cancel names them.
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';

export interface Operation {
  readonly signal: AbortSignal;
  progress(done: number, total?: number): void;
  /** The operation waits for the relay, which cannot be reached: said with the progress so far. */
  waiting(): void;
  /** Throws CANCELLED once the operation was cancelled: long loops call it between steps. */
  check(): void;
}

const UNTRACKED: Operation = { signal: new AbortController().signal, progress: () => {}, waiting: () => {}, check: () => {} };

export class Operations {
  readonly #ctx: EngineContext;
  readonly #running = new Map<string, AbortController>();

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Runs `task` as operation `id` (or untracked when the caller gave none). */
  async run<T>(id: string | undefined, task: (operation: Operation) => Promise<T>): Promise<T> {
    if (id === undefined) return task(UNTRACKED);
    if (this.#running.has(id)) throw new EngineError('CONFLICT', `an operation named ${id} is already running`);
    const controller = new AbortController();
    this.#running.set(id, controller);
    const check = () => {
      if (controller.signal.aborted) throw new EngineError('CANCELLED', 'cancelled');
    };
    let last: { done: number; total?: number } = { done: 0 };
    try {
      return await task({
        signal: controller.signal,
        progress: (done, total) => {
          last = { done, ...(total !== undefined ? { total } : {}) };
          this.#ctx.emit('operation.progress', { operation: id, ...last });
        },
        waiting: () => this.#ctx.emit('operation.progress', { operation: id, ...last, waiting: true }),
        check,
      });
    } finally {
      this.#running.delete(id);
    }
  }

  cancel(id: string): boolean {
    const controller = this.#running.get(id);
    controller?.abort();
    return controller !== undefined;
  }
}
