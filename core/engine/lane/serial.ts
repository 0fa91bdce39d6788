// One lane for everything that reads protocol state, computes writes and commits them: two such operations
// interleaving at an await would both start from the same ratchet state and fork it.
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => {});
    return result;
  }
}
