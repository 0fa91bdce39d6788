// Disappearing messages: one timer, armed for the soonest deadline in the vault and re-armed after every write
// that can move it (a send or receipt with a timer, a first read starting burn-on-read) and after each sweep, so a
// message is gone within moments of its deadline instead of at the next poll.
import type { EngineContext } from '../context.ts';

/**
 * The longest the timer sleeps before looking again. Node's timers run on a monotonic clock that stops while the
 * machine sleeps, and the wall clock that deadlines use does not: a deadline a day away must not end up hours late
 * after a suspend the host did not report (a host that sees a wake calls rearm at once).
 */
const MAX_TIMER_MS = 60_000;
/** A sweep that failed (vault busy, disk trouble) is tried again this soon. */
const RETRY_MS = 5_000;

export class ExpiryScheduler {
  readonly #ctx: EngineContext;
  readonly #afterBatch: (removed: number) => void;
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;
  #running: Promise<number> | null = null;
  #stopped = false;

  /** `afterBatch` runs after each sweep that removed something (the shredder, timers/shredder.ts). */
  constructor(ctx: EngineContext, afterBatch: (removed: number) => void = () => {}) {
    this.#ctx = ctx;
    this.#afterBatch = afterBatch;
  }

  /** Re-reads the soonest deadline and arms the timer for it. Call after any write that may have moved it. */
  async rearm(): Promise<void> {
    if (this.#stopped) return;
    const row = await this.#ctx.vault.get<{ at: number | null }>('SELECT min(expires_at) AS at FROM messages WHERE expires_at IS NOT NULL');
    this.#arm(row?.at ?? Infinity);
  }

  /** A deadline this soon or sooner exists now (the caller just wrote it): arm for it without a read. */
  noteDeadline(at: number): void {
    if (at < this.#armedFor) this.#arm(at);
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = at;
    if (at === Infinity) return;
    const delay = Math.min(Math.max(0, at - this.#ctx.clock.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => void this.sweep().then((removed) => {
      if (removed) this.#afterBatch(removed);
    }, (error: Error) => {
      this.#ctx.problem(error);
      this.#arm(this.#ctx.clock.now() + RETRY_MS);
    }), delay);
    this.#timer.unref();
  }

  /** Deletes every message whose time is up, tells the UI, re-arms; returns how many it deleted. */
  sweep(): Promise<number> {
    // one sweep at a time: a timer firing during an explicit sweep waits for it rather than racing it
    this.#running ??= this.#sweepOnce().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #sweepOnce(): Promise<number> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const expired = await ctx.vault.all<{ message_id: string; conversation_id: string; burn_started_at: number | null }>(
      'SELECT message_id, conversation_id, burn_started_at FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?', [now]);
    if (expired.length) {
      await ctx.vault.deleteMessages(expired.map((e) => e.message_id));
      for (const e of expired) ctx.emit('message.removed', { id: e.message_id, conversation: e.conversation_id, reason: e.burn_started_at !== null ? 'burned' : 'expired' });
    }
    this.#armedFor = Infinity;
    await this.rearm();
    return expired.length;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
