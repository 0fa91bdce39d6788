// What `npm start` (scripts/start.ts) tells the desktop app on its command line: the app data directory to use
// instead of the OS default, and the embedded relay's first admin invite for the join screen. Electron and Chromium
// put switches of their own beside these, and a deep link may stand among them (deep-links.ts): anything else is left.
import { parseArgs } from 'node:util';
import { parseDeepLink } from './deep-links.ts';

export interface LaunchOptions {
  /** the app data directory (profiles/ inside it), as an absolute path */
  profileDir?: string;
  /** an invite link the join screen offers while there is no profile yet */
  firstInvite?: string;
}

export function launchOptions(argv: readonly string[]): LaunchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { 'profile-dir': { type: 'string' }, 'first-invite': { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const dir = values['profile-dir'];
  const invite = values['first-invite'];
  const link = typeof invite === 'string' ? parseDeepLink(invite) : undefined;
  return {
    ...(typeof dir === 'string' && dir.startsWith('/') ? { profileDir: dir } : {}),
    ...(link?.ok ? { firstInvite: link.value.link } : {}),
  };
}
