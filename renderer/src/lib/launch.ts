// What the address the app was opened with carries in its fragment (never sent over the network): the web shell's
// launch token, and a join link handed over by a deep link (`#token=…&join=wardroom%3A%2F%2Fjoin%3F…`, or `#join=…`
// on a tab already open). The join link is only recognised here; the join flow checks it (core/relay/invite-link.ts,
// the one parser) and says in one line what is wrong with it.
import { LINK_MAX } from './limits.ts';

const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
const JOIN_PREFIX = 'wardroom://join?';

export interface LaunchFragment {
  token?: string;
  join?: string;
}

/** A fragment longer than this is nobody's launch address. */
const FRAGMENT_MAX = LINK_MAX * 3 + 256;

export function readLaunchFragment(hash: string): LaunchFragment {
  if (!hash.startsWith('#') || hash.length > FRAGMENT_MAX) return {};
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(hash.slice(1));
  } catch {
    return {};
  }
  const token = params.getAll('token');
  const join = params.getAll('join');
  return {
    ...(token.length === 1 && TOKEN.test(token[0]!) ? { token: token[0] } : {}),
    ...(join.length === 1 && joinLinkCandidate(join[0]!) ? { join: joinLinkCandidate(join[0]!) } : {}),
  };
}

/** Text that looks like an invite link (trimmed), or undefined: a wardroom://join link within the contract's size. */
export function joinLinkCandidate(text: string): string | undefined {
  const link = text.trim();
  if (link.length > LINK_MAX || !link.toLowerCase().startsWith(JOIN_PREFIX) || /[\p{Cc}\s]/u.test(link)) return undefined;
  return link;
}
