// A channel's name and topic, sealed for its members. The relay stores each as an opaque box: XChaCha20-Poly1305
// under the channel's metadata key (32 random bytes that only members hold; they travel in "channel-key" payloads
// over the pairwise sessions, like sender keys), so the relay can neither read a name nor put another in its place.
//
// The associated data binds the field (a topic cannot pass for a name), the key id, the sealing device and an open
// channel's listed name; the plaintext carries the time it was set, so a reader refuses an older value than the one
// it holds (the relay cannot roll a topic back on a device that saw the newer one). The channel id is not bound:
// the relay assigns it only after the creator sealed the name, and it is not needed, because each key belongs to one
// channel (a box from another channel names a key this channel does not have, and opens under no key it does).
import { aeadDecrypt, aeadEncrypt, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, CryptoError, randomBytes, utf8 } from '../crypto/sodium.ts';
import { bytes, decodeVersioned, encodeCbor, framed, literal, nullable, paddedSize, struct, text, uint, uint32Bytes, unpaddedLength, writePadding, UINT32_MAX, type Infer } from './codec.ts';
import { fail } from './errors.ts';
import { LABEL } from './labels.ts';
import { LIMITS } from './limits.ts';
import { randomKey, randomUint32 } from './random.ts';
import { deviceAddressSchema, type ChannelMetaKey, type DeviceAddress } from './wire.ts';

export type ChannelField = 'name' | 'topic';

const BOX_VERSION = 1;
/** Every sealed value pads to at least this, so a name's length never shows (a topic's shows only its bucket). */
const MIN_PADDED = 256;

const boxSchema = struct({
  v: literal(BOX_VERSION),
  keyId: uint(UINT32_MAX),
  /** the device that sealed it: whom a member without the key asks */
  by: deviceAddressSchema,
  /** an open channel's name as the whole organisation (and so the relay) sees it; null for private channels */
  listed: nullable(text(LIMITS.channelNameBytes, 1)),
  nonce: bytes(AEAD_NONCE_BYTES),
  ciphertext: bytes(MIN_PADDED + AEAD_TAG_BYTES, LIMITS.channelMetadataBytes),
});
export type ChannelBox = Omit<Infer<typeof boxSchema>, 'v'>;

const valueSchema = struct({ v: literal(BOX_VERSION), text: text(LIMITS.channelTopicBytes), setAt: uint() });
export interface ChannelValue {
  text: string;
  /** ms since epoch, chosen by the sealing device; a reader keeps the newest */
  setAt: number;
}

export function newChannelMetaKey(): ChannelMetaKey {
  return { keyId: randomUint32(), key: randomKey() };
}

function associatedData(field: ChannelField, keyId: number, by: DeviceAddress, listed: string | null): Uint8Array {
  // a listed name is at least one byte, so the empty string stands for "none" unambiguously
  return framed(LABEL.channelMetadata, field, uint32Bytes(keyId), by.userId, by.deviceId, listed ?? '');
}

const fieldLimit = (field: ChannelField) => (field === 'name' ? LIMITS.channelNameBytes : LIMITS.channelTopicBytes);

/** Seals a name or topic (an empty topic is sealed too: the relay must not be able to clear one). */
export function sealChannelField(key: ChannelMetaKey, field: ChannelField, value: ChannelValue, by: DeviceAddress, listed: string | null = null): Uint8Array {
  if (utf8(value.text).length > fieldLimit(field)) fail('OVERSIZED', `a channel ${field} is at most ${fieldLimit(field)} bytes`);
  if (listed !== null && (field !== 'name' || listed !== value.text)) fail('INVALID_ARGUMENT', 'only an open channel\'s name is listed, and as itself');
  const encoded = encodeCbor({ v: BOX_VERSION, text: value.text, setAt: value.setAt });
  const plaintext = new Uint8Array(paddedSize(encoded.length, MIN_PADDED));
  plaintext.set(encoded, 0);
  writePadding(plaintext, encoded.length);
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  const ciphertext = aeadEncrypt(key.key, nonce, plaintext, associatedData(field, key.keyId, by, listed));
  const box = encodeCbor({ v: BOX_VERSION, keyId: key.keyId, by, listed, nonce, ciphertext });
  if (box.length > LIMITS.channelMetadataBytes) fail('OVERSIZED', 'a sealed channel field exceeds the relay\'s limit');
  return box;
}

/** The box's clear header (which key, who sealed it, an open channel's listed name). Nothing here is authenticated yet. */
export function readChannelBox(bytes: Uint8Array): ChannelBox {
  const { v: _v, ...box } = decodeVersioned(bytes, boxSchema, { maxBytes: LIMITS.channelMetadataBytes, versions: [BOX_VERSION], what: 'channel metadata' });
  return box;
}

/** Opens a box with the key it names. DECRYPT_FAILED for anything the key did not seal as this field, unchanged. */
export function openChannelField(box: ChannelBox, field: ChannelField, key: ChannelMetaKey): ChannelValue {
  if (key.keyId !== box.keyId) fail('INVALID_ARGUMENT', 'that is not the key the box names');
  let plaintext: Uint8Array;
  try {
    plaintext = aeadDecrypt(key.key, box.nonce, box.ciphertext, associatedData(field, box.keyId, box.by, box.listed));
  } catch (error) {
    if (error instanceof CryptoError) fail('DECRYPT_FAILED', `the channel ${field} does not authenticate under its key`);
    throw error;
  }
  const { text: value, setAt } = decodeVersioned(plaintext.subarray(0, unpaddedLength(plaintext)), valueSchema, { maxBytes: plaintext.length, versions: [BOX_VERSION], what: `channel ${field}` });
  if (utf8(value).length > fieldLimit(field)) fail('OVERSIZED', `a channel ${field} is at most ${fieldLimit(field)} bytes`);
  if (box.listed !== null && (field !== 'name' || box.listed !== value)) fail('MALFORMED', 'a listed name differs from the sealed one');
  return { text: value, setAt };
}
