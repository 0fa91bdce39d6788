// The web shell's host (core/shell) from outside, as a browser and as an attacker's page would reach it: files only
// under the bundle and only for our Host, strict headers on every file (pdf.js's worker module too); a WebSocket
// refused without the per-launch token, with a wrong one, from another Origin, for another Host (DNS rebinding) or
// on another path; and with all of them right, host commands, engine commands and events going through, over a real
// relay and a real vault.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { ProfileHost } from '../../../core/host/index.ts';
import { PROTOCOL, SOCKET_PATH, startWebShell, TOKEN_PROTOCOL_PREFIX, type WebShell } from '../../../core/shell/index.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

const PASS = 'web shell test passphrase';

/** A raw request, so nothing (fetch, ws) rewrites the Host header or normalises the path. */
function raw(port: number, requestPath: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: requestPath, method, headers, setHost: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode!, headers: response.headers, body: '' });
    });
    request.on('error', reject);
    request.end();
  });
}

/** The headers a browser tab of the shell sends on its WebSocket upgrade, minus whatever `change` overrides. */
function upgradeHeaders(shell: WebShell, change: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    host: `127.0.0.1:${shell.port}`,
    origin: shell.origin,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': Buffer.alloc(16, 7).toString('base64'),
    'sec-websocket-protocol': `${PROTOCOL}, ${TOKEN_PROTOCOL_PREFIX}${shell.token}`,
    ...change,
  };
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

interface Client {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  call(method: string, params?: object): Promise<Record<string, unknown>>;
  next(find: (message: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
}

async function connect(shell: WebShell): Promise<Client> {
  const socket = new WebSocket(`ws://127.0.0.1:${shell.port}${SOCKET_PATH}`, [PROTOCOL, TOKEN_PROTOCOL_PREFIX + shell.token], { origin: shell.origin });
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    for (const waiter of [...waiters]) waiter();
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let lastId = 0;
  const next: Client['next'] = (find, what) => new Promise((resolve, reject) => {
    const check = () => {
      const found = messages.find(find);
      if (!found) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
    waiters.add(check);
    check();
  });
  return {
    socket,
    messages,
    next,
    call(method, params) {
      const id = ++lastId;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }));
      return next((m) => m.id === id, `the answer to ${method}`);
    },
  };
}

