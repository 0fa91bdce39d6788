// The bridge the whole renderer uses: the shell's window.wardroom (Electron's preload), or, in the web shell, one
// made here over its WebSocket. Everything else imports `bridge` from here and never looks at which it is.
import type { WardroomBridge } from './api.ts';
import { readLaunchFragment } from '../lib/launch.ts';
import { createWebShellBridge, takeToken } from './web-shell-bridge.ts';

const launch = readLaunchFragment(window.location.hash);
// the token and any join link leave the address bar (and the history) at once
if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);

/** A join link the app was opened with (a deep link), for the join flow to start from. */
export const launchJoinLink: string | undefined = launch.join;

/** The web shell (a browser tab) or a desktop shell: only for saying what works where (screen-capture protection). */
export const inWebShell = !window.wardroom;

function pick(): WardroomBridge | null {
  if (window.wardroom) return window.wardroom;
  const token = takeToken(launch);
  return token ? createWebShellBridge(token) : null;
}

/** null when the web shell was opened without its token: the app says how to open it instead. */
export const bridge: WardroomBridge | null = pick();

/** The bridge, for code that runs only once the app started (it renders nothing without one). */
export function api(): WardroomBridge {
  if (!bridge) throw new Error('no window.wardroom');
  return bridge;
}

export { errorCode, errorText, type CommandName, type Payload, type Response } from './api.ts';
