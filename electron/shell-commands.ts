// The few commands main answers itself (window.wardroom.call('shell.…')), beside the contract the engine answers:
//   shell.inspectLink { url }  -> { url, host, unicodeHost?, warnings }   (BAD_REQUEST with the reason if refused)
//   shell.openLink { url }     -> { opened }  after a dialog of main's showing the real host
//   shell.takeJoinLink {}      -> { link? }   the join link the OS handed over, once
// and one event: shell.joinLink { link } (seq 0: it is main's, not the engine's numbering).
import { z } from 'zod';
import { ApiError, LIMITS } from '../core/api/contract.ts';
import { parseDeepLink } from './deep-links.ts';
import type { ShellCommand } from './ipc.ts';
import { inspectLink, LinkRefused, openLinkAfterConfirm, type LinkOpener } from './links.ts';

/** Join links the OS handed over, waiting for the page's join flow (which may not have loaded yet). */
export class JoinLinkInbox {
  #pending: string | undefined;
  readonly #deliver: (link: string) => void;
  readonly #log: (line: string) => void;

  constructor(deliver: (link: string) => void, log: (line: string) => void) {
    this.#deliver = deliver;
    this.#log = log;
  }

  /** A link from argv or open-url; a valid join link is kept (the latest wins) and announced. */
  offer(text: unknown): boolean {
    const parsed = parseDeepLink(text);
    if (!parsed.ok) {
      this.#log(`deep link refused: ${parsed.reason}`);
      return false;
    }
    this.#pending = parsed.value.link;
    this.#deliver(parsed.value.link);
    return true;
  }

  take(): string | undefined {
    const link = this.#pending;
    this.#pending = undefined;
    return link;
  }
}

const UrlRequest = z.object({ url: z.string().max(LIMITS.linkMax) }).strict();
const Empty = z.object({}).strict();

function parse<T>(schema: z.ZodType<T>, request: unknown, name: string): T {
  const parsed = schema.safeParse(request ?? {});
  if (!parsed.success) throw new ApiError('BAD_REQUEST', `${name}: ${parsed.error.issues[0]?.message ?? 'malformed request'}`);
  return parsed.data;
}

const refusedLink = (error: unknown): never => {
  if (error instanceof LinkRefused) throw new ApiError('BAD_REQUEST', error.message);
  throw error;
};

export function shellCommands(opener: LinkOpener, inbox: JoinLinkInbox): Record<string, ShellCommand> {
  return {
    'shell.inspectLink': async (request) => {
      const { url } = parse(UrlRequest, request, 'shell.inspectLink');
      try {
        return inspectLink(url);
      } catch (error) {
        return refusedLink(error);
      }
    },
    'shell.openLink': async (request) => {
      const { url } = parse(UrlRequest, request, 'shell.openLink');
      return openLinkAfterConfirm(url, opener).catch(refusedLink);
    },
    'shell.takeJoinLink': async (request) => {
      parse(Empty, request, 'shell.takeJoinLink');
      const link = inbox.take();
      return link === undefined ? {} : { link };
    },
  };
}
