// IPC routing and the sender check, and the preload's bridge on top of it: a call from our page's top frame goes
// to the window's session (a real ProfileHost session here), a call from anywhere else is refused with a clear
// error before anything runs; shell.* commands are answered in main; errors cross as { code, message }.
// Electron's runtime cannot run here, so it is the one stand-in: the IPC event (sender, senderFrame) is a plain
// object shaped like Electron's, and ipcRenderer is an EventEmitter whose invoke calls the router directly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSession, ProfileHost, type Session } from '../../../core/host/index.ts';
import { createBridge } from '../../../electron/bridge.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../../electron/channels.ts';
import { createCallRouter, senderRefusal, type CallEvent, type WindowRoute } from '../../../electron/ipc.ts';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../../electron/origin.ts';
import { JoinLinkInbox, shellCommands } from '../../../electron/shell-commands.ts';
import { tempDir } from '../../support/server-client.ts';

const OUR_CONTENTS = 7;

/** An IPC event as Electron builds it: the sender web contents and the frame that sent. */
function eventFrom(url: string, options: { subframe?: boolean; contentsId?: number; origin?: string; gone?: 'null' | 'detached'; otherTop?: boolean } = {}): CallEvent {
  const mainFrame = { url, origin: options.origin ?? (new URL(url).protocol === 'wardroom-app:' ? APP_ORIGIN : 'null'), parent: null, frameToken: 'top-token', detached: options.gone === 'detached' };
  const frame = options.subframe ? { ...mainFrame, parent: mainFrame, frameToken: 'child-token' }
    : options.otherTop ? { ...mainFrame, frameToken: 'another-top-token' } : mainFrame;
  return { sender: { id: options.contentsId ?? OUR_CONTENTS, mainFrame }, senderFrame: options.gone === 'null' ? null : frame };
}

describe('electron: the sender check', () => {
  it('accepts only our page\'s top frame', () => {
    assert.equal(senderRefusal(eventFrom(APP_ENTRY_URL)), null);
    assert.equal(senderRefusal(eventFrom(`${APP_ORIGIN}/index.html#/channel/x`)), null);
    assert.match(senderRefusal(eventFrom(APP_ENTRY_URL, { subframe: true }))!, /frame inside the page/);
    assert.match(senderRefusal(eventFrom(APP_ENTRY_URL, { gone: 'null' }))!, /gone/);
    assert.match(senderRefusal(eventFrom(APP_ENTRY_URL, { gone: 'detached' }))!, /gone/);
    assert.match(senderRefusal(eventFrom(APP_ENTRY_URL, { otherTop: true }))!, /frame inside the page/, 'a top frame that is not this contents\' main frame');
    for (const url of ['https://evil.example/', 'file:///home/u/page.html', 'wardroom-app://evil/index.html', 'data:text/html,x', 'about:blank']) {
      assert.match(senderRefusal(eventFrom(url))!, /not the app/, url);
    }
    assert.match(senderRefusal(eventFrom(APP_ENTRY_URL, { origin: 'https://evil.example' }))!, /not the app/, 'the frame\'s own origin must agree');
  });
});

