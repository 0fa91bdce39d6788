// The engine process as the Electron shell runs it, minus Electron: electron/engine-service.ts in a worker thread
// (standing in for the utility process), main's EngineClient in this thread, a real relay, real vaults and real
// engines. Electron's runtime cannot run here; its ports and safeStorage are the stand-ins (Node's MessageChannel,
// and test/support/safe-storage.ts, which really encrypts). Proves: each window gets its own session and its
// events with seq; the vault key is wrapped with the OS keystore at join and unlocks without the passphrase on
// the next start; an app lock is not undone by the keystore; a changed or missing keystore gets a clear message
// and the passphrase, which re-wraps; lockAll locks; main's presenter notifies, counts unread and applies
// screen-capture protection from the real engine's events; a dead engine process is noticed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineClient } from '../../../electron/engine-client.ts';
import { APP_LOCK_MARKER } from '../../../electron/keystore-host.ts';
import { keystoreHandlers, safeStorageKeystore, type SafeStorageLike } from '../../../electron/keystore.ts';
import { WindowPresenter } from '../../../electron/presenter.ts';
import type { RpcPeer } from '../../../electron/rpc.ts';
import { startOrg, type TestOrg } from '../../support/engines.ts';
import { workerLink } from '../../support/node-ports.ts';
import { standInSafeStorage } from '../../support/safe-storage.ts';
import { tempDir } from '../../support/server-client.ts';

const PASS = 'electron shell passphrase';
const WORKER = path.resolve(import.meta.dirname, '../../support/engine-service-worker.ts');
const code = (expected: string, message?: RegExp) => (error: { code?: string; message: string }) => error.code === expected && (message === undefined || message.test(error.message));

type Seen = { name: string; payload: Record<string, unknown>; seq: number };

interface Running {
  client: EngineClient;
  worker: Worker;
  exits: number;
  /** a window's channel, recording its events */
  window(id: number, onEvent?: (name: string, payload: Record<string, unknown>, seq: number) => void): { peer: RpcPeer; seen: Seen[] };
  close(): Promise<void>;
}

/** Starts the engine service in a worker as main starts the utility process; main's keystore stays on this side. */
async function startEngine(root: string, storage: SafeStorageLike | null): Promise<Running> {
  const keystore = storage ? safeStorageKeystore(storage, 'linux') : null;
  const status = keystore ? await keystore.status() : { available: false as const, reason: 'no keyring is running' };
  const worker = new Worker(WORKER, { workerData: { root, keystore: status, env: { WARDROOM_KDF: 'interactive' } } });
  const running: Running = {
    worker,
    exits: 0,
    client: new EngineClient(workerLink(worker), { handlers: keystore ? keystoreHandlers(keystore) : {}, onExit: () => running.exits++, log: () => {} }),
    window(id, onEvent) {
      const seen: Seen[] = [];
      const peer = running.client.window(id, (name, payload, seq) => {
        seen.push({ name, payload, seq });
        onEvent?.(name, payload, seq);
      });
      return { peer, seen };
    },
    async close() {
      await running.client.close(10_000);
      await worker.terminate();
    },
  };
  return running;
}

