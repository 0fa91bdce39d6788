// Devices of one account: linking with approval, linking with the recovery kit, and who may approve.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

describe('engine: devices', () => {
  let org: TestOrg;
  let eve: TestEngine;
  let fay: TestEngine;

  before(async () => {
    org = await startOrg();
    eve = await org.addUser('eve');
    fay = await org.addUser('fay');
  });
  after(() => org.close());

  it('shows the recovery kit once at join, in a form the kit parser reads back', () => {
    assert.match(eve.recoveryKit ?? '', /^WRK1\.[A-Za-z0-9_-]+\.[A-Z2-7-]+$/);
  });

  it('links a device with the recovery kit alone, and that device can approve further devices', async () => {
    const recovered = await org.linkDevice(eve, eve.recoveryKit);
    const devices = (await recovered.engine.api.call('devices.list', {})).devices.filter((d) => d.status === 'active');
    assert.equal(devices.length, 2);
    const sent = await fay.engine.api.call('messages.send', { conversation: await idOf(fay.engine.api, '@eve'), text: 'for every eve device' });
    for (const device of [eve, recovered]) await device.waitFor(() => device.received().find((m) => m.id === sent.id), 15_000, 'the DM');
    const third = await org.linkDevice(recovered);
    const back = await third.engine.api.call('messages.send', { conversation: await idOf(third.engine.api, '@fay'), text: 'from the third device' });
    await fay.waitFor(() => fay.received().find((m) => m.id === back.id), 15_000, 'the reply');
    await eve.waitFor(() => eve.received().find((m) => m.id === back.id), 15_000, 'the copy on the first device');
  });

  it('names devices end to end to the account\'s own devices, and revokes a lost one: it stops receiving and contacts stop trusting it', async () => {
    const hal = await org.addUser('hal');
    const laptop = await org.linkDevice(hal);
    await laptop.engine.api.call('devices.rename', { name: 'work laptop\u202e' });
    await hal.engine.api.call('devices.rename', { name: 'phone' });
    // names arrive end to end and raise no event: poll the list
    let list: { id: string; name: string; status: string; current: boolean }[] = [];
    for (let i = 0; i < 100; i++) {
      list = (await hal.engine.api.call('devices.list', {})).devices;
      if (list.some((d) => d.name === 'work laptop')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(list.filter((d) => d.status === 'active').map((d) => [d.name, d.current]).sort(), [['phone', true], ['work laptop', false]], 'names cleaned, as each device chose them');

    await assert.rejects(laptop.engine.api.call('devices.revoke', { deviceId: hal.engine.deviceId }), (e: { code: string }) => e.code === 'FORBIDDEN', 'a linked device holds no account key');
    await assert.rejects(hal.engine.api.call('devices.revoke', { deviceId: hal.engine.deviceId }), (e: { code: string }) => e.code === 'INVALID');
    const revoked = await hal.engine.api.call('devices.revoke', { deviceId: laptop.engine.deviceId });
    assert.deepEqual([revoked.name, revoked.status], ['work laptop', 'revoked']);
    assert.equal((await hal.engine.api.call('devices.list', {})).devices.find((d) => d.id === laptop.engine.deviceId)?.status ?? 'gone', 'gone', 'the relay no longer lists it');
    await laptop.waitFor(() => laptop.events.find((e) => e.name === 'connection.state' && (e.payload as { state: string }).state === 'offline'), 15_000, 'the laptop cut off');

    const after = await fay.engine.api.call('messages.send', { conversation: await idOf(fay.engine.api, '@hal'), text: 'after the revocation' });
    await hal.waitFor(() => hal.received().find((m) => m.id === after.id), 15_000, 'the message on the phone');
    await fay.engine.api.call('sync.now', {});
    assert.ok(!laptop.received().some((m) => m.id === after.id), 'the revoked laptop gets nothing new');
    await assert.rejects(hal.engine.api.call('devices.revoke', { deviceId: laptop.engine.deviceId }), (e: { code: string }) => e.code === 'NOT_FOUND');
  });

  it('refuses approval from a device without the account key, and anything that is not a link code', async () => {
    const linked = await org.linkDevice(fay);
    await assert.rejects(linked.engine.api.call('devices.approve', { code: 'WDL1.AAAA' }), /cannot change the account's devices/);
    await assert.rejects(fay.engine.api.call('devices.approve', { code: 'not a code' }), /not a device link code/);
  });

  it('refuses a recovery kit that belongs to another account, and leaves no profile behind', async () => {
    await assert.rejects(org.linkDevice(eve, fay.recoveryKit!), /that recovery kit is not for @eve/);
    const active = (await eve.engine.api.call('devices.list', {})).devices.filter((d) => d.status === 'active');
    assert.equal(active.length, 3, 'eve still has exactly the devices she linked');
  });
});
