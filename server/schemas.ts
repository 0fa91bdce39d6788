// Shared input schemas. Every byte string crossing the HTTP boundary is base64url without padding and has a
// maximum length, so no field can make the server allocate more than the route's body limit allows.
import { z } from 'zod';
import { SIGN_PUBLIC_BYTES, SIGNATURE_BYTES } from '../core/crypto/sodium.ts';
import { b64bytes } from '../core/relay/base64-bytes.ts';
import type { SignedBlob } from './store/types.ts';

export { b64bytes };

export const publicKeySchema = b64bytes(SIGN_PUBLIC_BYTES, SIGN_PUBLIC_BYTES);
export const signatureSchema = b64bytes(SIGNATURE_BYTES, SIGNATURE_BYTES);

/** An opaque document plus the Ed25519 signature the server checks over its exact bytes. */
export const signedBlobSchema = (maxBytes: number) =>
  z.object({ data: b64bytes(1, maxBytes), signature: signatureSchema }).strict() satisfies z.ZodType<SignedBlob, unknown>;

/** Server-issued identifiers: 128 random bits as 22 base64url characters. Nothing else can name a row or a file. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be a 22-character id');

export const usernameSchema = z.string().min(2).max(32)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, dot, dash and underscore; starting with a letter or digit');

export const deviceListVersionSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
