// Housekeeping that keeps a long-lived device safe: the signed prekey is rotated weekly and uploaded, and the
// record of seen message ids is trimmed after its retention, so it does not grow for ever. Time is moved forward
// through the engine's clock option; nothing waits for real days.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../../core/engine/engine.ts';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { PASSPHRASE, startOrg, watch, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

const DAY = 24 * 3600 * 1000;

describe('engine: housekeeping', () => {
  let org: TestOrg;
  let eve: TestEngine;
  let fay: TestEngine;

  before(async () => {
    org = await startOrg();
    eve = await org.addUser('eve');
    fay = await org.addUser('fay');
  });
  after(() => org.close());

  const seenRows = async (profileDir: string) => {
    const vault = await openVault({ dir: profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    try {
      return (await vault.get<{ n: number }>("SELECT count(*) AS n FROM kv WHERE key >= 'p:seen' || char(1) AND key < 'p:seen' || char(2)"))!.n;
    } finally {
      await vault.lock();
    }
  };

  it('rotates the signed prekey after a week, uploads it, and forgets seen ids after their retention', async () => {
    const device = eve.engine.deviceId;
    const signedBefore = org.server.store.claimPrekeys(device).signedPrekey!.keyId;
    for (let i = 0; i < 3; i++) {
      const sent = await fay.engine.api.call('messages.send', { conversation: await idOf(fay.engine.api, '@eve'), text: `note ${i}` });
      await eve.waitFor(() => eve.received().find((m) => m.id === sent.id), 15_000, 'a message');
    }
    await eve.engine.close();
    assert.equal(await seenRows(eve.profileDir), 3);

    const later = () => Date.now() + 31 * DAY;
    eve = watch(await Engine.open({ profileDir: eve.profileDir, passphrase: PASSPHRASE, now: later }), eve.profileDir, { now: later }, org.engines);
    await eve.waitFor(() => org.server.store.claimPrekeys(device).signedPrekey!.keyId !== signedBefore, 15_000, 'a new signed prekey on the relay');

    // someone new starts a session with the rotated prekey
    const gus = await org.addUser('gus');
    const hello = await gus.engine.api.call('messages.send', { conversation: await idOf(gus.engine.api, '@eve'), text: 'hello after the rotation' });
    await eve.waitFor(() => eve.received().find((m) => m.id === hello.id), 15_000, 'the first message on the new prekey');
    await eve.engine.close();
    assert.equal(await seenRows(eve.profileDir), 1, 'the three old ids are gone; the new one is kept');
  });
});
