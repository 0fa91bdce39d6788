// The engine's side of link previews: for a message being sent, the first link's preview, when the org's policy, the
// user's setting and the request all allow it. A preview that cannot be made is no reason to hold the message: it
// goes without one, and the log says why (never the link: it is message content).
import type { LinkPreviewPayload } from '../../protocol/wire.ts';
import type { EngineContext } from '../context.ts';
import { PreviewRefused } from './fetch.ts';
import { fetchLinkPreview, firstLink, type PreviewOptions } from './preview.ts';
import { storedPreview, toPayload } from './view.ts';

export class LinkPreviews {
  readonly #ctx: EngineContext;
  readonly #options: PreviewOptions;
  readonly #orgAllows: () => boolean;

  /**
   * `orgAllows` reads the signed org policy's switch. The org policy module (core/engine/policy, branch timers) is not
   * in this tree yet, so the engine passes none and only the user's setting decides; with it, engine.ts passes
   * `() => policy.current.linkPreviews !== false`.
   */
  constructor(ctx: EngineContext, options: PreviewOptions = {}, orgAllows: () => boolean = () => true) {
    this.#ctx = ctx;
    this.#options = options;
    this.#orgAllows = orgAllows;
  }

  /** The preview to send with `text` (and its view's JSON to store), or null. */
  async forOutgoing(text: string, requested: boolean | undefined): Promise<{ payload: LinkPreviewPayload; stored: string } | null> {
    if (requested === false || !this.#ctx.profile.linkPreviews || !this.#orgAllows()) return null;
    const link = firstLink(text);
    if (!link) return null;
    try {
      const payload = toPayload(await fetchLinkPreview(link, this.#options));
      const stored = storedPreview(payload, text);
      return stored ? { payload, stored } : null;
    } catch (error) {
      if (error instanceof PreviewRefused) this.#ctx.log(`link preview: none (${error.reason})`);
      else this.#ctx.problem(error as Error);
      return null;
    }
  }
}
