// Byte strings in the relay's JSON API travel as base64url without padding. One schema for both sides of the
// wire: the server checks what clients send, the client checks what the server answers, with the same bounds.
import { z } from 'zod';
import { fromBase64Url } from '../crypto/sodium.ts';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64url text decoded to bytes; the text length is bounded before decoding, the byte length after. */
export function b64bytes(minBytes: number, maxBytes: number) {
  return z.string()
    .max(Math.ceil((maxBytes * 4) / 3) + 4)
    .regex(BASE64URL, 'must be base64url without padding')
    .transform((text, ctx) => {
      let decoded: Uint8Array;
      try {
        decoded = fromBase64Url(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid base64url' });
        return z.NEVER;
      }
      if (decoded.length < minBytes || decoded.length > maxBytes) {
        ctx.addIssue({ code: 'custom', message: `must decode to ${minBytes}..${maxBytes} bytes` });
        return z.NEVER;
      }
      return decoded;
    });
}
