// The bounds on drawing a still (still.ts) of a file whose content comes from someone else: its size, whatever size
// the source claims, and its time, whatever the source makes the decoder do. Pure, so it is unit-tested in Node.

/** The longest side of a still: twice the engine's thumbnail, so it stays sharp, and a bound on every canvas here. */
export const STILL_EDGE = 320;

/**
 * A source of `width` x `height` scaled to fit STILL_EDGE (never enlarged, never under a pixel a side), and the scale
 * that takes; null for a size that is not a size (zero, negative, not finite).
 */
export function fitStill(width: number, height: number): { width: number; height: number; scale: number } | null {
  if (!(Number.isFinite(width) && Number.isFinite(height) && width > 0 && height > 0)) return null;
  const scale = Math.min(1, STILL_EDGE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** `work`, or a rejection once `ms` have passed without it (the timer goes either way). */
export async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
