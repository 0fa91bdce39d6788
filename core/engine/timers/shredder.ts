// The shredder's schedule: after each batch of expiries, every SHRED_EVERY_MS while open, and on demand
// (vault.shred). Each run makes what was deleted unrecoverable from this device's files (core/vault/shredder.ts:
// zeroed cells, freed pages handed back, the WAL truncated, attachment files overwritten) and reports what it did.
import type { EngineContext } from '../context.ts';

/** Deletions by other paths (edits, deletes, burned reactions) are shredded at least this often. */
const SHRED_EVERY_MS = 10 * 60_000;

export type ShredTrigger = 'expiry' | 'scheduled' | 'manual';

export interface ShredSummary {
  rows: number;
  pages: number;
  files: number;
  bytes: number;
  walBytes: number;
}

export class Shredder {
  readonly #ctx: EngineContext;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  start(): void {
    this.#timer = setInterval(() => void this.run('scheduled').catch((error: Error) => this.#ctx.problem(error)), SHRED_EVERY_MS);
    this.#timer.unref();
  }

  /** Stops the schedule and waits for a run in progress (the vault must not lock under it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#queue.catch(() => {});
  }

  /** One run at a time; `removed` counts rows the caller deleted just before (the expiry batch) with the vault's own. */
  run(trigger: ShredTrigger, removed = 0): Promise<ShredSummary> {
    const next = this.#queue.catch(() => {}).then(async () => {
      if (this.#stopped) return { rows: removed, pages: 0, files: 0, bytes: 0, walBytes: 0 }; // closing: the next open shreds
      const report = await this.#ctx.vault.shred({ now: this.#ctx.clock.now() });
      const summary = {
        rows: removed + report.messagesRemoved, pages: report.pagesFreed, files: report.filesShredded, bytes: report.bytesOverwritten, walBytes: report.walBytesTruncated,
      };
      this.#ctx.log(`shredder (${trigger}): ${summary.rows} rows, ${summary.pages} pages, ${summary.files} files, ${summary.walBytes} WAL bytes`);
      this.#ctx.emit('vault.shredded', { trigger, ...summary });
      return summary;
    });
    this.#queue = next;
    return next;
  }
}
