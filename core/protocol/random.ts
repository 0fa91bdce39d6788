// Fresh keys and ids for the protocol, all from the system CSPRNG (see systemRandomBytes for why not
// libsodium.js's randombytes_buf). Key pairs are derived from 32 random bytes with libsodium's seed functions.
import { dhKeyPair, signingKeyPair, systemRandomBytes, type DhKeyPair, type SigningKeyPair } from '../crypto/sodium.ts';

export const randomKey = (): Uint8Array => systemRandomBytes(32);
export const newDhKeyPair = (): DhKeyPair => dhKeyPair(systemRandomBytes(32));
export const newSigningKeyPair = (): SigningKeyPair => signingKeyPair(systemRandomBytes(32));
/** 16 random bytes: message ids. */
export const randomId = (): Uint8Array => systemRandomBytes(16);
export const randomUint32 = (): number => new DataView(systemRandomBytes(4).buffer).getUint32(0);
