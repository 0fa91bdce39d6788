// Safety numbers: what two people compare (read aloud or by QR) to know no one sits between their account keys.
//
// Per account: h_0 = SHA-512(framed("Wardroom safety number v1", userId, accountKey)), h_i = SHA-512(h_{i-1} ||
// accountKey) for 5,200 iterations (the work makes grinding a key whose number collides with a victim's costly),
// then the first 30 bytes as six 5-byte big-endian chunks, each mod 100,000: 30 digits. The two halves are put in
// sorted order so both people (and all their devices) see the same 60 digits. Device keys are not included: the
// number stays the same when someone adds a device, because devices are certified by the account key.
import { concatBytes, constantTimeEqual, sha512 } from '../crypto/sodium.ts';
import { framed } from './codec.ts';
import { fail } from './errors.ts';
import { LABEL } from './labels.ts';

const ITERATIONS = 5200;
const FINGERPRINT_BYTES = 30;
const QR_VERSION = 1;

export interface AccountRef {
  userId: string;
  accountPublicKey: Uint8Array;
}

function fingerprint(account: AccountRef): Uint8Array {
  let h = sha512(framed(LABEL.safetyNumber, account.userId, account.accountPublicKey));
  for (let i = 0; i < ITERATIONS; i++) h = sha512(concatBytes(h, account.accountPublicKey));
  return h.slice(0, FINGERPRINT_BYTES);
}

function digits(fp: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + fp[chunk * 5 + i]!;
    out += String(value % 100_000).padStart(5, '0');
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function orderedFingerprints(a: AccountRef, b: AccountRef): [Uint8Array, Uint8Array] {
  const fa = fingerprint(a);
  const fb = fingerprint(b);
  return compareBytes(fa, fb) <= 0 ? [fa, fb] : [fb, fa];
}

export interface SafetyNumber {
  /** 60 digits. */
  digits: string;
  /** 12 groups of 5 digits, space separated, for display. */
  display: string;
  /** The bytes to put in a QR code: version || both fingerprints in sorted order. */
  qrPayload: Uint8Array;
}

export function safetyNumber(local: AccountRef, remote: AccountRef): SafetyNumber {
  const [first, second] = orderedFingerprints(local, remote);
  const all = digits(first) + digits(second);
  return { digits: all, display: all.match(/.{5}/g)!.join(' '), qrPayload: concatBytes(Uint8Array.of(QR_VERSION), first, second) };
}

/** True when a scanned QR payload matches the number we compute for the same two accounts. */
export function verifySafetyQr(scanned: Uint8Array, local: AccountRef, remote: AccountRef): boolean {
  if (scanned.length !== 1 + 2 * FINGERPRINT_BYTES) fail('MALFORMED', 'safety number QR payload has the wrong length');
  if (scanned[0] !== QR_VERSION) fail('UNKNOWN_VERSION', `safety number QR version ${scanned[0]}`);
  return constantTimeEqual(scanned, safetyNumber(local, remote).qrPayload);
}
