// Shared measuring and printing for `npm run bench`. Every figure is printed beside a baseline measured in the
// same run and as a ratio, because machines here are noisy: absolute times mean little, ratios travel.
import { performance } from 'node:perf_hooks';

export interface Samples {
  /** per-iteration durations in milliseconds */
  ms: number[];
}

export async function sample(iterations: number, fn: (i: number) => unknown, warmup = Math.min(10, iterations)): Promise<Samples> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn(i);
    ms.push(performance.now() - start);
  }
  return { ms };
}

/**
 * Times `fn` and `baseline` alternately, one call each per iteration, so both see the same moment of a machine whose
 * speed drifts (this host's bare sign + AEAD median moves between about 30 and 55 us within one process).
 */
export function samplePair(iterations: number, warmup: number, fn: () => unknown, baseline: () => unknown): { ms: number[]; baselineMs: number[] } {
  const ms: number[] = [];
  const baselineMs: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    let start = performance.now();
    fn();
    const took = performance.now() - start;
    start = performance.now();
    baseline();
    const baselineTook = performance.now() - start;
    if (i < warmup) continue;
    ms.push(took);
    baselineMs.push(baselineTook);
  }
  return { ms, baselineMs };
}

/** samplePair for any number of functions: each called once per iteration, in turn; returns each one's durations. */
export function sampleInterleaved(iterations: number, warmup: number, fns: (() => unknown)[]): number[][] {
  const ms = fns.map(() => [] as number[]);
  for (let i = 0; i < warmup + iterations; i++) {
    fns.forEach((fn, n) => {
      const start = performance.now();
      fn();
      if (i >= warmup) ms[n]!.push(performance.now() - start);
    });
  }
  return ms;
}

export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: number[]): number => percentile(values, 50);

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** e.g. "ratio <= 1.3" or "< 2 ms": printed for the reader, never asserted */
  target?: string;
}

export function report(figure: Figure): void {
  let line = `  ${figure.name}: ${format(figure.value)} ${figure.unit}`;
  if (figure.baseline) {
    line += `  | baseline ${figure.baseline.name}: ${format(figure.baseline.value)} ${figure.unit}`;
    line += `  | ratio ${format(figure.value / figure.baseline.value)}x`;
  }
  if (figure.target) line += `  | target ${figure.target}`;
  console.log(line);
}

export function section(title: string): void {
  console.log(`\n== ${title}`);
}

/** Counts deliveries across all receivers, with each one's latency when known; resolves when `expected` arrived. */
export class DeliveryCollector {
  latencies: number[] = [];
  count = 0;
  lastAt = 0;
  #expected = 0;
  #done: (() => void) | null = null;

  expect(expected: number): Promise<void> {
    this.latencies = [];
    this.count = 0;
    this.#expected = expected;
    return new Promise((resolve) => {
      this.#done = resolve;
    });
  }

  /** `sentAt`: the send time on this process's performance clock, when the delivery carries it. */
  record(sentAt: number | undefined): void {
    const now = performance.now();
    if (sentAt !== undefined) this.latencies.push(now - sentAt);
    this.count++;
    this.lastAt = now;
    if (this.count === this.#expected) this.#done?.();
    if (this.#waiter && this.count >= this.#waiter.count) {
      this.#waiter.resolve();
      this.#waiter = null;
    }
  }

  #waiter: { count: number; resolve: () => void } | null = null;

  /**
   * Resolves once `count` deliveries have been recorded. A sender keeping a window in flight waits on this instead of
   * polling with setImmediate, which would keep this process spinning on a core the server under test needs.
   */
  reached(count: number): Promise<void> {
    if (this.count >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiter = { count, resolve };
    });
  }
}
