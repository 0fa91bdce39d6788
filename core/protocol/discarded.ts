// Bookkeeping for message keys the ratchets discarded unused: keys beyond the skipped-key cap (never stored, or
// evicted oldest-first). A message that arrives for one of them was never decrypted, so it is not a duplicate: it
// is lost, and the engine must say so (KEY_DISCARDED) instead of dropping it silently as a replay. Ranges keep this
// compact (a 25,000-message jump is one range); the oldest ranges go first past the cap.
import { constantTimeEqual } from '../crypto/sodium.ts';
import { bytes, list, struct, uint, UINT32_MAX } from './codec.ts';

export interface DiscardedRange {
  /** The chain: a remote ratchet public key, or empty for a sender key (one chain per key). */
  chain: Uint8Array;
  /** first discarded message number */
  from: number;
  /** one past the last */
  to: number;
}

export const DISCARDED_RANGES_KEPT = 256;

export const discardedRangeSchema = list(struct({ chain: bytes(0, 32), from: uint(UINT32_MAX), to: uint(UINT32_MAX) }), DISCARDED_RANGES_KEPT);

export function isDiscarded(ranges: readonly DiscardedRange[], chain: Uint8Array, index: number): boolean {
  return ranges.some((r) => index >= r.from && index < r.to && constantTimeEqual(r.chain, chain));
}

/** Adds single discarded message numbers (in order) and whole ranges, merging neighbours on the same chain. */
export function addDiscarded(ranges: readonly DiscardedRange[], added: readonly DiscardedRange[]): DiscardedRange[] {
  if (added.length === 0) return ranges as DiscardedRange[];
  const out = [...ranges];
  for (const range of added) {
    if (range.to <= range.from) continue;
    const last = out[out.length - 1];
    if (last && last.to === range.from && constantTimeEqual(last.chain, range.chain)) out[out.length - 1] = { ...last, to: range.to };
    else out.push(range);
  }
  return out.slice(-DISCARDED_RANGES_KEPT);
}

/** Keeps the newest `cap` entries and returns the rest as discarded ranges. */
export function keepNewest<T extends { index: number }>(entries: T[], cap: number, chainOf: (entry: T) => Uint8Array): { kept: T[]; discarded: DiscardedRange[] } {
  if (entries.length <= cap) return { kept: entries, discarded: [] };
  const evicted = entries.slice(0, entries.length - cap);
  return { kept: entries.slice(-cap), discarded: evicted.map((e) => ({ chain: chainOf(e), from: e.index, to: e.index + 1 })) };
}
