// wardroom:// links the OS hands the app: on Windows and Linux as a command-line argument (of the first launch, or
// of a second instance, which forwards its argv), on macOS as an open-url event. Only join links are accepted, and
// only once they parse exactly as the join flow will parse them; anything else is dropped with a log line and
// never reaches the page.
import { InviteLinkError, parseInviteLink } from '../core/host/index.ts';
import { DEEP_LINK_SCHEME } from './origin.ts';

export type DeepLink = { kind: 'join'; link: string };
export type DeepLinkResult = { ok: true; value: DeepLink } | { ok: false; reason: string };

const PREFIX = `${DEEP_LINK_SCHEME}:`;

/** A join link, checked as the join flow checks it; the page gets the link itself, whitespace trimmed. */
export function parseDeepLink(text: unknown): DeepLinkResult {
  if (typeof text !== 'string') return { ok: false, reason: 'not a link' };
  const trimmed = text.trim();
  if (!trimmed.toLowerCase().startsWith(PREFIX)) return { ok: false, reason: `not a ${DEEP_LINK_SCHEME}: link` };
  try {
    parseInviteLink(trimmed);
  } catch (error) {
    if (error instanceof InviteLinkError) return { ok: false, reason: error.message };
    throw error;
  }
  return { ok: true, value: { kind: 'join', link: trimmed } };
}

/**
 * The deep link in a command line, if there is one. Chromium and the OS put their own switches around it, so the
 * argument is found by its scheme; an argument that starts with a dash is a switch, never a link.
 */
export function deepLinkInArgv(argv: readonly string[]): string | undefined {
  return argv.find((arg) => !arg.startsWith('-') && arg.toLowerCase().startsWith(PREFIX));
}
