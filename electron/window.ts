// The app's window and the rules every web contents lives by. The options are written out in the constructor
// call, where the security scanner (electronegativity, run in npm test) reads them; the test reads them too.
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions, WebContents } from 'electron';
import { isAppUrl } from './origin.ts';

export interface MainWindowOptions {
  /** the bundled preload script (CommonJS: a sandboxed preload cannot import) */
  preload: string;
  /** developer tools only in an unpackaged build */
  devTools: boolean;
}

/** Opens the one window. `BrowserWindow` is Electron's class (passed in, so the options can be tested without it). */
export function createMainWindow(BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowType, options: MainWindowOptions): BrowserWindowType {
  return new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Wardroom',
    show: false, // shown on ready-to-show: no white flash, no half-drawn page
    backgroundColor: '#1d1f23',
    autoHideMenuBar: true,
    webPreferences: {
      preload: options.preload, /* eng-disable PRELOAD_JS_CHECK: reviewed; bridge.ts exposes only window.wardroom.call and .on, over two fixed channels */
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick', // a middle click must not open anything
      navigateOnDragDrop: false,
      safeDialogs: true,
      // the spellchecker's dictionaries would be downloaded from Google's servers on Windows and Linux
      spellcheck: false,
      devTools: options.devTools,
    },
  });
}

export interface ContentsGuardOptions {
  /** an http(s) link the page tried to open or navigate to: main asks the user, showing the real host */
  externalLink(url: string): void;
  log: (line: string) => void;
}

/**
 * For every web contents (app.on('web-contents-created')): no navigation away from the page, no new windows, no
 * webviews. A web link the page tried to follow goes to the confirm-then-open flow instead; anything else is dropped.
 */
export function guardContents(contents: WebContents, options: ContentsGuardOptions): void {
  const divert = (url: string) => {
    if (/^https?:/i.test(url)) options.externalLink(url);
    else options.log(`window: refused to open a ${url.slice(0, url.indexOf(':') + 1) || 'schemeless'} link`);
  };
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    if (!isAppUrl(event.url)) divert(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.setWindowOpenHandler((details) => {
    divert(details.url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
