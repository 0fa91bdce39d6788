// JSON-RPC 2.0 over newline-delimited JSON, as `wardroom serve` speaks it (docs/bots.md): the line splitter with its
// size limits. The messages themselves (codecs, error codes, the endpoint that routes them) are core/api/json-rpc.ts,
// shared with the web shell's WebSocket.

/**
 * Splits a byte stream into lines of at most `maxBytes`. A longer line is reported once (`oversized`) and the rest
 * of it is skipped as it streams past, never held: the decoder keeps at most `maxBytes` at any time.
 */
export class LineDecoder {
  readonly #maxBytes: number;
  readonly #onLine: (line: Buffer) => void;
  readonly #onOversized: () => void;
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;

  constructor(maxBytes: number, onLine: (line: Buffer) => void, onOversized: () => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onOversized = onOversized;
  }

  /** Bytes held for the line in progress (for tests of the bound). */
  get buffered(): number {
    return this.#size;
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const piece = bytes.subarray(start, newline < 0 ? bytes.length : newline);
      if (!this.#skipping && piece.length > 0) {
        if (this.#size + piece.length > this.#maxBytes) {
          this.#parts = [];
          this.#size = 0;
          this.#skipping = true;
          this.#onOversized();
        } else {
          // a copy: a short tail must not pin the whole chunk it came in
          this.#parts.push(Buffer.from(piece));
          this.#size += piece.length;
        }
      }
      if (newline < 0) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  /** The end of the stream ends a last line that had no newline. */
  end(): void {
    if (this.#size > 0) this.#finishLine();
    this.#skipping = false;
  }

  #finishLine(): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const line = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#onLine(line);
  }
}

/** One message as a line of the stream. */
export const asLine = (text: string): string => `${text}\n`;
