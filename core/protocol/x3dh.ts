// X3DH key agreement (Signal's specification, revision 1) between two devices.
//
//   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
//   SK  = HKDF-SHA256(ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4], salt = 0*32, info = "Wardroom X3DH v1")
//
// IK is the device's X25519 identity key, certified by the account key in the device certificate (we sign a
// separate X25519 key rather than convert the Ed25519 key: one key, one purpose, and nothing to audit about the
// conversion). Every DH here involves a key from the wire or a bundle, so an invalid one is DECRYPT_FAILED.
// The session's associated data binds both account keys, user ids, device ids and identity keys.
import { blake2b, concatBytes, hkdfSha256, memzero, type DhKeyPair } from '../crypto/sodium.ts';
import { newDhKeyPair as dhKeyPair } from './random.ts';
import { wireDh as dh } from './ratchet.ts';
import { framed } from './codec.ts';
import type { DeviceCertificate } from './identity.ts';
import { LABEL } from './labels.ts';

const F = new Uint8Array(32).fill(0xff);

function deriveSharedSecret(dhs: Uint8Array[]): Uint8Array {
  const ikm = concatBytes(F, ...dhs);
  const sk = hkdfSha256(ikm, new Uint8Array(32), LABEL.x3dh, 32);
  memzero(ikm);
  for (const d of dhs) memzero(d);
  return sk;
}

export interface InitiatorAgreement {
  sharedSecret: Uint8Array;
  ephemeralPublic: Uint8Array;
}

export function x3dhInitiator(identity: DhKeyPair, remoteIdentity: Uint8Array, remoteSignedPrekey: Uint8Array, remoteOneTimePrekey: Uint8Array | null): InitiatorAgreement {
  const ephemeral = dhKeyPair();
  const dhs = [dh(identity.secretKey, remoteSignedPrekey), dh(ephemeral.secretKey, remoteIdentity), dh(ephemeral.secretKey, remoteSignedPrekey)];
  if (remoteOneTimePrekey) dhs.push(dh(ephemeral.secretKey, remoteOneTimePrekey));
  const sharedSecret = deriveSharedSecret(dhs);
  memzero(ephemeral.secretKey);
  return { sharedSecret, ephemeralPublic: ephemeral.publicKey };
}

export function x3dhResponder(identity: DhKeyPair, signedPrekey: DhKeyPair, oneTimePrekey: DhKeyPair | null, remoteIdentity: Uint8Array, remoteEphemeral: Uint8Array): Uint8Array {
  const dhs = [dh(signedPrekey.secretKey, remoteIdentity), dh(identity.secretKey, remoteEphemeral), dh(signedPrekey.secretKey, remoteEphemeral)];
  if (oneTimePrekey) dhs.push(dh(oneTimePrekey.secretKey, remoteEphemeral));
  return deriveSharedSecret(dhs);
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