describe('web shell', () => {
  let relay: Awaited<ReturnType<typeof startTestServer>>;
  let host: ProfileHost;
  let shell: WebShell;
  let staticDir: string;

  before(async () => {
    relay = await startTestServer();
    const dir = tempDir();
    staticDir = path.join(dir, 'bundle');
    mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Wardroom</title><script type="module" src="/assets/app.js"></script>');
    writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'export {};');
    writeFileSync(path.join(staticDir, 'assets', 'pdf.worker.min-x1.mjs'), 'export {};');
    writeFileSync(path.join(dir, 'secret.html'), 'outside the bundle');
    host = new ProfileHost({ root: path.join(dir, 'profiles'), env: { WARDROOM_KDF: 'interactive' }, firstInvite: relay.firstAdminInvite! });
    shell = await startWebShell({ host, staticDir });
  });
  after(async () => {
    await shell.close();
    await host.close();
    await relay.close();
  });

  it('prints a loopback URL with a fresh 32-byte token in its fragment', async () => {
    assert.match(shell.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    const other = await startWebShell({ host, staticDir });
    assert.notEqual(other.token, shell.token);
    await other.close();
  });

  it('serves the bundle with a strict CSP to our Host only, and nothing outside it', async () => {
    const page = await raw(shell.port, '/', { host: `127.0.0.1:${shell.port}` });
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Wardroom<\/title>/);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline script, no eval');
    assert.match(csp, new RegExp(`connect-src ws://127\\.0\\.0\\.1:${shell.port}(;|$)`), 'talks only to itself');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /img-src 'self' data: blob:(;|$)/, 'images only from the bundle and what the page made itself (thumbnails from message bytes)');
    assert.match(csp, /worker-src 'self'(;|$)/, 'workers only from the bundle, never blob: or data: code');
    assert.match(csp, /require-trusted-types-for 'script'/);
    assert.match(csp, /trusted-types wardroom-pdf-worker(;|$)/, 'one Trusted Types policy: the one that starts pdf.js\'s worker');
    for (const loose of ["'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", "'allow-duplicates'", '*']) assert.ok(!csp.includes(loose), `no ${loose}`);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal((await raw(shell.port, '/assets/app.js', { host: `localhost:${shell.port}` })).headers['content-type'], 'text/javascript; charset=utf-8');
    // pdf.js's worker is a module file: served as JavaScript (nosniff would refuse anything else) under the same
    // CSP, which is the one a worker runs under (it does not inherit the page's)
    const worker = await raw(shell.port, '/assets/pdf.worker.min-x1.mjs', { host: `127.0.0.1:${shell.port}` });
    assert.deepEqual([worker.status, worker.headers['content-type'], worker.headers['content-security-policy'], worker.headers['x-content-type-options']],
      [200, 'text/javascript; charset=utf-8', csp, 'nosniff']);

    const rebound = await raw(shell.port, '/', { host: `attacker.example:${shell.port}` });
    assert.equal(rebound.status, 421, 'a page on a rebound name gets nothing');
    assert.doesNotMatch(rebound.body, /Wardroom<\/title>/);
    assert.equal((await raw(shell.port, '/', {})).status, 400, 'no Host (Node refuses an HTTP/1.1 request without one)');
    for (const escape of ['/../secret.html', '/%2e%2e/secret.html', '/assets/..%2f..%2fsecret.html', '/%00.html']) {
      assert.equal((await raw(shell.port, escape, { host: `127.0.0.1:${shell.port}` })).status, 404, escape);
    }
    assert.equal((await raw(shell.port, '/', { host: `127.0.0.1:${shell.port}` }, 'POST')).status, 405);
  });

  it('refuses a WebSocket without the token, with a wrong one, from another Origin, for another Host or path', async () => {
    const refusals: [Record<string, string | undefined>, number][] = [
      [{ 'sec-websocket-protocol': PROTOCOL }, 401],
      [{ 'sec-websocket-protocol': undefined }, 401],
      [{ 'sec-websocket-protocol': `${PROTOCOL}, ${TOKEN_PROTOCOL_PREFIX}${shell.token.slice(1)}x` }, 401],
      [{ 'sec-websocket-protocol': `${TOKEN_PROTOCOL_PREFIX}${shell.token}` }, 401],
      [{ origin: 'http://attacker.example' }, 403],
      [{ origin: `http://127.0.0.1:${shell.port + 1}` }, 403],
      [{ origin: undefined }, 403],
      [{ host: `attacker.example:${shell.port}`, origin: `http://attacker.example:${shell.port}` }, 421],
    ];
    for (const [change, status] of refusals) {
      assert.equal((await raw(shell.port, SOCKET_PATH, upgradeHeaders(shell, change))).status, status, JSON.stringify(change));
    }
    assert.equal((await raw(shell.port, '/other', upgradeHeaders(shell))).status, 404);
    assert.equal((await raw(shell.port, SOCKET_PATH, upgradeHeaders(shell))).status, 101, 'the same request with everything right');
  });

  it('carries host and engine commands and their events, one JSON-RPC object per message, answering the token with the plain protocol', async () => {
    const client = await connect(shell);
    assert.equal(client.socket.protocol, PROTOCOL, 'the token is never echoed back');
    assert.deepEqual((await client.call('profiles.list')).result, { profiles: [] });
    assert.deepEqual((await client.call('app.welcome')).result, { invite: relay.firstAdminInvite });
    const locked = await client.call('account.whoami');
    assert.equal((locked.error as { data: { code: string } }).data.code, 'LOCKED');

    const joined = await client.call('profiles.join', { profile: 'alice', link: relay.firstAdminInvite!, username: 'alice', passphrase: PASS });
    assert.equal((joined.result as { profile: { state: string } }).profile.state, 'open');
    const opened = await client.next((m) => m.method === 'profile.state' && (m.params as { state: string }).state === 'open', 'the profile.state event');
    assert.equal(typeof (opened.params as { seq: number }).seq, 'number');

    const sent = await client.call('messages.send', { conversation: 'd:alice', text: 'hello over the web shell' });
    assert.equal((sent.result as { text: string }).text, 'hello over the web shell');
    await client.call('settings.set', { theme: 'dark' });
    const changed = await client.next((m) => m.method === 'settings.changed', 'the settings.changed event');
    assert.equal((changed.params as { theme: string }).theme, 'dark');

    client.socket.send('not json');
    const parseError = await client.next((m) => (m.error as { code?: number } | undefined)?.code === -32700, 'a parse error');
    assert.equal(parseError.id, null);
    const bad = await client.call('messages.send', { conversation: 'd:alice', text: '' });
    assert.equal((bad.error as { code: number; data: { code: string } }).data.code, 'BAD_REQUEST');
    client.socket.close();
  });
});
