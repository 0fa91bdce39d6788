// Sealed channel names and topics (core/protocol/channel-meta.ts): a box opens only as the field it was sealed as,
// under the key it names, with the sealer and listed name it was sealed with; lengths hide in the padding; limits hold.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { newChannelMetaKey, openChannelField, readChannelBox, sealChannelField } from '../../../core/protocol/channel-meta.ts';
import { encodeCbor } from '../../../core/protocol/codec.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';

const by = { userId: 'ann', deviceId: 'device-1' };
const key = newChannelMetaKey();
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, String(error));
    return error.code;
  }
  return 'opened';
};
/** the box re-encoded with some header fields changed, as a relay could */
const altered = (box: Uint8Array, change: Record<string, unknown>) => encodeCbor({ v: 1, ...readChannelBox(box), ...change });

describe('sealed channel names and topics', () => {
  it('open to the value and time they were sealed with', () => {
    const name = sealChannelField(key, 'name', { text: 'general', setAt: 1_700_000_000_000 }, by, 'general');
    const topic = sealChannelField(key, 'topic', { text: 'héllo wörld', setAt: 5 }, by);
    assert.deepEqual(openChannelField(readChannelBox(name), 'name', key), { text: 'general', setAt: 1_700_000_000_000 });
    assert.deepEqual(openChannelField(readChannelBox(topic), 'topic', key), { text: 'héllo wörld', setAt: 5 });
    assert.equal(readChannelBox(name).listed, 'general');
    assert.deepEqual(readChannelBox(topic).by, by);
  });

  it('refuse another field, key, key id, sealer or listed name (each bound)', () => {
    const name = sealChannelField(key, 'name', { text: 'general', setAt: 1 }, by, 'general');
    assert.equal(code(() => openChannelField(readChannelBox(name), 'topic', key)), 'DECRYPT_FAILED', 'a name is no topic');
    assert.equal(code(() => openChannelField(readChannelBox(name), 'name', { ...newChannelMetaKey(), keyId: key.keyId })), 'DECRYPT_FAILED', 'another key');
    const otherId = (key.keyId + 1) >>> 0;
    assert.equal(code(() => openChannelField(readChannelBox(altered(name, { keyId: otherId })), 'name', { keyId: otherId, key: key.key })), 'DECRYPT_FAILED', 'another key id');
    assert.equal(code(() => openChannelField(readChannelBox(altered(name, { by: { userId: 'eve', deviceId: 'device-1' } })), 'name', key)), 'DECRYPT_FAILED', 'another sealer');
    assert.equal(code(() => openChannelField(readChannelBox(altered(name, { listed: 'decoy' })), 'name', key)), 'DECRYPT_FAILED', 'another listed name');
    assert.equal(code(() => openChannelField(readChannelBox(altered(name, { listed: null })), 'name', key)), 'DECRYPT_FAILED', 'the listed name dropped');
    const flipped = readChannelBox(name);
    flipped.ciphertext[3]! ^= 1;
    assert.equal(code(() => openChannelField(flipped, 'name', key)), 'DECRYPT_FAILED', 'a flipped bit');
  });

  it('hide a name\'s length and a topic\'s beyond its bucket', () => {
    const sizes = ['a', 'x'.repeat(64)].map((text) => readChannelBox(sealChannelField(key, 'name', { text, setAt: 1 }, by)).ciphertext.length);
    assert.equal(sizes[0], sizes[1]);
    const topics = ['', 'short', 'y'.repeat(200)].map((text) => readChannelBox(sealChannelField(key, 'topic', { text, setAt: 1 }, by)).ciphertext.length);
    assert.equal(new Set(topics).size, 1);
  });

  it('keep to the limits, and a listed name only as the sealed one', () => {
    assert.equal(code(() => sealChannelField(key, 'name', { text: 'x'.repeat(65), setAt: 1 }, by)), 'OVERSIZED');
    assert.equal(code(() => sealChannelField(key, 'topic', { text: '\u{1F600}'.repeat(257), setAt: 1 }, by)), 'OVERSIZED');
    const longest = sealChannelField(key, 'topic', { text: '\u{1F600}'.repeat(256), setAt: Number.MAX_SAFE_INTEGER }, { userId: 'u'.repeat(128), deviceId: 'd'.repeat(128) });
    assert.ok(longest.length <= 4096, `the largest topic fits the relay's 4 KiB (${longest.length})`);
    assert.equal(code(() => sealChannelField(key, 'name', { text: 'general', setAt: 1 }, by, 'other')), 'INVALID_ARGUMENT');
    assert.equal(code(() => sealChannelField(key, 'topic', { text: 'general', setAt: 1 }, by, 'general')), 'INVALID_ARGUMENT');
    assert.equal(code(() => readChannelBox(randomBytes(5000))), 'OVERSIZED');
    assert.equal(code(() => readChannelBox(encodeCbor({ v: 2 }))), 'UNKNOWN_VERSION');
    assert.equal(code(() => readChannelBox(new TextEncoder().encode('general'))), 'MALFORMED', 'a clear name from an old client is no box');
  });
});
