// Progress of a long command (a file's upload or download) on stderr: a bar redrawn in place on a terminal, a plain
// line every quarter elsewhere (a log, a pipe), a JSON line per quarter with --json. Drawn at most 10 times a second.
// A wait for the relay is said once an outage, on its own line.
export interface ProgressOut {
  /** a terminal: redraw one line in place (the text without a line break; `end` finishes the line) */
  redraw?(text: string, end: boolean): void;
  line(text: string): void;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export class ProgressReporter {
  readonly #out: ProgressOut;
  readonly #what: string;
  readonly #json: boolean;
  #lastDraw = 0;
  #lastQuarter = -1;
  #drawn = false;

  constructor(out: ProgressOut, what: string, json: boolean) {
    this.#out = out;
    this.#what = what;
    this.#json = json;
  }

  update(done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(fraction * 100);
    if (this.#out.redraw && !this.#json) {
      const now = Date.now();
      if (now - this.#lastDraw < REDRAW_MS && fraction < 1) return;
      this.#lastDraw = now;
      const filled = Math.round(fraction * BAR_WIDTH);
      this.#out.redraw(`${this.#what} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${mb(done)} of ${mb(total)}`, false);
      this.#drawn = true;
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter === this.#lastQuarter) return;
    this.#lastQuarter = quarter;
    this.#out.line(this.#json ? JSON.stringify({ progress: this.#what, done, total }) : `wardroom: ${this.#what} ${percent}% (${mb(done)} of ${mb(total)})`);
  }

  /** The command waits for the relay, which cannot be reached: said on a line of its own, a bar going on below it. */
  waiting(): void {
    this.finish();
    this.#out.line(this.#json ? JSON.stringify({ progress: this.#what, waiting: 'relay' })
      : `wardroom: waiting for the relay, which cannot be reached (${this.#what} continues when it is back; Ctrl-C cancels)`);
  }

  /** Ends a bar's line, so what follows starts on its own. */
  finish(): void {
    if (this.#drawn) this.#out.redraw?.('', true);
    this.#drawn = false;
  }
}
