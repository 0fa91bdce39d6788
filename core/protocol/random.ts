// Fresh keys and ids for the protocol, all from the system CSPRNG through randomBytes. Key pairs are derived
// from 32 random bytes with libsodium's seed functions.
import { dhKeyPair, signingKeyPair, randomBytes, type DhKeyPair, type SigningKeyPair } from '../crypto/sodium.ts';

export const randomKey = (): Uint8Array => randomBytes(32);
export const newDhKeyPair = (): DhKeyPair => dhKeyPair(randomBytes(32));
export const newSigningKeyPair = (): SigningKeyPair => signingKeyPair(randomBytes(32));
/** 16 random bytes: message ids. */
export const randomId = (): Uint8Array => randomBytes(16);
export const randomUint32 = (): number => new DataView(randomBytes(4).buffer).getUint32(0);
