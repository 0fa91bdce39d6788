// When the vault cannot write a batch (a full disk, an I/O error), the engine stops instead of running ahead of
// its own storage: nothing is acknowledged, every command says what happened, and after a restart every message
// arrives exactly once. The failure is injected with an SQLite trigger that aborts one insert, a real write error
// raised inside the real SQLCipher database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { PASSPHRASE, startOrg, type TestEngine, type TestOrg, idOf } from '../../support/engines.ts';

describe('engine: a vault that fails to write', () => {
  let org: TestOrg;
  let alice: TestEngine;
  let bob: TestEngine;

  before(async () => {
    org = await startOrg();
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
  });
  after(() => org.close());

  /** Runs SQL on bob's vault while his engine is closed; `between` runs before he comes back. */
  async function onBobsVault(sql: string, between: () => Promise<void> = async () => {}) {
    await bob.engine.close();
    const vault = await openVault({ dir: bob.profileDir, passphrase: PASSPHRASE, migrations: PROFILE_MIGRATIONS });
    await vault.run(sql);
    await vault.lock();
    await between();
    bob = await bob.reopen();
  }

  it('stops, says so, and loses nothing', async () => {
    const warm = await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text: 'warm-up' });
    await bob.waitFor(() => bob.received().find((m) => m.id === warm.id), 15_000, 'the warm-up');
    // bob is away while 80 messages queue, the second of them poisoned, so his backlog spans several batches
    const texts = ['before', 'poison', ...Array.from({ length: 78 }, (_, i) => `after ${i}`)];
    await onBobsVault("CREATE TRIGGER simulated_failure BEFORE INSERT ON messages WHEN new.body = 'poison' BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END", async () => {
      for (const text of texts) await alice.engine.api.call('messages.send', { conversation: await idOf(alice.engine.api, '@bob'), text });
    });
    // the batch holding 'poison' cannot commit: from then on every command refuses with the reason
    const refusal = async () => {
      for (let i = 0; i < 300; i++) {
        await bob.engine.api.call('messages.list', { conversation: await idOf(bob.engine.api, '@alice'), limit: 5 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await assert.rejects(refusal, (e: Error & { code?: string }) => e.code === 'VAULT' && /could not be written/.test(e.message));
    assert.equal(bob.received().some((m) => m.text === 'poison' || m.text.startsWith('after')), false, 'nothing from the failed batch onwards was shown');

    await onBobsVault('DROP TRIGGER simulated_failure');
    await bob.engine.api.call('sync.now', {});
    const history = (await bob.engine.api.call('messages.list', { conversation: await idOf(bob.engine.api, '@alice'), limit: 100 })).messages.map((m) => m.text);
    assert.deepEqual(history, ['warm-up', ...texts], 'every message, once, in order');
  });
});
