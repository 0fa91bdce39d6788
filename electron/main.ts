// The Electron main process: wiring only. It owns the window, the app protocol, the permission and navigation
// rules, the OS integrations (keystore, deep links, notifications, badge, tray, lock on OS events), and routes the
// page's calls to the engine process. Every decision lives in a module beside this one, tested without Electron
// (whose runtime cannot run in this repository's tests); this file only connects them to Electron's objects.
import {
  app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, nativeImage, Notification, powerMonitor, protocol,
  safeStorage, session, shell, Tray, utilityProcess, type MenuItemConstructorOptions,
} from 'electron';
import path from 'node:path';
import { wireAppLock } from './app-lock.ts';
import { appProtocolHandler, APP_SCHEME_PRIVILEGES } from './app-protocol.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.ts';
import { deepLinkInArgv } from './deep-links.ts';
import { EngineClient } from './engine-client.ts';
import { createCallRouter, type WindowRoute } from './ipc.ts';
import { keystoreHandlers, safeStorageKeystore, type MainKeystore } from './keystore.ts';
import { launchOptions } from './launch-options.ts';
import type { KeystoreStatus } from './keystore-plan.ts';
import { openLinkAfterConfirm, type LinkOpener } from './links.ts';
import { APP_ENTRY_URL, APP_SCHEME, DEEP_LINK_SCHEME } from './origin.ts';
import { permissionCheckHandler, permissionRequestHandler } from './permissions.ts';
import { engineLinkOf } from './ports.ts';
import { WindowPresenter } from './presenter.ts';
import { JoinLinkInbox, shellCommands } from './shell-commands.ts';
import { createMainWindow, guardContents } from './window.ts';

const here = import.meta.dirname;
/** main, preload and the engine entry are built side by side with one extension */
const sibling = (name: string) => path.join(here, `${name}${path.extname(import.meta.filename)}`);
const log = (line: string) => console.log(`wardroom: ${line}`);

// Before ready: our scheme gets its privileges (a real, secure origin) only if registered this early.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
// `npm start` chooses the app data directory (before anything reads userData) and may bring its relay's first invite
const launch = launchOptions(process.argv);
if (launch.profileDir) app.setPath('userData', launch.profileDir);

let window: BrowserWindow | undefined;
let tray: Tray | undefined;
let engine: EngineClient | undefined;
let shownNotification: Notification | undefined;
/** the message the shown notification is about */
let shownNotificationFor: string | null = null;
let quitting = false;
let engineClosed = false;
const routes = new Map<number, WindowRoute>();

const showWindow = () => {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
};

const inbox = new JoinLinkInbox((link) => {
  if (window && !window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, 'shell.joinLink', { link }, 0);
}, log);

const opener: LinkOpener = {
  async confirm(link, text) {
    const options = { type: link.warnings.length > 0 ? 'warning' as const : 'question' as const, ...text, buttons: ['Open in browser', 'Cancel'], defaultId: 1, cancelId: 1, noLink: true };
    const { response } = window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
    return response === 0;
  },
  async open(url) {
    await shell.openExternal(url); /* eng-disable OPEN_EXTERNAL_JS_CHECK: reviewed; only links.ts's inspected http(s) URLs, after the user confirmed the real host */
  },
};

function startEngine(status: KeystoreStatus, keystore: MainKeystore): EngineClient {
  const child = utilityProcess.fork(sibling('engine-process'), [
    `--wardroom-profiles=${path.join(app.getPath('userData'), 'profiles')}`,
    `--wardroom-keystore=${JSON.stringify(status)}`,
    ...(launch.firstInvite ? [`--wardroom-first-invite=${launch.firstInvite}`] : []),
  ], { serviceName: 'Wardroom engine', stdio: 'inherit' });
  return new EngineClient(engineLinkOf(child, () => new MessageChannelMain()), {
    handlers: keystoreHandlers(keystore),
    onExit: () => {
      if (quitting) return;
      // every profile was open in that process: they are closed now; a fresh start shows them locked
      dialog.showErrorBox('Wardroom', 'The engine stopped unexpectedly. Wardroom restarts, and your profiles are locked.');
      app.relaunch();
      app.exit(1);
    },
    log,
  });
}

