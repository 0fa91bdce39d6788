// TLS pinned to the server's public key, as carried in the invite link. Wardroom servers use self-signed
// certificates by default, so no CA can vouch for them; the pin (SHA-256 of the certificate's SubjectPublicKeyInfo)
// is the trust anchor. A pin survives certificate renewal as long as the key stays.
//
// Node only calls checkServerIdentity after the chain validates, and a self-signed chain never validates without
// `ca`. So: fetch the certificate once over a handshake whose key we check against the pin (no application data is
// sent on it), then make every real connection with `ca` = that certificate and the pin checked again. Presenting a
// certificate with the pinned key requires its private key, so a man in the middle fails the handshake.
import tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';

export class PinError extends Error {
  override readonly name = 'PinError';
}

/** base64url(SHA-256(SPKI DER)): the same encoding the server prints and invite links carry. */
export function spkiPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64url');
}

export interface PinnedTrust {
  /** the server certificate in PEM, for `ca` */
  ca: string;
  pin: string;
  /** Pass to tls/https/ws options: checks the pin on every handshake, whatever name the certificate carries. */
  checkServerIdentity: (host: string, cert: tls.PeerCertificate) => Error | undefined;
}

export function pinnedTrust(caPem: string, pin: string): PinnedTrust {
  const certificate = new X509Certificate(caPem);
  if (spkiPin(certificate) !== pin) throw new PinError('the stored server certificate does not match the pin');
  return {
    ca: caPem,
    pin,
    checkServerIdentity: (_host, cert) => {
      if (!cert.raw) return new PinError('server presented no certificate');
      const presented = spkiPin(new X509Certificate(cert.raw));
      return presented === pin ? undefined : new PinError(`server key does not match the pinned key (got ${presented.slice(0, 8)}…)`);
    },
  };
}

/**
 * Connects once, checks the server's key against the pin and returns its certificate (PEM). Nothing but the TLS
 * handshake is sent on this connection.
 */
export function fetchPinnedCertificate(host: string, port: number, pin: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: isIp(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('timeout', () => fail(new PinError(`no TLS handshake from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', (error) => fail(error));
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(true)?.raw;
      socket.destroy();
      if (!raw) return reject(new PinError('server presented no certificate'));
      const certificate = new X509Certificate(raw);
      const presented = spkiPin(certificate);
      if (presented !== pin) return reject(new PinError(`server key does not match the pin in the invite (got ${presented.slice(0, 8)}…)`));
      resolve(certificate.toString());
    });
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
