// The one error type the protocol library throws. Every rejection carries a code the engine can branch on
// (show a key-change warning, ask for a sender key, start a new session) and a message safe to log: messages
// never contain key material or plaintext, only sizes, ids and field names.
import { CodedError } from '../crypto/coded-error.ts';

export type ProtocolErrorCode =
  | 'MALFORMED' // not the expected structure: bad CBOR, wrong type, missing or extra field, trailing bytes
  | 'OVERSIZED' // a frame or field is larger than its limit
  | 'UNKNOWN_VERSION' // a version number this build does not speak
  | 'DECRYPT_FAILED' // AEAD did not authenticate (tampered, wrong key, wrong associated data)
  | 'BAD_SIGNATURE' // an Ed25519 signature did not verify
  | 'DUPLICATE' // this message was already decrypted
  | 'KEY_DISCARDED' // the message's key was discarded unused (skipped-key cap): it is lost; tell the user and the sender
  | 'TOO_MANY_SKIPPED' // a counter jumped further ahead than we are willing to derive keys for
  | 'UNKNOWN_DEVICE' // a device not on the account's signed device list, or with no valid certificate
  | 'WRONG_RECIPIENT' // addressed to another device, channel or session
  | 'STALE_DEVICE_LIST' // a device list older than (or conflicting with) the last one we accepted
  | 'NO_SESSION' // no pairwise session matches this message: the sender must start a new one
  | 'UNKNOWN_PREKEY' // the prekey a session start refers to is gone or never existed
  | 'PQ_REQUIRED' // a bundle or session start without the ML-KEM part its signed prekey commits to: a relay removed it
  | 'MISSING_SENDER_KEY' // a channel message whose sender key we have not received: ask the sender
  | 'MEMBERSHIP_CHAIN' // a channel membership entry out of place: replayed, reordered, or from another chain
  | 'MEMBERSHIP_REFUSED' // a channel membership change its signer had no right to make, or about people not in the channel
  | 'INVALID_ARGUMENT'; // a local caller passed something impossible (a programming error, not an attack)

export class ProtocolError extends CodedError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
  /** Non-secret facts the engine needs to react (ids, counters); never keys or plaintext. */
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: ProtocolErrorCode, message: string, details: Record<string, string | number> = {}) {
    super(code, `${code}: ${message}`);
    this.details = details;
  }
}

export function fail(code: ProtocolErrorCode, message: string, details?: Record<string, string | number>): never {
  throw new ProtocolError(code, message, details);
}