async function until<T>(find: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('electron: the engine process', () => {
  let org: TestOrg;
  let root = '';
  let storage: ReturnType<typeof standInSafeStorage>;
  let engine: Running;
  let main: { peer: RpcPeer; seen: Seen[] };
  const profileDir = () => path.join(root, 'alice');

  before(async () => {
    org = await startOrg();
    root = path.join(tempDir('wardroom-electron-'), 'profiles');
    storage = standInSafeStorage();
    engine = await startEngine(root, storage);
    main = engine.window(1);
  });
  after(async () => {
    await engine?.close();
    await org.close();
  });

  it('answers a window\'s calls from its own session, with the host\'s events and their seq', async () => {
    assert.deepEqual(await main.peer.call('profiles.list'), { profiles: [] });
    const { link } = await org.admin.engine.api.call('org.invite', { admin: false });
    const joined = await main.peer.call('profiles.join', { profile: 'alice', link, username: 'alice', passphrase: PASS }) as { profile: unknown; recoveryKit: string };
    assert.deepEqual(joined.profile, { name: 'alice', state: 'open', username: 'alice' });
    assert.equal(((await main.peer.call('account.whoami')) as { username: string }).username, 'alice');
    const states = main.seen.filter((e) => e.name === 'profile.state');
    assert.deepEqual(states.map((e) => e.payload.state), ['unlocking', 'open']);
    assert.ok(states[1]!.seq > states[0]!.seq);
    await assert.rejects(main.peer.call('profiles.nope'), code('UNKNOWN_COMMAND'));
    await assert.rejects(main.peer.call('messages.send', { conversation: 'd:bob', text: 'x', extra: 1 }), code('BAD_REQUEST'));
  });

  it('wraps the new profile\'s key with the OS keystore as it joins', () => {
    assert.deepEqual(storage.calls, ['encrypt']);
  });

  it('gives each window its own session', async () => {
    const second = engine.window(2);
    await assert.rejects(second.peer.call('account.whoami'), code('LOCKED', /no profile is open/));
    assert.deepEqual(await second.peer.call('profiles.select', { profile: 'alice' }), { name: 'alice', state: 'open', username: 'alice' });
    assert.equal(((await second.peer.call('account.whoami')) as { username: string }).username, 'alice');
    second.peer.close();
    assert.equal(((await main.peer.call('account.whoami')) as { username: string }).username, 'alice', 'the other window is unaffected');
  });

  it('presents the real engine\'s events: a notification without content, the unread badge, screen-capture protection', async () => {
    const shown: { title: string; body: string }[] = [];
    const badges: number[] = [];
    const protection: boolean[] = [];
    const window = engine.window(3, (name, payload, seq) => presenter.onEvent(name, payload, seq));
    const presenter: WindowPresenter = new WindowPresenter({
      toWindow: () => {},
      call: (name, request) => window.peer.call(name, request),
      showNotification: (n) => shown.push(n),
      dismissNotification: () => {},
      setContentProtection: (on) => protection.push(on),
      setBadge: (n) => badges.push(n),
      isFocused: () => false,
      log: () => {},
      delayMs: 10,
    });
    await window.peer.call('profiles.select', { profile: 'alice' });
    presenter.afterCall('profiles.select');
    await presenter.settled();
    assert.deepEqual(protection, [false], 'off by default');
    assert.equal(badges.at(-1), 0);

    await org.admin.engine.api.call('messages.send', { conversation: 'd:alice', text: 'the launch code is 0000' });
    const received = await until(() => window.seen.find((e) => e.name === 'message.received'), 'the message');
    assert.deepEqual(shown, [{ title: 'Wardroom', body: 'New message' }], 'no sender, no text');
    await until(() => badges.at(-1) === 1, 'the badge at 1');

    await window.peer.call('messages.markRead', { conversation: received.payload.conversation, upTo: received.payload.id });
    presenter.afterCall('messages.markRead');
    await until(() => badges.at(-1) === 0, 'the badge back at 0');

    await window.peer.call('settings.set', { screenCaptureProtection: true, notificationContent: true });
    await until(() => protection.at(-1) === true, 'protection on');
    await org.admin.engine.api.call('messages.send', { conversation: 'd:alice', text: 'second' });
    await until(() => shown.length === 2, 'the second notification');
    assert.deepEqual(shown[1], { title: 'admin', body: 'second' }, 'content once the user turned it on');
    presenter.close();
    window.peer.close();
  });

  it('locks every profile on lockAll; the keystore cannot undo that app lock, the passphrase can', async () => {
    await engine.client.lockAll();
    await until(() => main.seen.some((e) => e.name === 'profile.state' && e.payload.state === 'locked' && e.payload.reason === 'system'), 'the lock event');
    assert.ok(existsSync(path.join(profileDir(), APP_LOCK_MARKER)));
    await assert.rejects(main.peer.call('profiles.unlock', { profile: 'alice' }), code('VAULT_KEYSTORE_UNAVAILABLE', /^Wardroom locked this profile: unlock it with your passphrase\.$/));
    await assert.rejects(main.peer.call('profiles.unlock', { profile: 'alice', passphrase: 'wrong passphrase!' }), code('WRONG_PASSPHRASE'));
    assert.equal(((await main.peer.call('profiles.unlock', { profile: 'alice', passphrase: PASS })) as { state: string }).state, 'open');
    assert.ok(!existsSync(path.join(profileDir(), APP_LOCK_MARKER)));
    assert.deepEqual(storage.calls, ['encrypt'], 'the slot was current: nothing re-wrapped');
  });

  it('unlocks without the passphrase after the app quit and started again', async () => {
    await engine.close();
    assert.ok(!existsSync(path.join(profileDir(), APP_LOCK_MARKER)), 'quitting is not an app lock');
    engine = await startEngine(root, storage);
    main = engine.window(1);
    assert.deepEqual(await main.peer.call('profiles.unlock', { profile: 'alice' }), { name: 'alice', state: 'open', username: 'alice' });
    assert.deepEqual(storage.calls, ['encrypt', 'decrypt']);
  });

  it('when the keystore changed: a clear message, the passphrase, and the key wrapped again', async () => {
    await engine.close();
    storage = standInSafeStorage(); // a reset keystore: same provider, another secret
    engine = await startEngine(root, storage);
    main = engine.window(1);
    await assert.rejects(main.peer.call('profiles.unlock', { profile: 'alice' }), code('VAULT_KEYSTORE_UNAVAILABLE', /could not unlock this profile \(it was reset, or this is another computer or user account\): unlock with your passphrase/));
    assert.equal(((await main.peer.call('profiles.unlock', { profile: 'alice', passphrase: PASS })) as { state: string }).state, 'open');
    assert.deepEqual(storage.calls, ['decrypt', 'encrypt'], 'tried, then re-wrapped for this keystore');
    await engine.close();
    engine = await startEngine(root, storage);
    main = engine.window(1);
    assert.equal(((await main.peer.call('profiles.unlock', { profile: 'alice' })) as { state: string }).state, 'open', 'the new wrap works');
  });

  it('when there is no keystore: the passphrase, and the slot kept for when it comes back', async () => {
    await engine.close();
    engine = await startEngine(root, null);
    main = engine.window(1);
    await assert.rejects(main.peer.call('profiles.unlock', { profile: 'alice' }), code('VAULT_KEYSTORE_UNAVAILABLE', /system keystore is not available \(no keyring is running\): unlock with your passphrase/));
    assert.equal(((await main.peer.call('profiles.unlock', { profile: 'alice', passphrase: PASS })) as { state: string }).state, 'open');
    await engine.close();
    engine = await startEngine(root, storage);
    main = engine.window(1);
    assert.equal(((await main.peer.call('profiles.unlock', { profile: 'alice' })) as { state: string }).state, 'open', 'the keystore is back, and so is its slot');
  });

  it('notices when the engine process dies: calls in flight fail with DISCONNECTED', async () => {
    const pending = assert.rejects(main.peer.call('sync.now', {}), code('DISCONNECTED'));
    await engine.worker.terminate();
    await pending;
    await until(() => engine.exits === 1, 'onExit');
    await assert.rejects(engine.client.lockAll(), code('DISCONNECTED'));
    engine = await startEngine(root, storage); // for after()
  });
});
