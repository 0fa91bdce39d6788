// The renderer's built files (renderer/dist), read-only, GET and HEAD only. A path is resolved inside the bundle's
// directory and anything that would leave it, or is not a regular file, is a 404; `/` is index.html.
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { contentSecurityPolicy, SECURITY_HEADERS } from './guard.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  // pdf.js's worker, a module as the package ships it
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The file a request path names inside `root`, or null when it would leave it (or is not one we serve). */
export function fileFor(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return null;
  if (!Object.hasOwn(TYPES, path.extname(file))) return null;
  return file;
}

export async function serveFile(root: string, request: IncomingMessage, response: ServerResponse, host: string): Promise<void> {
  // the CSP on every answer, not only the page's: a worker runs under the policy its own script came with
  const send = (status: number, type: string, body: Buffer | string) => {
    response.writeHead(status, { ...SECURITY_HEADERS, 'content-security-policy': contentSecurityPolicy(host), 'content-type': type, 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  const file = fileFor(root, request.url ?? '/');
  const info = file ? await stat(file).catch(() => null) : null;
  if (!file || !info?.isFile()) return send(404, 'text/plain; charset=utf-8', 'not found\n');
  send(200, TYPES[path.extname(file)]!, await readFile(file));
}
