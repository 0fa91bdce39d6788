// The Content-Security-Policy of every response the app protocol serves, and the other headers that go with it.
// The renderer is a Vite bundle: its scripts, styles and fonts are files of its own origin, and it reaches the
// engine only through window.wardroom, so it needs no network, no inline code, no eval, no frames and no plugins.
// User content is text and parsed markdown rendered by React, never HTML, so nothing here makes room for it.

const DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  // safety-number QR codes and (later) attachments are drawn from data and blob URLs the renderer made itself
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'worker-src': ["'self'"],
  'manifest-src': ["'none'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

export const CONTENT_SECURITY_POLICY = Object.entries(DIRECTIVES).map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');

/** Headers on every response of the app protocol, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // calls will use the camera, microphone and screen from our own origin; nothing else may ask for anything
  'Permissions-Policy': 'camera=(self), microphone=(self), display-capture=(self), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), payment=()',
};
