// Running totals per key (bytes queued per sender account, per recipient device) kept in memory beside the database,
// so a quota check costs a map lookup instead of a SUM over the queue on every send. Changes made inside a
// transaction are held apart and applied only when it commits: a rolled-back batch leaves the totals as they were.

export class Tally {
  readonly #totals = new Map<string, number>();
  readonly #open = new Map<string, number>();

  /** The committed total plus whatever the open transaction added so far. */
  get(key: string): number {
    return (this.#totals.get(key) ?? 0) + (this.#open.get(key) ?? 0);
  }

  add(key: string, delta: number): void {
    if (delta !== 0) this.#open.set(key, (this.#open.get(key) ?? 0) + delta);
  }

  commit(): void {
    for (const [key, delta] of this.#open) {
      const total = (this.#totals.get(key) ?? 0) + delta;
      if (total > 0) this.#totals.set(key, total);
      else this.#totals.delete(key);
    }
    this.#open.clear();
  }

  rollback(): void {
    this.#open.clear();
  }
}

/** Wraps a transaction function so the tallies follow its outcome: committed with it, dropped if it threw. */
export function tallied<A extends unknown[], R>(tallies: Tally[], transaction: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    let result: R;
    try {
      result = transaction(...args);
    } catch (error) {
      for (const tally of tallies) tally.rollback();
      throw error;
    }
    for (const tally of tallies) tally.commit();
    return result;
  };
}