function openWindow(client: EngineClient): void {
  const win = createMainWindow(BrowserWindow, { preload: path.join(here, 'preload.cjs'), devTools: !app.isPackaged });
  window = win;
  const contentsId = win.webContents.id;
  const presenter = new WindowPresenter({
    toWindow: (name, payload, seq) => {
      if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, name, payload, seq);
    },
    call: (name, request) => channel.call(name, request),
    showNotification: (text, messageId) => {
      if (!Notification.isSupported()) return;
      // held until the next one: a collected Notification loses its click handler
      shownNotification = new Notification({ ...text });
      shownNotificationFor = messageId;
      shownNotification.on('click', showWindow);
      shownNotification.show();
    },
    dismissNotification: (messageId) => {
      if (shownNotificationFor !== messageId) return;
      shownNotification?.close();
      shownNotification = undefined;
      shownNotificationFor = null;
    },
    setContentProtection: (on) => win.setContentProtection(on),
    setBadge: (unread) => {
      app.setBadgeCount(unread);
      tray?.setToolTip(unread > 0 ? `Wardroom: ${unread} unread` : 'Wardroom');
    },
    isFocused: () => win.isVisible() && win.isFocused(),
    log,
  });
  const channel = client.window(win.id, (name, payload, seq) => presenter.onEvent(name, payload, seq));
  routes.set(contentsId, { forward: (name, request) => channel.call(name, request), afterCall: (name) => presenter.afterCall(name) });
  win.once('ready-to-show', () => win.show());
  // with a tray, closing the window keeps Wardroom running (notifications, badge); Quit is in the tray and menu
  win.on('close', (event) => {
    if (!quitting && tray) {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    routes.delete(contentsId);
    presenter.close();
    channel.close();
    window = undefined;
  });
  win.webContents.on('render-process-gone', (_event, details) => log(`window: the page's process ended (${details.reason})`));
  void win.loadURL(APP_ENTRY_URL);
}

function openTray(client: EngineClient): void {
  const icon = nativeImage.createFromPath(path.join(here, 'assets', 'tray.png'));
  tray = new Tray(icon);
  tray.setToolTip('Wardroom');
  tray.setContextMenu(Menu.buildFromTemplate([
    { label: 'Open Wardroom', click: showWindow },
    { label: 'Lock', click: () => void client.lockAll().catch((error: Error) => log(`tray: locking failed: ${error.message}`)) },
    { type: 'separator' },
    { label: 'Quit Wardroom', click: () => app.quit() },
  ]));
  tray.on('click', showWindow);
}

/** macOS needs an app menu for its keyboard shortcuts (copy, paste, quit); elsewhere there is none to misuse. */
function applicationMenu(): Menu | null {
  if (process.platform !== 'darwin') return null;
  const template: MenuItemConstructorOptions[] = [
    { role: 'appMenu' },
    { role: 'editMenu' },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}

async function ready(): Promise<void> {
  const isOurWindow = (contents: Electron.WebContents) => routes.has(contents.id);
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(permissionRequestHandler(isOurWindow));
  ses.setPermissionCheckHandler(permissionCheckHandler(isOurWindow));
  ses.setDevicePermissionHandler(() => false);
  protocol.handle(APP_SCHEME, appProtocolHandler({ root: path.join(app.getAppPath(), 'renderer', 'dist'), log }));
  Menu.setApplicationMenu(applicationMenu());

  const keystore = safeStorageKeystore(safeStorage, process.platform);
  const status = await keystore.status();
  if (!status.available) log(`keystore: not available (${status.reason}); profiles unlock with their passphrase`);
  const client = startEngine(status, keystore);
  engine = client;
  ipcMain.handle(CALL_CHANNEL, createCallRouter({ routeOf: (id) => routes.get(id), shell: shellCommands(opener, inbox), log }));
  openWindow(client);
  openTray(client);
  wireAppLock(powerMonitor, () => client.lockAll(), log);
}

if (!app.requestSingleInstanceLock()) {
  // another Wardroom runs: it got our argv (and any join link in it) through its second-instance event
  app.quit();
} else {
  const first = deepLinkInArgv(process.argv);
  if (first !== undefined) inbox.offer(first);
  app.on('second-instance', (_event, argv) => {
    showWindow();
    const link = deepLinkInArgv(argv);
    if (link !== undefined) inbox.offer(link);
  });
  app.on('open-url', (event, url) => {
    event.preventDefault();
    inbox.offer(url);
    showWindow();
  });
  // an unpackaged app is started by the electron binary: the OS must pass it our entry as well
  if (process.defaultApp && process.argv[1] !== undefined) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [path.resolve(process.argv[1])]); /* eng-disable PROTOCOL_HANDLER_JS_CHECK: reviewed; wardroom:// links go through deep-links.ts, which accepts join links only */
  else app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME); /* eng-disable PROTOCOL_HANDLER_JS_CHECK: as above */
  app.on('web-contents-created', (_event, contents) => guardContents(contents, {
    externalLink: (url) => void openLinkAfterConfirm(url, opener).catch((error: Error) => log(`link refused: ${error.message}`)),
    log,
  }));
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (event) => {
    if (engineClosed || !engine) return;
    // close every vault cleanly before the process ends
    event.preventDefault();
    void engine.close(5_000).finally(() => {
      engineClosed = true;
      app.quit();
    });
  });
  app.whenReady().then(ready).catch((error: Error) => {
    dialog.showErrorBox('Wardroom could not start', error.message);
    app.exit(1);
  });
}
