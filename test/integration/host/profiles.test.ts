// The host side of the contract, in-process: profiles in an app data directory created by joining and linking,
// locked and unlocked again in one process (locking closes the vault), idle and system locking, removal, and a
// session that answers only host commands while its profile is locked. Real relay, real vaults.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openVault } from '../../../core/vault/index.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { createSession, ProfileHost, type Session } from '../../../core/host/index.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

const PASS = 'host test passphrase';
const env = { WARDROOM_KDF: 'interactive' };

describe('host: profiles and the session', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let host: ProfileHost;
  let session: Session;
  let clock = Date.now();
  let recoveryKit = '';
  const seen: { name: string; payload: unknown }[] = [];
  const call = (name: string, request: object = {}) => session.callUntyped(name, request) as Promise<Record<string, unknown>>;
  const code = (expected: string) => (error: { code?: string }) => error.code === expected;
  const states = (profile: string) => seen.filter((e) => e.name === 'profile.state' && (e.payload as { profile: string }).profile === profile)
    .map((e) => { const p = e.payload as { state: string; reason?: string }; return p.reason ? `${p.state}:${p.reason}` : p.state; });

  before(async () => {
    server = await startTestServer();
    host = new ProfileHost({ root: path.join(tempDir(), 'app'), env, now: () => clock, idleCheckMs: 20, firstInvite: server.firstAdminInvite! });
    session = createSession(host);
    session.onAny((name, payload) => seen.push({ name, payload }));
  });
  after(async () => {
    session.close();
    await host.close();
    await server.close();
  });

  it('answers only host commands before a profile is open, offering its first invite', async () => {
    assert.deepEqual(await call('profiles.list'), { profiles: [] });
    assert.deepEqual(await call('app.welcome'), { invite: server.firstAdminInvite });
    await assert.rejects(call('account.whoami'), code('LOCKED'));
    await assert.rejects(call('profiles.unlock', { profile: '../etc', passphrase: PASS }), code('BAD_REQUEST'));
    await assert.rejects(call('profiles.nope'), code('UNKNOWN_COMMAND'));
  });

  it('creates a profile by joining, opens and selects it, and says so in events', async () => {
    const joined = await call('profiles.join', { profile: 'alice', link: server.firstAdminInvite!, username: 'alice', passphrase: PASS });
    recoveryKit = joined.recoveryKit as string;
    assert.deepEqual(joined.profile, { name: 'alice', state: 'open', username: 'alice' });
    assert.deepEqual(states('alice'), ['unlocking', 'open']);
    assert.equal((await call('account.whoami')).username, 'alice');
    assert.deepEqual(await call('profiles.list'), { profiles: [{ name: 'alice', state: 'open', username: 'alice' }], current: 'alice' });
    await call('messages.send', { conversation: 'd:alice', text: 'a note to self' });
    assert.deepEqual(await call('app.welcome'), {}, 'the first invite is offered only while no profile exists');
  });

  it('locks and unlocks in the same process: locked, the vault is closed and engine commands are refused', async () => {
    assert.deepEqual(await call('profiles.lock', { profile: 'alice' }), { name: 'alice', state: 'locked', username: 'alice' });
    await assert.rejects(call('account.whoami'), code('LOCKED'));
    // the vault was closed: this process can open it itself (it could not while the engine held it)
    const vault = await openVault({ dir: host.dirOf('alice'), passphrase: PASS, migrations: PROFILE_MIGRATIONS });
    await vault.lock();
    await assert.rejects(call('profiles.unlock', { profile: 'alice', passphrase: 'not the passphrase' }), code('WRONG_PASSPHRASE'));
    // without a passphrase only a platform keystore could unlock, and this host has none (the desktop app's has)
    await assert.rejects(call('profiles.unlock', { profile: 'alice' }), (error: { code?: string; message: string }) => error.code === 'BAD_REQUEST' && /no platform keystore: unlock with the passphrase/.test(error.message));
    assert.equal((await call('profiles.list') as { profiles: { state: string }[] }).profiles[0]!.state, 'locked');
    await call('profiles.unlock', { profile: 'alice', passphrase: PASS });
    const history = await call('messages.list', { conversation: 'd:alice' }) as { messages: { text: string }[] };
    assert.deepEqual(history.messages.map((m) => m.text), ['a note to self']);
    assert.deepEqual(states('alice').slice(-7), ['locked:requested', 'unlocking', 'locked:failed', 'unlocking', 'locked:failed', 'unlocking', 'open']);
  });

  it('locks after the idle time in the settings, counted from the last activity the front end reported', async () => {
    await call('settings.set', { lockAfterSeconds: 60 });
    clock += 50_000;
    await call('app.activity');
    clock += 50_000; // 100 s since the unlock, but only 50 s since the activity
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(host.view('alice').state, 'open');
    clock += 20_000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(host.view('alice').state, 'locked');
    assert.equal(states('alice').at(-1), 'locked:idle');
    await assert.rejects(call('account.whoami'), code('LOCKED'));
  });

  it('links a second profile with the recovery kit, and locks everything when the system locks', async () => {
    await call('profiles.unlock', { profile: 'alice', passphrase: PASS });
    await call('settings.set', { lockAfterSeconds: 0 });
    const linked = await call('profiles.link', { profile: 'laptop', link: server.firstAdminInvite!, username: 'alice', passphrase: PASS, recoveryKit });
    assert.deepEqual(linked.profile, { name: 'laptop', state: 'open', username: 'alice' });
    assert.equal((await call('profiles.list') as { current: string }).current, 'laptop');
    await call('app.lockAll');
    assert.deepEqual([host.view('alice').state, host.view('laptop').state], ['locked', 'locked']);
    assert.equal(states('laptop').at(-1), 'locked:system');
  });

  it('shows the link code as an event, and closing a linking profile cancels the link', async () => {
    const linking = call('profiles.link', { profile: 'phone', link: server.firstAdminInvite!, username: 'alice', passphrase: PASS });
    const event = await new Promise<{ code: string }>((resolve) => {
      const off = session.onAny((name, payload) => {
        if (name === 'profile.linkCode') {
          off();
          resolve(payload as { code: string });
        }
      });
    });
    assert.match(event.code, /^WDL1\./);
    assert.equal(host.view('phone').state, 'linking');
    await call('profiles.lock', { profile: 'phone' });
    await assert.rejects(linking, code('CANCELLED'));
    assert.equal(host.view('phone').state, 'locked');
  });

  it('removes a locked profile for good, and refuses to remove an open one', async () => {
    await call('profiles.unlock', { profile: 'laptop', passphrase: PASS });
    await assert.rejects(call('profiles.remove', { profile: 'laptop', confirm: true }), code('CONFLICT'));
    await assert.rejects(call('profiles.remove', { profile: 'laptop' }), code('BAD_REQUEST'));
    await call('profiles.lock', { profile: 'laptop' });
    await call('profiles.remove', { profile: 'laptop', confirm: true });
    assert.ok(!existsSync(host.dirOf('laptop')));
    assert.deepEqual((await call('profiles.list') as { profiles: { name: string }[] }).profiles.map((p) => p.name), ['alice']);
  });

  it('gives a second session its own selection, and the selected engine\'s events', async () => {
    await call('profiles.unlock', { profile: 'alice', passphrase: PASS });
    const other = createSession(host);
    const events: string[] = [];
    other.onAny((name) => events.push(name));
    await assert.rejects(other.callUntyped('account.whoami', {}), code('LOCKED'), 'nothing selected in this session yet');
    await other.callUntyped('profiles.select', { profile: 'alice' });
    await call('settings.set', { theme: 'light' });
    assert.ok(events.includes('settings.changed'), 'an engine event reaches every session that selected the profile');
    other.close();
  });
});
