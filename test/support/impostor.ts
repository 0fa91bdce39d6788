// A man in the middle at the relay's address: a TLS server with a certificate (and key) of its own, not the one the
// client pinned at enrolment. It records every HTTP request, WebSocket upgrade and TLS connection it sees, so a test
// can assert that nothing (no login, no token, no envelope) reached it and that nothing kept retrying.
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export interface Impostor {
  url: string;
  port: number;
  seen: { requests: string[]; upgrades: string[]; connections: number };
  close(): Promise<void>;
}

/** A self-signed certificate for localhost, as the real relay makes its own (a different key each call). */
export const selfSignedCertificate = () => generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });

/** Listens on 127.0.0.1:`port` (0: any free port). Every request is answered as if it were the relay, with a challenge. */
export async function startImpostor(port = 0): Promise<Impostor> {
  const pems = await selfSignedCertificate();
  const seen = { requests: [] as string[], upgrades: [] as string[], connections: 0 };
  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    seen.requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.setHeader('content-type', 'application/json');
    res.end('{"challenge":"AAAA"}');
  });
  server.on('upgrade', (req, socket) => {
    seen.upgrades.push(`${req.url} ${req.headers.authorization ?? ''}`);
    socket.destroy();
  });
  server.on('connection', () => seen.connections++);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${bound}`, port: bound, seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
