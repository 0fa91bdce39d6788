// A session that cannot decrypt (our state was lost, or theirs) is replaced: a fresh X3DH session whose first
// message tells the peer which session broke. At most one reset per device per interval, so a relay that tampers
// with frames cannot make us churn sessions.
import { resetSession } from '../../protocol/processor.ts';
import { StagedProtocolStore } from '../../protocol/store.ts';
import type { DeviceAddress } from '../../protocol/wire.ts';
import type { EngineContext } from '../context.ts';
import type { Outbound } from '../outbound/fanout.ts';

const SESSION_RESET_INTERVAL_MS = 60_000;

interface BrokenSession {
  device: DeviceAddress;
  brokenSessionId: Uint8Array;
  reason: 'no-session' | 'decrypt-failed';
}

export class SessionResets {
  readonly #ctx: EngineContext;
  readonly #outbound: Outbound;
  #pending: BrokenSession[] = [];
  readonly #lastReset = new Map<string, number>();

  constructor(ctx: EngineContext, outbound: Outbound) {
    this.#ctx = ctx;
    this.#outbound = outbound;
  }

  broken(session: BrokenSession): void {
    this.#pending.push(session);
  }

  get due(): boolean {
    return this.#pending.length > 0;
  }

  /** In the lane. */
  async resetBroken(): Promise<void> {
    for (const r of this.#pending.splice(0)) {
      const key = `${r.device.userId}/${r.device.deviceId}`;
      const now = this.#ctx.now();
      if (now - (this.#lastReset.get(key) ?? -Infinity) < SESSION_RESET_INTERVAL_MS) continue;
      try {
        const [session] = await this.#ctx.directory.newSessions([r.device], (e) => this.#ctx.problem(e));
        if (!session) continue;
        const staged = new StagedProtocolStore(this.#ctx.store);
        const result = resetSession(staged, session, r.brokenSessionId, r.reason, now);
        await this.#ctx.lane.commitFrames(staged, result.writes, this.#outbound.pairwiseFrames(result.frames, now));
        this.#lastReset.set(key, now); // only a reset that was queued counts: a failed attempt is retried next time
      } catch (error) {
        this.#ctx.problem(error as Error);
      }
    }
  }
}
