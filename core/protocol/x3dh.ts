// Session key agreement between two devices: X3DH (Signal's specification, revision 1), made hybrid with an
// ML-KEM-768 shared secret in the way PQXDH is built, when the responder's bundle carries an ML-KEM prekey.
//
//   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
//   classic: SK = HKDF-SHA256(ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4], salt = 0*32, info = "Wardroom X3DH v1")
//   hybrid:  (CT, SS) = ML-KEM-768.Encaps(PQPK_B)
//            SK = HKDF-SHA256(ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4] || SS, salt = 0*32,
//                             info = framed("Wardroom PQXDH X25519 ML-KEM-768 v1", PQPK_B, CT))
//
// An attacker must break both X25519 and ML-KEM to learn SK. The ML-KEM public key and ciphertext are bound into the
// derivation itself (the fix the 2023 formal analysis of PQXDH asked for): a session key never depends on the KEM's
// own binding properties, and a relay that swaps the ciphertext or names another ML-KEM key gets a different SK on
// each side, so the first message does not decrypt.
//
// IK is the device's X25519 identity key, certified by the account key in the device certificate (we sign a
// separate X25519 key rather than convert the Ed25519 key: one key, one purpose, and nothing to audit about the
// conversion). Every DH here involves a key from the wire or a bundle, so an invalid one is DECRYPT_FAILED.
// The session's associated data binds both account keys, user ids, device ids and identity keys.
import { blake2b, concatBytes, CryptoError, hkdfSha256, memzero, type DhKeyPair } from '../crypto/sodium.ts';
import { kemDecapsulate, kemEncapsulate } from '../crypto/ml-kem.ts';
import { newDhKeyPair as dhKeyPair } from './random.ts';
import { wireDh as dh } from './ratchet.ts';
import { framed } from './codec.ts';
import { fail } from './errors.ts';
import type { DeviceCertificate } from './identity.ts';
import { LABEL } from './labels.ts';

const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

/** The ML-KEM part of a hybrid agreement: its shared secret, and what the transcript binds. */
export interface KemAgreement {
  sharedSecret: Uint8Array;
  publicKey: Uint8Array;
  ciphertext: Uint8Array;
}

/** SK from the DH outputs and, for a hybrid start, the ML-KEM agreement. Wipes the secret inputs. */
export function sessionSecret(dhs: Uint8Array[], kem: KemAgreement | null): Uint8Array {
  const ikm = concatBytes(F, ...dhs, ...(kem ? [kem.sharedSecret] : []));
  const info = kem ? framed(LABEL.pqxdh, kem.publicKey, kem.ciphertext) : LABEL.x3dh;
  const sk = hkdfSha256(ikm, ZERO_SALT, info, 32);
  memzero(ikm);
  for (const d of dhs) memzero(d);
  if (kem) memzero(kem.sharedSecret);
  return sk;
}

export interface InitiatorAgreement {
  sharedSecret: Uint8Array;
  ephemeralPublic: Uint8Array;
  /** Set for a hybrid start: what the responder decapsulates. */
  kemCiphertext: Uint8Array | null;
}

export function x3dhInitiator(identity: DhKeyPair, remoteIdentity: Uint8Array, remoteSignedPrekey: Uint8Array, remoteOneTimePrekey: Uint8Array | null, remoteKemPrekey: Uint8Array | null): InitiatorAgreement {
  let kem: KemAgreement | null = null;
  if (remoteKemPrekey) {
    try {
      kem = { ...kemEncapsulate(remoteKemPrekey), publicKey: remoteKemPrekey };
    } catch (error) {
      // signed by the device, so a broken device rather than the relay; refused like any unusable bundle
      if (error instanceof CryptoError) fail('MALFORMED', 'the ML-KEM prekey is not a valid ML-KEM-768 public key');
      throw error;
    }
  }
  const ephemeral = dhKeyPair();
  const dhs = [dh(identity.secretKey, remoteSignedPrekey), dh(ephemeral.secretKey, remoteIdentity), dh(ephemeral.secretKey, remoteSignedPrekey)];
  if (remoteOneTimePrekey) dhs.push(dh(ephemeral.secretKey, remoteOneTimePrekey));
  const kemCiphertext = kem?.ciphertext ?? null;
  const sharedSecret = sessionSecret(dhs, kem);
  memzero(ephemeral.secretKey);
  return { sharedSecret, ephemeralPublic: ephemeral.publicKey, kemCiphertext };
}

/** `kem`, for a hybrid start: the responder's ML-KEM seed, whether it is the (reused) last-resort key, and the ciphertext. */
export function x3dhResponder(identity: DhKeyPair, signedPrekey: DhKeyPair, oneTimePrekey: DhKeyPair | null, remoteIdentity: Uint8Array, remoteEphemeral: Uint8Array, kem: { seed: Uint8Array; lastResort: boolean; ciphertext: Uint8Array } | null): Uint8Array {
  const dhs = [dh(signedPrekey.secretKey, remoteIdentity), dh(identity.secretKey, remoteEphemeral), dh(signedPrekey.secretKey, remoteEphemeral)];
  if (oneTimePrekey) dhs.push(dh(oneTimePrekey.secretKey, remoteEphemeral));
  // the ciphertext's length is checked by the wire schema; a wrong ciphertext yields a wrong secret, not an error
  const agreement = kem ? { ...kemDecapsulate(kem.seed, kem.ciphertext, kem.lastResort), ciphertext: kem.ciphertext } : null;
  return sessionSecret(dhs, agreement);
}

/** Names one session start: both identity keys and the initiator's ephemeral key. */
export function sessionIdFor(initiatorIdentity: Uint8Array, responderIdentity: Uint8Array, ephemeralPublic: Uint8Array): Uint8Array {
  return blake2b(framed(LABEL.sessionId, initiatorIdentity, responderIdentity, ephemeralPublic), 16);
}

/** Associated data for every message of a session: who (accounts, users, devices, identity keys) and which session. */
export function sessionAssociatedData(initiator: DeviceCertificate, responder: DeviceCertificate, sessionId: Uint8Array): Uint8Array {
  const part = (c: DeviceCertificate) => [c.accountPublicKey, c.userId, c.deviceId, c.dhPublicKey] as const;
  return framed(LABEL.sessionAd, ...part(initiator), ...part(responder), sessionId);
}
