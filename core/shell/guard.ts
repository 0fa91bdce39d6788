// Who may talk to the web shell. It listens on 127.0.0.1 only, but any web page the user opens can reach loopback,
// and a page on a name the attacker re-points at 127.0.0.1 (DNS rebinding) is even same-origin with it. So:
// - every request must name us in its Host header (a rebinding page's requests carry its own name);
// - a WebSocket must come from our own origin (Origin is set by the browser and cannot be forged by a page);
// - and carry the per-launch token, which only the person who started the shell has (it is in the fragment of the
//   URL the shell printed, which never leaves the browser: not in a request line, a Referer or a server log).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The subprotocol the renderer asks for; the server answers with it. */
export const PROTOCOL = 'wardroom.v1';
/** The token travels as a second offered subprotocol, `wardroom.token.<token>` (base64url is a valid token). */
export const TOKEN_PROTOCOL_PREFIX = 'wardroom.token.';

/** 32 random bytes, base64url: one per launch. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** The Host header values that name this shell: the address it printed, and `localhost` on the same port. */
export function isOurHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** A WebSocket's Origin must be the page this shell served, on the host the request named. */
export function isOurOrigin(origin: string | undefined, host: string): boolean {
  return origin === `http://${host}`;
}

/** The token offered in a Sec-WebSocket-Protocol header, if any. */
export function offeredToken(protocols: string | undefined): string | undefined {
  const offered = (protocols ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(PROTOCOL)) return undefined;
  return offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time (over digests, so a wrong length says nothing either). */
export function isToken(candidate: string | undefined, token: string): boolean {
  return candidate !== undefined && timingSafeEqual(digest(candidate), digest(token));
}

/** The Trusted Types policy the renderer starts pdf.js's worker with (WORKER_POLICY in renderer/src/lib/pdf-page.ts). */
export const PDF_WORKER_POLICY = 'wardroom-pdf-worker';

/**
 * The page may load only its own files and talk only to its own WebSocket: no inline script or style attribute,
 * no eval, no WebAssembly, no frames, no forms, no plugins, and DOM sinks take no strings (Trusted Types), so markup
 * in a message could never run even if a bug let it reach the DOM. Every file is served with it, since a worker
 * runs under the policy its own script came with.
 */
export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // blob: only ever holds what the page made itself: thumbnails from bytes that came inside a message
    "img-src 'self' data: blob:",
    // and media the page opened from a message's file (a video or a sound, decrypted by the engine) or is sending
    "media-src 'self' blob:",
    "font-src 'self'",
    // pdf.js parses a PDF being sent in a worker: a module file of the bundle, never blob: or data: code
    "worker-src 'self'",
    `connect-src ws://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'",
    // one policy, which makes one script URL: pdf.js's worker (renderer/src/lib/pdf-page.ts)
    `trusted-types ${PDF_WORKER_POLICY}`,
  ].join('; ');
}

/** Headers every answer carries. */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), display-capture=()',
  'cache-control': 'no-store',
};
