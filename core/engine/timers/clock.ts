// The clock that deadlines are judged by. A device's wall clock can be wrong or changed at any time; a deadline
// must never move later because of it. Two lower bounds on the true time are combined, and the later one wins:
// the wall clock itself, and the relay's time as last seen in a delivery (when it took the envelope) advanced by
// the monotonic time elapsed since. Turning the clock back therefore cannot revive or lengthen a message once
// the relay has been heard from; turning it forward only shortens lives (never lengthens them).
import { performance } from 'node:perf_hooks';

export class TrustedClock {
  readonly #wall: () => number;
  readonly #monotonic: () => number;
  #relayAt = -Infinity;
  #relaySeenAt = 0;

  constructor(wall: () => number, monotonic: () => number = () => performance.now()) {
    this.#wall = wall;
    this.#monotonic = monotonic;
  }

  /** The relay stamped an envelope with `relayTime` when it took it: the present is at least that. */
  observeRelayTime(relayTime: number): void {
    const nowMono = this.#monotonic();
    if (relayTime > this.#relayAt + (nowMono - this.#relaySeenAt)) {
      this.#relayAt = relayTime;
      this.#relaySeenAt = nowMono;
    }
  }

  now(): number {
    return this.trusted(this.#wall());
  }

  /** A wall-clock reading just taken, raised to the relay's bound if it is behind it. */
  trusted(wallTime: number): number {
    return Math.max(wallTime, this.#relayAt + (this.#monotonic() - this.#relaySeenAt));
  }
}
