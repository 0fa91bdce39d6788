// The OS keystore: the decisions (keystore-plan.ts: when the keystore may unlock, what the user is told when it
// cannot, what happens to the slot after a passphrase unlock) as a table, and the safeStorage keystore with its
// RPC handlers. Electron's safeStorage is the one stand-in (test/support/safe-storage.ts): it really encrypts,
// under a secret of its own, as the OS keystore does under the user's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { keystoreHandlers, safeStorageKeystore } from '../../../electron/keystore.ts';
import { planUnlock, slotAfterPassphrase, type KeystoreStatus, type ProfileKeystoreState } from '../../../electron/keystore-plan.ts';
import { standInSafeStorage } from '../../support/safe-storage.ts';

const HERE = 'electron-safestorage/linux/gnome_libsecret';
const available: KeystoreStatus = { available: true, provider: HERE };
const away: KeystoreStatus = { available: false, reason: 'no keyring is running' };
const state = (change: Partial<ProfileKeystoreState>): ProfileKeystoreState => ({ slot: HERE, keystore: available, unwrapFailed: false, appLocked: false, ...change });

describe('electron: the keystore plan', () => {
  it('lets the keystore unlock only a profile it holds, that the app has not locked', () => {
    assert.deepEqual(planUnlock(state({})), { use: 'keystore' });
  });

  it('asks for the passphrase, saying why and what happens next, in every other case', () => {
    const cases: Array<[Partial<ProfileKeystoreState>, string, RegExp]> = [
      [{ appLocked: true }, 'locked', /Wardroom locked this profile: unlock it with your passphrase/],
      [{ slot: null }, 'no-slot', /does not keep this profile's key yet.*keep it for next time/],
      [{ keystore: away }, 'keystore-unavailable', /not available \(no keyring is running\).*again once it is back/],
      [{ keystore: away, slot: null }, 'keystore-unavailable', /passphrase: the system keystore is not available \(no keyring is running\)/],
      [{ slot: 'electron-safestorage/darwin' }, 'other-keystore', /kept by another keystore \(electron-safestorage\/darwin\).*from now on/],
      [{ unwrapFailed: true }, 'keystore-changed', /could not unlock this profile \(it was reset, or this is another computer or user account\).*keep the key again/],
      // the app lock wins over everything: a keystore that works must not undo it
      [{ appLocked: true, slot: null, keystore: away }, 'locked', /Wardroom locked this profile/],
    ];
    for (const [change, reason, message] of cases) {
      const plan = planUnlock(state(change));
      assert.equal(plan.use, 'passphrase', JSON.stringify(change));
      assert.equal((plan as { reason: string }).reason, reason, JSON.stringify(change));
      assert.match((plan as { message: string }).message, message, JSON.stringify(change));
      assert.match((plan as { message: string }).message, /passphrase/, 'every refusal names the way out');
    }
  });

  it('after a passphrase unlock, wraps the key for this keystore where it is missing or stale, and only then', () => {
    assert.equal(slotAfterPassphrase(state({ slot: null })), 'wrap');
    assert.equal(slotAfterPassphrase(state({ slot: 'electron-safestorage/win32' })), 'rewrap');
    assert.equal(slotAfterPassphrase(state({ unwrapFailed: true })), 'rewrap');
    assert.equal(slotAfterPassphrase(state({})), 'keep');
    assert.equal(slotAfterPassphrase(state({ appLocked: true })), 'keep');
    // a keystore that is away keeps its slot: it may come back, and the passphrase works meanwhile
    assert.equal(slotAfterPassphrase(state({ keystore: away })), 'keep');
    assert.equal(slotAfterPassphrase(state({ keystore: away, slot: null })), 'keep');
  });
});

describe('electron: the safeStorage keystore', () => {
  it('names its platform and backend, and refuses what protects nothing', async () => {
    assert.deepEqual(await safeStorageKeystore(standInSafeStorage(), 'linux').status(), { available: true, provider: HERE });
    assert.deepEqual(await safeStorageKeystore(standInSafeStorage({ backend: 'kwallet6' }), 'linux').status(), { available: true, provider: 'electron-safestorage/linux/kwallet6' });
    assert.deepEqual(await safeStorageKeystore(standInSafeStorage(), 'darwin').status(), { available: true, provider: 'electron-safestorage/darwin' });
    assert.deepEqual(await safeStorageKeystore(standInSafeStorage(), 'win32').status(), { available: true, provider: 'electron-safestorage/win32' });
    const basic = await safeStorageKeystore(standInSafeStorage({ backend: 'basic_text' }), 'linux').status();
    assert.equal(basic.available, false);
    assert.match((basic as { reason: string }).reason, /key known to everyone/);
    assert.equal((await safeStorageKeystore(standInSafeStorage({ backend: 'unknown' }), 'linux').status()).available, false);
    assert.equal((await safeStorageKeystore(standInSafeStorage({ available: false }), 'darwin').status()).available, false);
  });

  it('wraps a 32-byte key and unwraps it again; another keystore cannot', async () => {
    const keystore = safeStorageKeystore(standInSafeStorage(), 'linux');
    const key = randomBytes(32);
    const blob = await keystore.wrap(key);
    assert.notDeepEqual(Buffer.from(blob).subarray(0, 32), Buffer.from(key));
    assert.deepEqual(await keystore.unwrap(blob), key);
    await assert.rejects(safeStorageKeystore(standInSafeStorage(), 'linux').unwrap(blob));
    await assert.rejects(keystore.wrap(randomBytes(16)), /32-byte key/);
    await assert.rejects(keystore.unwrap(new Uint8Array(0)), /impossible length/);
  });

  it('refuses a decryption that is not a vault key', async () => {
    const storage = standInSafeStorage();
    const keystore = safeStorageKeystore(storage, 'linux');
    const notAKey = await storage.encryptStringAsync('hello');
    await assert.rejects(keystore.unwrap(new Uint8Array(notAKey)), (error: { code?: string }) => error.code === 'VAULT_KEYSTORE_UNAVAILABLE');
  });

  it('answers the engine process only well-formed requests, with the contract\'s codes', async () => {
    const handlers = keystoreHandlers(safeStorageKeystore(standInSafeStorage(), 'linux'));
    const key = Buffer.from(randomBytes(32)).toString('base64url');
    const { blob } = await handlers['keystore.wrap']({ key }) as { blob: string };
    assert.deepEqual(await handlers['keystore.unwrap']({ blob }), { key });
    for (const bad of [{}, { key: 'short' }, { key, extra: 1 }, { key: `${key.slice(0, 42)}!` }, null]) {
      await assert.rejects(handlers['keystore.wrap'](bad), (error: { code?: string }) => error.code === 'BAD_REQUEST', JSON.stringify(bad));
    }
    await assert.rejects(handlers['keystore.unwrap']({ blob: 'A'.repeat(4097) }), (error: { code?: string }) => error.code === 'BAD_REQUEST');
    // a blob of another keystore: the code says to use the passphrase, the message says nothing of internals
    const other = await keystoreHandlers(safeStorageKeystore(standInSafeStorage(), 'linux'))['keystore.wrap']({ key }) as { blob: string };
    await assert.rejects(handlers['keystore.unwrap'](other), (error: { code?: string; message: string }) => error.code === 'VAULT_KEYSTORE_UNAVAILABLE' && /could not unwrap/.test(error.message));
  });
});