describe('electron: IPC routing', () => {
  let host: ProfileHost;
  let session: Session;
  const afterCalls: string[] = [];
  const logged: string[] = [];
  const joinLinks: string[] = [];
  let route: (event: CallEvent, name: unknown, request: unknown) => ReturnType<ReturnType<typeof createCallRouter>>;

  before(() => {
    host = new ProfileHost({ root: path.join(tempDir('wardroom-ipc-'), 'profiles') });
    session = createSession(host);
    const windowRoute: WindowRoute = { forward: (name, request) => session.callUntyped(name, request), afterCall: (name) => afterCalls.push(name) };
    const inbox = new JoinLinkInbox((link) => joinLinks.push(link), (line) => logged.push(line));
    const opener = { confirm: async () => false, open: async () => assert.fail('nothing is opened in this test') };
    route = createCallRouter({ routeOf: (id) => (id === OUR_CONTENTS ? windowRoute : undefined), shell: shellCommands(opener, inbox), log: (line) => logged.push(line) });
  });
  after(async () => {
    session.close();
    await host.close();
  });

  it('forwards our page\'s calls to its session, and reports them done', async () => {
    assert.deepEqual(await route(eventFrom(APP_ENTRY_URL), 'profiles.list', {}), { ok: true, result: { profiles: [] } });
    assert.deepEqual(afterCalls, ['profiles.list']);
  });

  it('refuses calls from other frames, origins and windows before they reach the engine', async () => {
    afterCalls.length = 0;
    const refused = [
      eventFrom(APP_ENTRY_URL, { subframe: true }),
      eventFrom('https://evil.example/'),
      eventFrom('file:///tmp/x.html'),
      eventFrom(APP_ENTRY_URL, { gone: 'null' }),
      eventFrom(APP_ENTRY_URL, { contentsId: 99 }),
    ];
    for (const event of refused) {
      const outcome = await route(event, 'profiles.list', {});
      assert.equal(outcome.ok, false);
      const error = (outcome as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'FORBIDDEN');
      assert.match(error.message, /^window\.wardroom refused the call: .*only the app's own page \(wardroom-app:\/\/app\) may call it$/);
    }
    assert.deepEqual(afterCalls, [], 'nothing ran');
    assert.equal(logged.filter((l) => l.startsWith('ipc: refused')).length, refused.length);
  });

  it('carries the engine\'s errors as { code, message }', async () => {
    const call = (name: unknown, request: unknown = {}) => route(eventFrom(APP_ENTRY_URL), name, request);
    assert.deepEqual(await call('nope.nothing'), { ok: false, error: { code: 'UNKNOWN_COMMAND', message: 'unknown command: nope.nothing' } });
    assert.deepEqual(await call('account.whoami'), { ok: false, error: { code: 'LOCKED', message: 'no profile is open: unlock or create one first' } });
    const bad = await call('profiles.unlock', { profile: '../etc', passphrase: 'x' });
    assert.equal((bad as { error: { code: string } }).error.code, 'BAD_REQUEST');
    for (const name of [42, '', 'x'.repeat(101), null]) assert.equal(((await call(name)) as { error: { code: string } }).error.code, 'BAD_REQUEST', String(name));
  });

  it('answers shell.* itself, and only the ones it has', async () => {
    const call = (name: string, request: unknown = {}) => route(eventFrom(APP_ENTRY_URL), name, request);
    assert.deepEqual(await call('shell.inspectLink', { url: 'https://example.com/' }), { ok: true, result: { url: 'https://example.com/', host: 'example.com', warnings: [] } });
    assert.deepEqual(await call('shell.inspectLink', { url: 'file:///etc/passwd' }), { ok: false, error: { code: 'BAD_REQUEST', message: 'only web links (http, https) open in the browser, not file: links' } });
    assert.deepEqual(await call('shell.openLink', { url: 'https://example.com/' }), { ok: true, result: { opened: false } }, 'the user declined');
    assert.deepEqual(await call('shell.takeJoinLink'), { ok: true, result: {} });
    assert.equal(((await call('shell.openLink', { url: 'https://example.com/', extra: 1 })) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    assert.equal(((await call('shell.eval')) as { error: { code: string } }).error.code, 'UNKNOWN_COMMAND');
  });

  it('through the preload\'s bridge: answers, { code, message } rejections, and removable listeners', async () => {
    const ipc = new EventEmitter() as EventEmitter & { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
    ipc.invoke = async (channel, name, request) => {
      assert.equal(channel, CALL_CHANNEL);
      return route(eventFrom(APP_ENTRY_URL), name, request);
    };
    const wardroom = createBridge(ipc);
    assert.deepEqual(Object.keys(wardroom).sort(), ['call', 'on']);
    assert.ok(Object.isFrozen(wardroom));
    assert.deepEqual(await wardroom.call('profiles.list'), { profiles: [] });
    await assert.rejects(wardroom.call('account.whoami'), (error: unknown) => {
      assert.deepEqual(error, { code: 'LOCKED', message: 'no profile is open: unlock or create one first' });
      return true;
    });

    const seen: unknown[] = [];
    const off = wardroom.on('profile.state', (payload, seq) => seen.push([payload, seq]));
    wardroom.on('profile.state', () => {
      throw new Error('a broken listener');
    });
    const also: unknown[] = [];
    wardroom.on('profile.state', (payload) => also.push(payload));
    const originalError = console.error;
    console.error = () => {};
    try {
      // main sends (event, name, payload, seq); listeners get the payload and seq, never the IPC event
      ipc.emit(EVENT_CHANNEL, { sender: 'ipcRenderer itself' }, 'profile.state', { profile: 'a', state: 'open' }, 3);
      off();
      ipc.emit(EVENT_CHANNEL, { sender: 'ipcRenderer itself' }, 'profile.state', { profile: 'a', state: 'locked' }, 4);
      ipc.emit(EVENT_CHANNEL, {}, 'settings.changed', {}, 5);
    } finally {
      console.error = originalError;
    }
    assert.deepEqual(seen, [[{ profile: 'a', state: 'open' }, 3]]);
    assert.equal(also.length, 2, 'a throwing listener does not keep the event from the others');
    assert.throws(() => wardroom.on('x', 'not a function' as never), TypeError);
  });

  it('the preload exposes this bridge as window.wardroom and nothing else (it imports electron, so it is read, not run)', () => {
    const preload = readFileSync(path.resolve(import.meta.dirname, '../../../electron/preload.ts'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
    assert.deepEqual([...preload.matchAll(/contextBridge\.\w+\([^;]*\);/g)].map((m) => m[0]), ["contextBridge.exposeInMainWorld('wardroom', createBridge(ipcRenderer));"]);
    assert.equal(preload.match(/ipcRenderer/g)?.length, 2, 'imported, and handed to the bridge only');
  });
});
