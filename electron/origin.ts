// Where the app lives inside Electron: a custom, privileged scheme (never file://, whose origin is shared by every
// file on the disk), one fixed host, and the scheme of the join links the OS hands us.

/** The app's own scheme; registered as standard and secure, so it has a real origin and a secure context. */
export const APP_SCHEME = 'wardroom-app';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The scheme of invite links (`wardroom://join?…`), which the OS opens with this app. */
export const DEEP_LINK_SCHEME = 'wardroom';

/**
 * Whether a URL is on the app's origin. WHATWG URL gives custom schemes an opaque origin in Node, so the scheme
 * and host are compared rather than `origin`; credentials or a port would make it another origin.
 */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.hostname === APP_HOST && parsed.port === '' && parsed.username === '' && parsed.password === '';
}
