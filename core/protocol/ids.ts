// Identifiers both sides compute the same way. A device id is derived from its signing key, so a device
// certificate can name its id before any server saw it, and a server cannot pair an id with a different key.
import { sha256, toBase64Url } from '../crypto/sodium.ts';

/** 128 bits of SHA-256(signing public key), as 22 base64url characters. */
export const deviceIdFor = (signingPublicKey: Uint8Array): string => toBase64Url(sha256(signingPublicKey).subarray(0, 16));
