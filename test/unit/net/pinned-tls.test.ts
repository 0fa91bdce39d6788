// Pinned TLS against real TLS servers on loopback with real self-signed certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { fetchPinnedCertificate, pinnedTrust, spkiPin, PinError } from '../../../core/net/pinned-tls.ts';
import { createBackoff } from '../../../core/net/backoff.ts';

async function startServer() {
  const pems = await generate([{ name: 'commonName', value: 'wardroom.invalid' }], { keyType: 'ec', algorithm: 'sha256' });
  const requests: string[] = [];
  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    requests.push(req.headers.authorization ?? '');
    res.end('hello');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { server, port, requests, pin: spkiPin(new X509Certificate(pems.cert)), certPem: pems.cert };
}

function get(port: number, options: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', headers: { authorization: 'Bearer secret-token' }, ...options }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

test('right pin: the certificate is fetched once, then requests are trusted by name-independent pinning', async (t) => {
  const a = await startServer();
  t.after(() => a.server.close());
  const pem = await fetchPinnedCertificate('127.0.0.1', a.port, a.pin);
  assert.equal(spkiPin(new X509Certificate(pem)), a.pin);
  const trust = pinnedTrust(pem, a.pin);
  assert.equal(await get(a.port, { ca: trust.ca, checkServerIdentity: trust.checkServerIdentity, agent: false }), 'hello');
  assert.deepEqual(a.requests, ['Bearer secret-token']);
});

test('wrong key: refused at fetch and at connect, and no request (no token) ever reaches the impostor', async (t) => {
  const real = await startServer();
  const impostor = await startServer();
  t.after(() => {
    real.server.close();
    impostor.server.close();
  });
  await assert.rejects(fetchPinnedCertificate('127.0.0.1', impostor.port, real.pin), PinError);
  const trust = pinnedTrust(await fetchPinnedCertificate('127.0.0.1', real.port, real.pin), real.pin);
  await assert.rejects(get(impostor.port, { ca: trust.ca, checkServerIdentity: trust.checkServerIdentity, agent: false }));
  assert.deepEqual(impostor.requests, []);
  assert.throws(() => pinnedTrust(impostor.certPem, real.pin), PinError);
});

test('backoff grows exponentially up to its cap, with jitter, and resets', () => {
  const b = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 0.999 });
  const delays = Array.from({ length: 6 }, () => b.next());
  assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
  b.reset();
  assert.equal(b.next(), 99);
  const jittered = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 0.5 });
  assert.equal(jittered.next(), 50);
});
