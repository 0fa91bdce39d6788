// Three people with two devices each: every channel and direct message arrives on every device that should have
// it (the recipients' devices and the sender's other device), in order per sender, exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createChannel, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

describe('engine: three users, two devices each', () => {
  let org: TestOrg;
  const devices: Record<string, TestEngine[]> = {};

  before(async () => {
    org = await startOrg();
    for (const name of ['ann', 'ben', 'cat']) {
      const first = await org.addUser(name);
      devices[name] = [first, await org.linkDevice(first)];
    }
  });
  after(() => org.close());

  const all = () => Object.values(devices).flat();
  const messagesOn = (e: TestEngine, conversationPrefix: string) => e.received().filter((m) => m.conversation.startsWith(conversationPrefix) && !m.notice);

  it('links second devices that can read and write', async () => {
    const [ann1, ann2] = devices.ann!;
    const list = await ann1!.engine.api.call('devices.list', {});
    assert.equal(list.devices.filter((d) => d.status === 'active').length, 2);
    assert.deepEqual(list.devices.filter((d) => d.current).map((d) => d.id), [ann1!.engine.deviceId]);
    assert.notEqual(ann1!.engine.deviceId, ann2!.engine.deviceId);
  });

  it('delivers channel traffic from every device to every other device, in order, exactly once', async () => {
    const [ann1] = devices.ann!;
    await createChannel(ann1!, 'team', ['ben', 'cat']);
    const perDevice = 5;
    const sent: { id: string; from: TestEngine; text: string }[] = [];
    for (let i = 0; i < perDevice; i++) {
      for (const sender of all()) {
        const text = `${sender.username}/${sender.engine.deviceId.slice(0, 4)} #${i}`;
        const view = await sender.engine.api.call('messages.send', { conversation: await idOf(sender.engine.api, '#team'), text });
        sent.push({ id: view.id, from: sender, text });
      }
    }
    for (const device of all()) {
      const expected = sent.filter((s) => s.from !== device);
      await device.waitFor(() => messagesOn(device, 'c:').length >= expected.length, 30_000, 'all channel messages');
      const got = messagesOn(device, 'c:');
      assert.equal(got.length, expected.length, `${device.username}: exactly once`);
      assert.deepEqual(new Set(got.map((m) => m.id)), new Set(expected.map((s) => s.id)));
      for (const sender of all().filter((s) => s !== device)) {
        const order = got.filter((m) => m.senderDevice === sender.engine.deviceId).map((m) => m.text);
        assert.deepEqual(order, sent.filter((s) => s.from === sender).map((s) => s.text), 'in order per sender device');
      }
    }
  });

  it('delivers a direct message to both recipient devices and to the sender\'s other device', async () => {
    const [ann1, ann2] = devices.ann!;
    const [ben1, ben2] = devices.ben!;
    const [cat1, cat2] = devices.cat!;
    const view = await ann1!.engine.api.call('messages.send', { conversation: await idOf(ann1!.engine.api, '@ben'), text: 'just for ben' });
    for (const device of [ben1!, ben2!]) {
      const got = await device.waitFor(() => device.received().find((m) => m.id === view.id), 15_000, 'the DM');
      assert.equal(got.conversation, 'd:ann');
      assert.equal(got.outgoing, false);
    }
    const copy = await ann2!.waitFor(() => ann2!.received().find((m) => m.id === view.id), 15_000, 'the sync copy');
    assert.equal(copy.conversation, 'd:ben', 'the copy lands in the conversation with ben');
    assert.equal(copy.outgoing, true);
    const reply = await ben2!.engine.api.call('messages.send', { conversation: await idOf(ben2!.engine.api, '@ann'), text: 'got it' });
    for (const device of [ann1!, ann2!, ben1!]) await device.waitFor(() => device.received().find((m) => m.id === reply.id), 15_000, 'the reply');
    await ann1!.engine.api.call('sync.now', {});
    for (const device of [cat1!, cat2!]) {
      await device.engine.api.call('sync.now', {});
      assert.equal(device.received().filter((m) => m.conversation.startsWith('d:')).length, 0, 'cat sees no direct messages between others');
    }
    for (const device of [ben1!, ben2!]) assert.equal(device.received().filter((m) => m.id === view.id).length, 1, 'exactly once');
  });
});
