// The app protocol: serves the renderer's built files (renderer/dist) at wardroom-app://app/, and nothing else.
// Every response carries the CSP and the security headers, so the policy is set where the bytes leave, not in a
// <meta> tag the page could be served without.
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme } from 'electron';
import { SECURITY_HEADERS } from './csp.ts';
import { APP_HOST, APP_SCHEME } from './origin.ts';

/**
 * Standard (a real origin, relative URLs), secure (a secure context: getUserMedia works), fetch for its own
 * assets. Not bypassCSP, no service workers, no CORS: nothing from elsewhere may load our files.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, bypassCSP: false, allowServiceWorkers: false, corsEnabled: false, stream: false, codeCache: true },
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface AppProtocolOptions {
  /** the renderer's build output; every served file is inside it */
  root: string;
  log?: (line: string) => void;
}

const refuse = (status: number, text: string) => new Response(text, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });

/** The file a request names inside `root`, or null when it names none (another host, `..`, a NUL, a bad escape). */
export function fileForUrl(root: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname !== APP_HOST || parsed.port !== '' || parsed.username !== '' || parsed.password !== '') return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const file = path.resolve(root, relative);
  return file.startsWith(path.resolve(root) + path.sep) ? file : null;
}

/** The handler for protocol.handle(APP_SCHEME, …): GET and HEAD of files under root, 404 for everything else. */
export function appProtocolHandler(options: AppProtocolOptions): (request: Request) => Promise<Response> {
  const root = path.resolve(options.root);
  const log = options.log ?? (() => {});
  let realRoot: Promise<string> | undefined;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'method not allowed');
    const file = fileForUrl(root, request.url);
    if (file === null) return refuse(404, 'not found');
    let body: Buffer;
    try {
      // a symlink inside the build pointing outside it is refused like a `..`
      const real = await realpath(file);
      realRoot ??= realpath(root);
      if (!real.startsWith((await realRoot) + path.sep)) return refuse(404, 'not found');
      body = await readFile(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') log(`app protocol: reading ${path.relative(root, file)} failed: ${code ?? String(error)}`);
      return refuse(404, 'not found');
    }
    const headers = { ...SECURITY_HEADERS, 'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' };
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  };
}
