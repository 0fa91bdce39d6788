// The permission handlers: camera, microphone and screen capture for our own origin's top frame in our own
// window, and nothing else for anyone. Electron's runtime cannot run here, so it is the one stand-in: the
// handlers are called the way Electron's session calls them, with plain objects as the web contents.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WebContents } from 'electron';
import { APP_ENTRY_URL, APP_ORIGIN } from '../../../electron/origin.ts';
import { permissionCheckHandler, permissionRequestHandler } from '../../../electron/permissions.ts';

const ours = { id: 1 } as WebContents;
const theirs = { id: 2 } as WebContents;
const isOurWindow = (contents: WebContents) => contents === ours;

function request(permission: string, details: { requestingUrl: string; isMainFrame: boolean; mediaTypes?: string[] }, contents = ours): boolean {
  let granted: boolean | undefined;
  permissionRequestHandler(isOurWindow)(contents, permission, (answer) => (granted = answer), details);
  assert.notEqual(granted, undefined, 'the handler always answers');
  return granted!;
}

const check = (permission: string, origin: string, details: { requestingUrl?: string; isMainFrame: boolean; mediaType?: string; securityOrigin?: string }, contents: WebContents | null = ours) =>
  permissionCheckHandler(isOurWindow)(contents, permission, origin, details);

const top = { requestingUrl: APP_ENTRY_URL, isMainFrame: true };

describe('electron: permission requests', () => {
  it('allow the camera, the microphone and screen capture to our page', () => {
    assert.equal(request('media', { ...top, mediaTypes: ['audio'] }), true);
    assert.equal(request('media', { ...top, mediaTypes: ['video'] }), true);
    assert.equal(request('media', { ...top, mediaTypes: ['audio', 'video'] }), true);
    assert.equal(request('display-capture', { ...top, mediaTypes: ['video', 'audio'] }), true);
    assert.equal(request('display-capture', top), true);
  });

  it('refuse every other permission, even to our page', () => {
    for (const permission of ['notifications', 'geolocation', 'clipboard-read', 'clipboard-sanitized-write', 'midi', 'midiSysex', 'hid', 'usb', 'serial', 'fullscreen', 'pointerLock', 'openExternal', 'fileSystem', 'idle-detection', 'window-management', 'storage-access', 'unknown']) {
      assert.equal(request(permission, { ...top, mediaTypes: ['video'] }), false, permission);
    }
  });

  it('refuse media to other origins, frames and windows', () => {
    for (const requestingUrl of ['https://evil.example/', 'file:///tmp/page.html', 'wardroom-app://other/index.html', 'wardroom-app://app:1/index.html', 'http://app/']) {
      assert.equal(request('media', { requestingUrl, isMainFrame: true, mediaTypes: ['video'] }), false, requestingUrl);
    }
    assert.equal(request('media', { ...top, isMainFrame: false, mediaTypes: ['video'] }), false, 'an iframe');
    assert.equal(request('media', { ...top, mediaTypes: ['video'] }, theirs), false, 'a window we did not open');
    assert.equal(request('media', { ...top }), false, 'a media request naming no device');
    assert.equal(request('media', { ...top, mediaTypes: ['video', 'sensors'] }), false, 'an unknown media type');
  });
});

describe('electron: permission checks', () => {
  it('say yes for our page\'s camera, microphone and screen capture', () => {
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'video', securityOrigin: APP_ORIGIN }), true);
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'audio' }), true);
    assert.equal(check('display-capture', APP_ORIGIN, top), true);
  });

  it('say no to everything else', () => {
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'unknown' }), false, 'unknown media type');
    assert.equal(check('media', APP_ORIGIN, { ...top }), false, 'no media type');
    assert.equal(check('media', 'https://evil.example', { requestingUrl: 'https://evil.example/', isMainFrame: true, mediaType: 'video' }), false, 'another origin');
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'video', securityOrigin: 'https://evil.example' }), false, 'a frame of another origin');
    assert.equal(check('media', APP_ORIGIN, { ...top, isMainFrame: false, mediaType: 'video' }), false, 'an iframe');
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'video' }, theirs), false, 'another window');
    assert.equal(check('media', APP_ORIGIN, { ...top, mediaType: 'video' }, null), false, 'no web contents (a service worker)');
    for (const permission of ['notifications', 'geolocation', 'clipboard-read', 'hid', 'serial', 'usb']) assert.equal(check(permission, APP_ORIGIN, top), false, permission);
  });
});
