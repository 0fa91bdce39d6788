// Identifiers and the hashes the server keeps instead of secrets.
import { randomBytes, sha256, toBase64Url, utf8 } from '../core/crypto/sodium.ts';

/** A fresh 128-bit id (22 base64url characters): accounts, channels, blobs. */
export const newId = (): string => toBase64Url(randomBytes(16));

/**
 * A device id is derived from its signing key, so a device certificate can name its id before any server saw it
 * and a server cannot pair an id with a different key.
 */
export const deviceIdFor = (signingPublicKey: Uint8Array): string => toBase64Url(sha256(signingPublicKey).subarray(0, 16));

/** Invite codes and session tokens are stored (and looked up) only as SHA-256 hashes: a leaked database grants nothing. */
export const secretHash = (secret: string): string => toBase64Url(sha256(utf8(secret)));

export const newSecret = (): string => toBase64Url(randomBytes(32));
