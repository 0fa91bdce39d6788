// TLS material and the pin clients check. We pin the SHA-256 of the certificate's SubjectPublicKeyInfo (as HPKP
// and most mobile pinning do), not of the certificate, so renewing a certificate over the same key keeps the pin.
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** base64url SHA-256 of the DER SubjectPublicKeyInfo */
  pin: string;
}

export function spkiPin(certPem: string | Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64url');
}

/** Loads the configured certificate, or the one created on first start, or creates it now (key file mode 0600). */
export async function loadOrCreateTls(dataDir: string, certFile: string | null, keyFile: string | null): Promise<TlsMaterial> {
  if (certFile && keyFile) {
    const cert = readFileSync(certFile, 'utf8');
    return { cert, key: readFileSync(keyFile, 'utf8'), pin: spkiPin(cert) };
  }
  const dir = path.join(dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
    const pems = await generate([{ name: 'commonName', value: 'wardroom-server' }], {
      keySize: 2048, algorithm: 'sha256', notAfterDate: notAfter,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, pems.cert);
  }
  const cert = readFileSync(certPath, 'utf8');
  return { cert, key: readFileSync(keyPath, 'utf8'), pin: spkiPin(cert) };
}
