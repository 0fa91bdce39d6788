// The one lane for protocol state. Everything that reads protocol state and commits writes (an inbound batch, a
// send, a rotation) runs through `run`, one at a time: two such operations interleaving at an await would both
// start from the same ratchet state and fork it. Inside it: compute against a StagedProtocolStore, commit the
// protocol writes and the messages or outbox rows in ONE vault transaction, then apply the writes to memory.
import type { ProtocolWrite, StagedProtocolStore } from '../../protocol/store.ts';
import type { Statement, Vault } from '../../vault/index.ts';
import { EngineError } from '../errors.ts';
import { outboxStatement, type OutgoingFrame } from '../outbox.ts';
import { protocolStatements, type VaultProtocolStore } from '../protocol-store.ts';
import { Serial } from './serial.ts';

export class CommitLane {
  readonly #serial = new Serial();
  readonly #vault: Vault;
  readonly #store: VaultProtocolStore;
  readonly #onFailure: (error: Error) => void;
  #lastCommit: Promise<void> = Promise.resolve();
  #failure: EngineError | null = null;

  constructor(vault: Vault, store: VaultProtocolStore, onFailure: (error: Error) => void) {
    this.#vault = vault;
    this.#store = store;
    this.#onFailure = onFailure;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.#serial.run(task);
  }

  /** Set once a commit failed: the engine must be reopened, and every command answers with it. */
  get failure(): EngineError | null {
    return this.#failure;
  }

  /**
   * Commit pipelining, depth one. The batch's writes go to memory now, so the next batch decrypts on top of them
   * while the vault worker writes this one; but no later transaction is issued until this one has committed
   * (settled), so the vault never holds state derived from a batch it does not hold. If a commit fails, memory is
   * ahead of the vault: the engine stops (nothing was acknowledged, so the relay still has every envelope) and must
   * be reopened. Resolves true once committed, false if it failed.
   */
  commitAhead(writes: ProtocolWrite[], statements: Statement[]): Promise<boolean> {
    const previous = this.#lastCommit;
    this.#store.commit(writes);
    const committed = previous.then(() => {
      if (this.#failure) throw this.#failure; // nothing derived from a batch that failed may reach the vault
      return this.#vault.transaction(statements);
    }).then(() => true, (error: Error) => {
      this.#fail(error);
      return false;
    });
    this.#lastCommit = committed.then(() => {});
    return committed;
  }

  /** Waits for the pipelined commit before a transaction of our own; throws if the engine has failed. */
  async settled(): Promise<void> {
    await this.#lastCommit;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Commits protocol writes (and optional rows) in one transaction, then applies the writes to memory. In the lane.
   * `now` dates the message ids seen (the engine's clock, which tests move).
   */
  async commitWrites(writes: ProtocolWrite[], extra: Statement[] = [], now?: number): Promise<void> {
    await this.settled();
    await this.#vault.transaction([...protocolStatements(writes, now), ...extra]);
    this.#store.commit(writes);
  }

  /** Commits a staged computation with the frames it produced (into the outbox) and any local rows. In the lane. */
  async commitFrames(staged: StagedProtocolStore, writes: ProtocolWrite[], frames: OutgoingFrame[], extra: Statement[] = []): Promise<void> {
    staged.commit(writes);
    await this.commitWrites(staged.takeWrites(), [...extra, ...frames.map(outboxStatement)]);
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = new EngineError('VAULT', `the vault could not be written (${error.message.slice(0, 200)}); nothing was lost: close and reopen the profile`);
    this.#onFailure(error);
  }
}
