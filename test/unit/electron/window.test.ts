// The window's options (every security flag) and the rules every web contents gets: no navigation, no new
// windows, no webviews, web links diverted to the confirm-then-open flow. Electron's runtime cannot run here, so
// it is the one stand-in: a class that records what BrowserWindow is constructed with, and an EventEmitter with
// setWindowOpenHandler in place of a WebContents. Everything else is the shell's own code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents } from 'electron';
import { createMainWindow, guardContents } from '../../../electron/window.ts';
import { APP_ENTRY_URL } from '../../../electron/origin.ts';

class RecordingWindow {
  static last: BrowserWindowConstructorOptions | undefined;
  constructor(options: BrowserWindowConstructorOptions) {
    RecordingWindow.last = options;
  }
}

describe('electron: the main window', () => {
  it('is created with every security flag set', () => {
    createMainWindow(RecordingWindow as unknown as new (o: BrowserWindowConstructorOptions) => BrowserWindow, { preload: '/app/electron/preload.cjs', devTools: false });
    const web = RecordingWindow.last!.webPreferences!;
    assert.deepEqual({
      contextIsolation: web.contextIsolation, sandbox: web.sandbox, nodeIntegration: web.nodeIntegration,
      nodeIntegrationInWorker: web.nodeIntegrationInWorker, nodeIntegrationInSubFrames: web.nodeIntegrationInSubFrames,
      webviewTag: web.webviewTag, webSecurity: web.webSecurity, allowRunningInsecureContent: web.allowRunningInsecureContent,
      experimentalFeatures: web.experimentalFeatures, navigateOnDragDrop: web.navigateOnDragDrop, safeDialogs: web.safeDialogs,
      spellcheck: web.spellcheck, devTools: web.devTools, disableBlinkFeatures: web.disableBlinkFeatures, preload: web.preload,
    }, {
      contextIsolation: true, sandbox: true, nodeIntegration: false,
      nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
      webviewTag: false, webSecurity: true, allowRunningInsecureContent: false,
      experimentalFeatures: false, navigateOnDragDrop: false, safeDialogs: true,
      spellcheck: false, devTools: false, disableBlinkFeatures: 'Auxclick', preload: '/app/electron/preload.cjs',
    });
    // nothing that would loosen them is set at all
    for (const loose of ['enableBlinkFeatures', 'additionalArguments', 'partition', 'session', 'plugins', 'enableWebSQL', 'webgl'] as const) assert.equal(web[loose as keyof typeof web], undefined, loose);
    assert.equal(RecordingWindow.last!.show, false, 'shown on ready-to-show, never half drawn');
  });

  it('lets developer tools exist only when asked (unpackaged builds)', () => {
    createMainWindow(RecordingWindow as unknown as new (o: BrowserWindowConstructorOptions) => BrowserWindow, { preload: 'p', devTools: true });
    assert.equal(RecordingWindow.last!.webPreferences!.devTools, true);
  });
});

/** The stand-in WebContents: Electron emits these events with an event object whose preventDefault we record. */
class StandInContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
  /** emits like Electron: returns whether a listener prevented the default */
  fire(name: string, url?: string): boolean {
    let prevented = false;
    this.emit(name, { url, preventDefault: () => (prevented = true) });
    return prevented;
  }
}

function guarded() {
  const contents = new StandInContents();
  const external: string[] = [];
  const logged: string[] = [];
  guardContents(contents as unknown as WebContents, { externalLink: (url) => external.push(url), log: (line) => logged.push(line) });
  return { contents, external, logged };
}

describe('electron: navigation and new windows', () => {
  it('refuses every navigation, and hands a web link to the confirm flow', () => {
    const { contents, external } = guarded();
    assert.equal(contents.fire('will-navigate', 'https://example.com/page'), true);
    assert.equal(contents.fire('will-navigate', 'http://example.com/'), true);
    // even our own origin: the page is one document, it never navigates
    assert.equal(contents.fire('will-navigate', APP_ENTRY_URL), true);
    assert.deepEqual(external, ['https://example.com/page', 'http://example.com/']);
  });

  it('drops navigations to anything but the web, without asking', () => {
    const { contents, external, logged } = guarded();
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'wardroom://join?server=x', 'data:text/html,<b>x</b>']) {
      assert.equal(contents.fire('will-navigate', url), true, url);
    }
    assert.deepEqual(external, []);
    assert.equal(logged.length, 5);
    assert.ok(logged.every((line) => !line.includes('passwd') && !line.includes('alert')), 'the log names the scheme, not the link');
  });

  it('denies every new window, diverting web links to the confirm flow', () => {
    const { contents, external } = guarded();
    assert.deepEqual(contents.openHandler!({ url: 'https://example.com/' }), { action: 'deny' });
    assert.deepEqual(contents.openHandler!({ url: APP_ENTRY_URL }), { action: 'deny' });
    assert.deepEqual(contents.openHandler!({ url: 'file:///tmp/x' }), { action: 'deny' });
    assert.deepEqual(external, ['https://example.com/']);
  });

  it('refuses webviews and redirects away from the app', () => {
    const { contents } = guarded();
    assert.equal(contents.fire('will-attach-webview'), true);
    assert.equal(contents.fire('will-redirect', 'https://elsewhere.example/'), true);
    assert.equal(contents.fire('will-redirect', APP_ENTRY_URL), false);
  });
});
