// A GET that cannot be turned against this device's network. Every hop (the link and each redirect, at most
// MAX_REDIRECTS) is checked the same way: http or https only; the host's addresses resolved once and every one of
// them public (address.ts), or the hop is refused; and the connection made to that checked address through a
// `lookup` that answers with it, so nothing resolves the name a second time (no DNS rebinding between the check
// and the connect). TLS still verifies the certificate against the host name (SNI and identity come from the URL).
// No cookies are stored or sent, no Referer, no compression (a small body cannot inflate into a huge one); the body
// is cut at a size limit and the whole fetch at a deadline.
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './address.ts';

export const MAX_REDIRECTS = 3;

export type RefusalReason = 'scheme' | 'address' | 'dns' | 'redirects' | 'status' | 'type' | 'too-large' | 'timeout' | 'network' | 'empty';

/** Why no preview was made, in one line; `reason` for tests and logs. */
export class PreviewRefused extends Error {
  override readonly name = 'PreviewRefused';
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface FetchGuard {
  /** the host's addresses; defaults to the system resolver. Injected by tests to play a name that resolves to loopback. */
  resolve?: (hostname: string) => Promise<string[]>;
  /**
   * Tests only: addresses allowed although not public, so a test server on 127.0.0.1 can serve a good page. The
   * engine never sets it.
   */
  allowAddresses?: readonly string[];
  /** rejects certificates by default; tests of https pass their test CA here */
  ca?: string;
}

export interface Fetched {
  url: URL;
  contentType: string;
  body: Buffer;
  /** the body was longer than the limit and was cut there (the connection closed) */
  truncated: boolean;
}

export interface FetchOptions {
  maxBytes: number;
  /** what content types are acceptable (lower case, without parameters) */
  accept: (contentType: string) => boolean;
  /** over maxBytes: keep the first maxBytes (a page's head is at its start) or refuse (an image cut is no image) */
  overLimit: 'truncate' | 'refuse';
  signal: AbortSignal;
}

const systemResolve = async (hostname: string) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** The one address this hop connects to, after every address of the host was checked. */
async function checkedAddress(url: URL, guard: FetchGuard): Promise<string> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PreviewRefused('scheme', `only http and https links get previews, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new PreviewRefused('scheme', 'links with a user name or password in them get no preview');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (guard.resolve ?? systemResolve)(host);
    } catch {
      throw new PreviewRefused('dns', `${host} could not be resolved`);
    }
  }
  if (addresses.length === 0) throw new PreviewRefused('dns', `${host} has no address`);
  const allowed = (a: string) => isPublicAddress(a) || (guard.allowAddresses ?? []).includes(a);
  const bad = addresses.find((a) => !allowed(a));
  if (bad !== undefined) throw new PreviewRefused('address', `${host} points to ${bad}, a private or special address: no preview is fetched from there`);
  return addresses[0]!;
}

/** GET with redirects followed by hand, each hop checked again. */
export async function guardedGet(link: string, guard: FetchGuard, options: FetchOptions): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new PreviewRefused('scheme', 'not a link');
  }
  for (let hop = 0; ; hop++) {
    const address = await checkedAddress(url, guard);
    const response = await get(url, address, guard, options.signal);
    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      response.destroy();
      const location = response.headers.location;
      if (!location) throw new PreviewRefused('status', `the site answered ${status} without saying where to`);
      if (hop >= MAX_REDIRECTS) throw new PreviewRefused('redirects', `more than ${MAX_REDIRECTS} redirects`);
      try {
        url = new URL(location, url);
      } catch {
        throw new PreviewRefused('status', 'the site redirected to something that is not a link');
      }
      continue;
    }
    if (status !== 200) {
      response.destroy();
      throw new PreviewRefused('status', `the site answered ${status}`);
    }
    const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!options.accept(contentType)) {
      response.destroy();
      throw new PreviewRefused('type', `the site sent ${contentType || 'something untyped'}, not what a preview needs`);
    }
    const declared = Number(response.headers['content-length'] ?? NaN);
    if (options.overLimit === 'refuse' && declared > options.maxBytes) {
      response.destroy();
      throw new PreviewRefused('too-large', `the site sent ${declared} bytes, over the ${options.maxBytes}-byte limit`);
    }
    const { body, truncated } = await readBody(response, options);
    return { url, contentType, body, truncated };
  }
}

function get(url: URL, address: string, guard: FetchGuard, signal: AbortSignal): Promise<IncomingMessage> {
  // the connection goes to the checked address, whatever name the socket layer is asked about
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    const family = isIP(address);
    if (opts.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const options: RequestOptions & { servername?: string; ca?: string } = {
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { 'user-agent': 'Wardroom link preview', accept: 'text/html, image/*;q=0.8', 'accept-encoding': 'identity' },
    agent: false,
    lookup,
    signal,
    ...(url.protocol === 'https:' && !isIP(url.hostname) ? { servername: url.hostname } : {}),
    ...(guard.ca ? { ca: guard.ca } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, resolve);
    req.on('error', (error) => reject(signal.aborted ? timedOut() : new PreviewRefused('network', `the site could not be reached (${(error as NodeJS.ErrnoException).code ?? 'error'})`)));
    req.end();
  });
}

const timedOut = () => new PreviewRefused('timeout', 'the site took too long to answer');

function readBody(response: IncomingMessage, options: FetchOptions): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    // settle first, then close: destroying the response emits its own events, which must not decide the outcome
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      outcome();
      response.destroy();
    };
    const broke = () => settle(() => reject(options.signal.aborted ? timedOut() : new PreviewRefused('network', 'the connection broke')));
    const onAbort = () => settle(() => reject(timedOut()));
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      chunks.push(chunk);
      if (size <= options.maxBytes) return;
      if (options.overLimit === 'truncate') settle(() => resolve({ body: Buffer.concat(chunks).subarray(0, options.maxBytes), truncated: true }));
      else settle(() => reject(new PreviewRefused('too-large', `the site sent more than the ${options.maxBytes}-byte limit`)));
    });
    response.on('end', () => settle(() => resolve({ body: Buffer.concat(chunks), truncated: false })));
    response.on('error', broke);
    response.on('aborted', broke);
    response.on('close', () => { if (!response.complete) broke(); });
    options.signal.addEventListener('abort', onAbort, { once: true });
  });
}
