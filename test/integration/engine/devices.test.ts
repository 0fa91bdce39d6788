// Devices of one account: linking with approval, linking with the recovery kit, and who may approve.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOrg, type TestEngine, type TestOrg } from '../../support/engines.ts';

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
    const sent = await fay.engine.api.call('messages.send', { target: '@eve', text: 'for every eve device' });
    for (const device of [eve, recovered]) await device.waitFor(() => device.received().find((m) => m.id === sent.id), 15_000, 'the DM');
    const third = await org.linkDevice(recovered);
    const back = await third.engine.api.call('messages.send', { target: '@fay', text: 'from the third device' });
    await fay.waitFor(() => fay.received().find((m) => m.id === back.id), 15_000, 'the reply');
    await eve.waitFor(() => eve.received().find((m) => m.id === back.id), 15_000, 'the copy on the first device');
  });

  it('refuses approval from a device without the account key, and anything that is not a link code', async () => {
    const linked = await org.linkDevice(fay);
    await assert.rejects(linked.engine.api.call('devices.approve', { code: 'WDL1.AAAA' }), /cannot approve others/);
    await assert.rejects(fay.engine.api.call('devices.approve', { code: 'not a code' }), /not a device link code/);
  });

  it('refuses a recovery kit that belongs to another account, and leaves no profile behind', async () => {
    await assert.rejects(org.linkDevice(eve, fay.recoveryKit!), /that recovery kit is not for @eve/);
    const active = (await eve.engine.api.call('devices.list', {})).devices.filter((d) => d.status === 'active');
    assert.equal(active.length, 3, 'eve still has exactly the devices she linked');
  });

  it('tops up one-time prekeys when the relay says the stock is low', async () => {
    const device = fay.engine.deviceId;
    const store = org.server.store;
    while (store.prekeyStock(device).oneTime > 10) store.claimPrekeys(device);
    const newcomer = await org.addUser('gus');
    const hello = await newcomer.engine.api.call('messages.send', { target: '@fay', text: 'first contact' }); // claims one more
    await fay.waitFor(() => fay.received().find((m) => m.id === hello.id), 15_000, 'the first message');
    await fay.waitFor(() => store.prekeyStock(device).oneTime >= 100, 15_000, 'a fresh batch of prekeys');
  });
});
