// What a device shows for a channel, from the relay's sealed boxes and what it verified before (channels/metadata.ts):
// only values that open under a key it holds and are newer than its own; a placeholder, never a guess, otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, toBase64Url } from '../../../core/crypto/sodium.ts';
import { ChannelMetadata, PENDING_NAME, UNREADABLE_NAME } from '../../../core/engine/channels/metadata.ts';
import type { EngineContext } from '../../../core/engine/context.ts';
import type { ChannelRow } from '../../../core/engine/history.ts';
import type { Channel } from '../../../core/engine/relay-http.ts';
import { newChannelMetaKey, sealChannelField } from '../../../core/protocol/channel-meta.ts';

const self = { userId: 'ann', deviceId: 'device-1' };
const channelId = toBase64Url(randomBytes(16));

/** The metadata logic with the only parts of the context it uses: the clock, this device, and events. */
function metadata() {
  const events: { name: string; payload: unknown }[] = [];
  let missing = 0;
  const ctx = { now: () => 1_000, self, emit: (name: string, payload: unknown) => events.push({ name, payload }) } as unknown as EngineContext;
  const m = new ChannelMetadata(ctx);
  m.whenMissing(() => missing++);
  return { m, events, missed: () => missing };
}

const key = newChannelMetaKey();
const channel = (name: Uint8Array, topic: Uint8Array, open = false): Channel => ({ channelId, name, topic, open, createdAt: 0, role: 'member' });
const sealed = (field: 'name' | 'topic', text: string, setAt: number, listed: string | null = null, k = key) => sealChannelField(k, field, { text, setAt }, self, listed);
const stored = (change: Partial<ChannelRow>): ChannelRow => ({ id: `c:${channelId}`, remoteId: channelId, name: 'ops', topic: 'old', nameSetAt: 10, topicSetAt: 10, role: 'member', ...change });

describe('channel metadata: what a device shows', () => {
  it('takes a newer value that opens, and keeps what it verified against an older one', () => {
    const { m } = metadata();
    const row = m.reconcile(channel(sealed('name', 'ops', 10), sealed('topic', 'new', 20)), stored({}), [key]);
    assert.deepEqual([row.name, row.topic, row.topicSetAt], ['ops', 'new', 20]);
    const replay = m.reconcile(channel(sealed('name', 'ops-old', 5), sealed('topic', 'older', 5)), stored({}), [key]);
    assert.deepEqual([replay.name, replay.topic], ['ops', 'old']);
  });

  it('refuses what a member sealed that is no channel name, and reports each refused box once', () => {
    const { m, events } = metadata();
    const bogus = channel(sealed('name', 'Not A\u202Ename', 20), sealed('topic', 'x', 10));
    assert.equal(m.reconcile(bogus, stored({}), [key]).name, 'ops');
    assert.equal(m.reconcile(bogus, undefined, [key]).name, UNREADABLE_NAME);
    assert.equal(events.filter((e) => e.name === 'message.undecryptable').length, 1, 'the same box is reported once');
    const garbage = channel(randomBytes(300), randomBytes(300));
    const row = m.reconcile(garbage, stored({}), [key]);
    assert.deepEqual([row.name, row.topic], ['ops', 'old']);
    assert.equal(events.length, 3);
  });

  it('shows a placeholder, or an open channel\'s listed name, until the key arrives, and asks for it once', () => {
    const { m, missed } = metadata();
    const other = newChannelMetaKey();
    const privateRow = m.reconcile(channel(sealed('name', 'secret', 10, null, other), sealed('topic', 'hidden', 10, null, other)), undefined, [key]);
    assert.deepEqual([privateRow.name, privateRow.topic, privateRow.nameSetAt], [PENDING_NAME, null, null]);
    const openRow = m.reconcile(channel(sealed('name', 'lobby', 10, 'lobby', other), new Uint8Array(0), true), undefined, []);
    assert.equal(openRow.name, 'lobby');
    assert.equal(openRow.nameSetAt, null, 'a listed name is not verified');
    assert.equal(missed(), 1, 'one key, asked for once');
    assert.deepEqual(m.takeMissing().map((x) => [x.channelId, x.keyId, x.sealer.userId]), [[channelId, other.keyId, 'ann']]);
    m.reconcile(channel(sealed('name', 'secret', 10, null, other), new Uint8Array(0)), undefined, []);
    assert.deepEqual(m.takeMissing(), [], 'not asked again at once');
  });
});
