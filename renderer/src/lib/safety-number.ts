// A safety number as people compare it: twelve groups of five digits (the contract's `digits`), read aloud row by
// row, and a QR code of the engine's payload for scanning one screen with the other.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient declaration both tsconfigs must see (the unit tests load this file too)
/// <reference path="./qrcode-core.d.ts" />
import { create } from 'qrcode/lib/core/qrcode.js';

const GROUPS = 12;
const GROUP = /^\d{5}$/;

/** The groups of a safety number; anything but twelve groups of five digits is refused (it would mislead). */
export function digitGroups(digits: string): string[] {
  const groups = digits.trim().split(/\s+/);
  if (groups.length !== GROUPS || !groups.every((g) => GROUP.test(g))) throw new Error('not a safety number: twelve groups of five digits expected');
  return groups;
}

/** The groups in rows of `perRow`, the way Signal lays them out (three rows of four). */
export function digitRows(groups: readonly string[], perRow = 4): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < groups.length; i += perRow) rows.push(groups.slice(i, i + perRow));
  return rows;
}

/** The payload is at most a few hundred characters: anything longer is not the engine's. */
const QR_TEXT_MAX = 1024;

export interface QrMatrix {
  size: number;
  /** the dark modules as horizontal runs: [x, y, length], so a code is a few hundred rects rather than thousands */
  runs: [number, number, number][];
}

export function qrMatrix(text: string): QrMatrix {
  if (text.length === 0 || text.length > QR_TEXT_MAX) throw new Error('the QR payload is empty or too long');
  const { size, data } = create(text, { errorCorrectionLevel: 'M' }).modules;
  const runs: [number, number, number][] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!data[y * size + x]) continue;
      let end = x;
      while (end + 1 < size && data[y * size + end + 1]) end++;
      runs.push([x, y, end - x + 1]);
      x = end;
    }
  }
  return { size, runs };
}
