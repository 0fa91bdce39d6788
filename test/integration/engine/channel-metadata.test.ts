// Channel names and topics end to end: members read them (also a member added later, a device linked later, and
// someone joining an open channel), a topic change reaches every member, and the relay, which holds only sealed
// boxes, cannot put another channel's name or topic in their place, garbage, an older topic, or a changed listed
// name: the engine refuses each and keeps what it verified. Real engines, vaults and relay, a lying proxy between.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromBase64Url, randomBytes, toBase64Url } from '../../../core/crypto/sodium.ts';
import type { ConversationViewT } from '../../../core/api/contract.ts';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { Directory } from '../../../core/engine/directory.ts';
import { loadProfile } from '../../../core/engine/profile.ts';
import { VaultProtocolStore } from '../../../core/engine/protocol-store.ts';
import { RelayHttp } from '../../../core/engine/relay-http.ts';
import { newChannelMetaKey, openChannelField, readChannelBox, sealChannelField } from '../../../core/protocol/channel-meta.ts';
import { encodeCbor } from '../../../core/protocol/codec.ts';
import { encryptToDevices, newMessageId } from '../../../core/protocol/processor.ts';
import { PASSPHRASE, startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';
import { startHostileRelay, type HostileRelay } from '../../support/hostile-relay.ts';
import { WsClient } from '../../support/server-client.ts';

interface RelayChannel { channelId: string; name: string; topic: string; open: boolean; role: string | null }

describe('engine: channel names and topics', () => {
  let org: TestOrg;
  let relay: HostileRelay;
  let ann: TestEngine;
  let ben: TestEngine;
  let cat: TestEngine;
  let dan: TestEngine;
  /** the channel lists the relay last served, as it served them */
  let served: RelayChannel[] = [];
  /** rewrites each channel of a list the relay serves (identity by default) */
  let lie: (c: RelayChannel) => RelayChannel = (c) => c;

  before(async () => {
    org = await startOrg({}, {}, async (url) => (relay = await startHostileRelay(url)));
    ann = await org.addUser('ann');
    ben = await org.addUser('ben');
    cat = await org.addUser('cat');
    dan = await org.addUser('dan');
  });
  beforeEach(() => {
    lie = (c) => c;
    relay.rewriteReply = (path, body) => {
      if (path !== '/v1/channels' || !body || typeof body !== 'object' || !('channels' in body)) return body;
      served = (body as { channels: RelayChannel[] }).channels;
      return { channels: served.map((c) => lie(c)) };
    };
  });
  after(() => org.close());

  const view = async (e: TestEngine, id: string) => (await e.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === id);
  async function eventually(e: TestEngine, id: string, what: string, ok: (v: ConversationViewT | undefined) => boolean): Promise<ConversationViewT | undefined> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await view(e, id);
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`${e.username}: timed out waiting for ${what} (last seen: ${JSON.stringify(v && { name: v.name, topic: v.topic })})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const shows = (e: TestEngine, id: string, name: string, topic: string | undefined) =>
    eventually(e, id, `#${name} with topic ${topic}`, (v) => v?.name === name && v.topic === topic);
  const add = async (owner: TestEngine, id: string, username: string) => owner.engine.api.call('channels.add', { conversation: id, username });
  const create = async (owner: TestEngine, name: string, topic?: string, open = false) =>
    (await owner.engine.api.call('channels.create', { name, open, ...(topic ? { topic } : {}) })).id;
  const remoteId = (id: string) => id.slice(2);
  const onRelay = async (e: TestEngine, id: string) => {
    await view(e, id); // a fresh list through the relay
    return served.find((c) => c.channelId === remoteId(id))!;
  };
  const contains = (haystack: Uint8Array, needle: string) => Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
  const undecryptable = (e: TestEngine, id: string) => e.events.filter((x) => x.name === 'message.undecryptable' && (x.payload as { conversation?: string }).conversation === id).length;

  it('members read the name and topic; the relay holds neither', async () => {
    const id = await create(ann, 'launch-room', 'launch plan for march');
    await add(ann, id, 'ben');
    await shows(ben, id, 'launch-room', 'launch plan for march');
    const stored = await onRelay(ann, id);
    for (const [field, text] of [['name', 'launch-room'], ['topic', 'launch plan for march']] as const) {
      const bytes = fromBase64Url(stored[field]);
      assert.equal(contains(bytes, text), false, `the relay's ${field} is not the plaintext`);
      assert.ok(bytes.length >= 256, `the ${field} is padded (its length says nothing)`);
    }
    assert.equal(readChannelBox(fromBase64Url(stored.name)).listed, null, 'a private channel lists no name');
  });

  it('a member added later reads the name and the current topic; a topic change reaches every member', async () => {
    const id = await create(ann, 'design', 'first topic');
    await add(ann, id, 'ben');
    await shows(ben, id, 'design', 'first topic');
    await ann.engine.api.call('channels.setTopic', { conversation: id, topic: 'second topic' });
    await add(ann, id, 'cat');
    await shows(cat, id, 'design', 'second topic');
    await ben.engine.api.call('channels.setTopic', { conversation: id, topic: 'set by ben' });
    for (const e of [ann, ben, cat]) await shows(e, id, 'design', 'set by ben');
    assert.ok(cat.events.some((x) => x.name === 'conversation.updated' && (x.payload as ConversationViewT).topic === 'set by ben'), 'announced as an update');
  });

  it('a device linked later asks for the keys and reads the name and topic', async () => {
    const id = await create(ann, 'ops-linked', 'all about ops');
    await add(ann, id, 'ben');
    await shows(ben, id, 'ops-linked', 'all about ops');
    const benLaptop = await org.linkDevice(ben);
    await shows(benLaptop, id, 'ops-linked', 'all about ops');
  });

  it('lists an open channel\'s name to the org (by decision) and seals its topic; who joins reads the topic', async () => {
    const id = await create(ann, 'lobby-open', 'come in and say hi', true);
    const stored = await onRelay(ann, id);
    assert.equal(readChannelBox(fromBase64Url(stored.name)).listed, 'lobby-open', 'the listed name is readable by the relay, as documented');
    assert.equal(contains(fromBase64Url(stored.topic), 'come in'), false, 'the topic is not');
    const joined = await dan.engine.api.call('channels.join', { channel: 'lobby-open' });
    assert.equal(joined.name, 'lobby-open');
    await shows(dan, id, 'lobby-open', 'come in and say hi');
  });

  it('refuses another channel\'s name or topic in a channel\'s place, and garbage; a new member never shows them', async () => {
    const alpha = await create(ann, 'alpha', 'topic of alpha');
    const bravo = await create(ann, 'bravo', 'topic of bravo');
    for (const id of [alpha, bravo]) await add(ann, id, 'ben');
    await shows(ben, alpha, 'alpha', 'topic of alpha');
    await shows(ben, bravo, 'bravo', 'topic of bravo');
    const bravoOnRelay = await onRelay(ann, bravo);
    lie = (c) => (c.channelId === remoteId(alpha) ? { ...c, name: bravoOnRelay.name, topic: bravoOnRelay.topic } : c);
    await ann.engine.api.call('channels.setTopic', { conversation: bravo, topic: 'bravo moved on' }); // a notice: members sync
    await shows(ben, bravo, 'bravo', 'bravo moved on');
    assert.deepEqual(await view(ben, alpha).then((v) => [v?.name, v?.topic]), ['alpha', 'topic of alpha'], 'a member keeps what it verified');
    // a member added while the relay lies has verified nothing: it shows no name rather than bravo's
    await add(ann, alpha, 'cat');
    const catView = await eventually(cat, alpha, 'alpha listed', (v) => v !== undefined);
    await cat.engine.api.call('sync.now', {});
    const shown = await view(cat, alpha);
    assert.notEqual(shown?.name, 'bravo');
    assert.ok(shown?.topic !== 'topic of bravo' && shown?.topic !== 'bravo moved on', `cat shows no topic of bravo (${shown?.topic})`);
    assert.equal(catView?.name.startsWith('('), true, `a placeholder, not a name (${catView?.name})`);

    // garbage in the name, and alpha's own topic box in the name's place: refused and reported, name kept
    const alphaOnRelay = served.find((c) => c.channelId === remoteId(alpha))!;
    const before = undecryptable(ben, alpha);
    lie = (c) => (c.channelId === remoteId(alpha) ? { ...c, name: toBase64Url(randomBytes(300)) } : c);
    assert.equal((await view(ben, alpha))?.name, 'alpha');
    lie = (c) => (c.channelId === remoteId(alpha) ? { ...c, name: alphaOnRelay.topic, topic: alphaOnRelay.name } : c);
    assert.deepEqual(await view(ben, alpha).then((v) => [v?.name, v?.topic]), ['alpha', 'topic of alpha']);
    assert.ok(undecryptable(ben, alpha) >= before + 2, 'each refusal is reported');

    // once the relay stops lying, the new member reads the real name and topic
    lie = (c) => c;
    await shows(cat, alpha, 'alpha', 'topic of alpha');
  });

  it('refuses an older topic served again, and an open channel\'s listed name changed by the relay', async () => {
    const id = await create(ann, 'rollback', 'old topic');
    await add(ann, id, 'ben');
    await shows(ben, id, 'rollback', 'old topic');
    const old = await onRelay(ann, id);
    await ann.engine.api.call('channels.setTopic', { conversation: id, topic: 'new topic' });
    await shows(ben, id, 'rollback', 'new topic');
    lie = (c) => (c.channelId === remoteId(id) ? { ...c, topic: old.topic } : c);
    assert.equal((await view(ben, id))?.topic, 'new topic', 'the older topic is not shown again');

    const lobby = await create(ann, 'square', 'public square', true);
    await dan.engine.api.call('channels.join', { channel: 'square' });
    await shows(dan, lobby, 'square', 'public square');
    const box = readChannelBox(fromBase64Url((await onRelay(ann, lobby)).name));
    const relisted = toBase64Url(encodeCbor({ v: 1, ...box, listed: 'decoy' }));
    lie = (c) => (c.channelId === remoteId(lobby) ? { ...c, name: relisted } : c);
    assert.equal((await view(dan, lobby))?.name, 'square', 'members check the listed name against the sealed one');
    assert.ok(undecryptable(dan, lobby) >= 1);
  });

  it('keeps no channel key from someone outside the channel, so a relay cannot get a name sealed under it shown', async () => {
    const id = await create(ann, 'secret-x', 'members only');
    await add(ann, id, 'ben');
    await shows(ben, id, 'secret-x', 'members only');
    // eve, in the organisation but not in the channel, runs a client of her own: from her vault's keys, with the
    // engine's own directory and protocol code, she sends ben a key for the channel and seals a name under it
    const eve = await org.addUser('eve');
    await eve.engine.close();
    const vault = await openVault({ dir: eve.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    try {
      const { profile } = await loadProfile(vault);
      const store = await VaultProtocolStore.load(vault);
      const http = new RelayHttp({ server: profile.server, pin: profile.pin, ca: profile.ca });
      http.setDevice(profile.deviceId, store.device().signing.secretKey);
      const directory = await Directory.load(http, vault, store, { keyChanged: () => {}, deviceAdded: () => {}, devicesRemoved: () => {} });
      const benDevice = { userId: 'ben', deviceId: ben.engine.deviceId };
      await directory.ensure('ben');
      const sessions = await directory.newSessions([benDevice], (error) => { throw error; });
      const evil = newChannelMetaKey();
      const payload = { id: newMessageId(), sentAt: Date.now(), timers: null, syncTo: null, group: null, kind: 'channel-key' as const, channelId: remoteId(id), keys: [evil] };
      const { frames } = encryptToDevices(store, [benDevice], payload, Date.now(), sessions);
      const socket = await WsClient.connect(org.url, await http.token());
      assert.equal((await socket.sendToDevices(frames.map((f) => ({ device: f.to.deviceId, body: f.frame })))).t, 'sent');
      await socket.close();
      await ben.waitFor(() => ben.events.some((x) => x.name === 'message.undecryptable' && /channel key from someone who is not a member/.test((x.payload as { reason: string }).reason)), 15_000, 'the refusal');
      const forged = toBase64Url(sealChannelField(evil, 'name', { text: 'forged-name', setAt: Date.now() + 3_600_000 }, { userId: 'eve', deviceId: profile.deviceId }));
      lie = (c) => (c.channelId === remoteId(id) ? { ...c, name: forged } : c);
      assert.equal((await view(ben, id))?.name, 'secret-x');
    } finally {
      await vault.lock();
    }
  });

  it('gives a device a member\'s sender key with the channel\'s keys, so it reads the name with nobody left to ask', async () => {
    const id = await create(ann, 'quiet', 'nobody home');
    for (const username of ['ben', 'cat']) await add(ann, id, username);
    await shows(cat, id, 'quiet', 'nobody home');
    const catPhone = await org.linkDevice(cat);
    await ann.engine.close();
    await cat.engine.close();
    // only ben is online: his first message to the channel gives cat's new device his sender key, and the channel's
    const sent = await ben.engine.api.call('messages.send', { conversation: id, text: 'anyone?' });
    await catPhone.waitFor(() => catPhone.received().some((m) => m.id === sent.id), 15_000, 'ben\'s message');
    await ben.engine.close();
    await shows(catPhone, id, 'quiet', 'nobody home');
    ann = await ann.reopen();
    ben = await ben.reopen();
    cat = await cat.reopen();
  });

  it('seals the first topic after a removal under a new key: a removed device that kept the old key cannot open it', async () => {
    const id = await create(ann, 'core-team', 'before the removal');
    for (const username of ['ben', 'cat']) await add(ann, id, username);
    await shows(cat, id, 'core-team', 'before the removal');
    await cat.engine.close(); // offline through the removal, so it keeps its keys (as a client that lies would)
    await ann.engine.api.call('channels.remove', { conversation: id, username: 'cat' });
    await ann.engine.api.call('channels.setTopic', { conversation: id, topic: 'after the removal' });
    await shows(ben, id, 'core-team', 'after the removal');
    const topic = readChannelBox(fromBase64Url((await onRelay(ann, id)).topic));
    const vault = await openVault({ dir: cat.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    try {
      const kept = await vault.all<{ key_id: number; key: Uint8Array }>('SELECT key_id, key FROM channel_keys WHERE channel_id = ?', [remoteId(id)]);
      assert.ok(kept.length >= 1, 'cat still holds the key it was given');
      assert.equal(kept.some((k) => k.key_id === topic.keyId), false, 'the new topic names a key cat never got');
      // even told which key id the box names, none of the keys cat kept opens it
      for (const k of kept) assert.throws(() => openChannelField(topic, 'topic', { keyId: topic.keyId, key: k.key }), /does not authenticate/);
    } finally {
      await vault.lock();
    }
    assert.equal(contains(fromBase64Url(served.find((c) => c.channelId === remoteId(id))!.topic), 'after the removal'), false);
  });
});
