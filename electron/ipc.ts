// Main's IPC router: the one handler behind window.wardroom.call. It checks who is calling before anything else:
// only the top frame of a window this app made, showing our own origin, is answered (an iframe, a page that
// navigated elsewhere, or a frame that is gone gets FORBIDDEN). Then `shell.*` commands are answered here (links,
// join links) and everything else goes unchanged to that window's session in the engine process, which checks it
// against the contract. No business logic lives here.
import { ApiError } from '../core/api/contract.ts';
import { toApiError } from '../core/api/dispatch.ts';
import { NAME_MAX, type CallOutcome } from './channels.ts';
import { APP_ORIGIN, isAppUrl } from './origin.ts';

/** The parts of Electron's IpcMainInvokeEvent the check reads (its frames are WebFrameMain objects). */
export interface CallEvent {
  sender: { id: number; mainFrame: { frameToken: string } };
  senderFrame: { url: string; origin?: string; parent: unknown; frameToken: string; detached?: boolean } | null;
}

/** Why a call is refused, or null when it comes from our page's top frame. */
export function senderRefusal(event: CallEvent): string | null {
  const frame = event.senderFrame;
  if (frame === null || frame === undefined || frame.detached === true) return 'the frame that called is gone';
  if (frame.parent !== null || frame.frameToken !== event.sender.mainFrame.frameToken) return 'it came from a frame inside the page';
  if (!isAppUrl(frame.url) || (frame.origin !== undefined && frame.origin !== APP_ORIGIN)) return 'it came from a page that is not the app';
  return null;
}

export interface WindowRoute {
  /** to this window's session in the engine process */
  forward(name: string, request: unknown): Promise<unknown>;
  /** a call went through (the badge refreshes after messages.markRead) */
  afterCall?(name: string): void;
}

export type ShellCommand = (request: unknown, route: WindowRoute) => Promise<unknown>;

export interface CallRouterOptions {
  /** the route of a window this app made, by its webContents id; undefined for any other */
  routeOf(webContentsId: number): WindowRoute | undefined;
  /** commands main answers itself, all named shell.* */
  shell: Record<string, ShellCommand>;
  log: (line: string) => void;
}

const failure = (error: unknown): CallOutcome => {
  const api = toApiError(error);
  return { ok: false, error: { code: api.code, message: api.message } };
};

/** The handler for ipcMain.handle(CALL_CHANNEL, …). Never throws: every outcome crosses as a CallOutcome. */
export function createCallRouter(options: CallRouterOptions) {
  return async (event: CallEvent, name: unknown, request: unknown): Promise<CallOutcome> => {
    const refusal = senderRefusal(event);
    const route = refusal === null ? options.routeOf(event.sender.id) : undefined;
    if (refusal !== null || route === undefined) {
      const why = refusal ?? 'it came from a window this app did not open';
      options.log(`ipc: refused a call: ${why}`);
      return failure(new ApiError('FORBIDDEN', `window.wardroom refused the call: ${why}; only the app's own page (${APP_ORIGIN}) may call it`));
    }
    if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX) return failure(new ApiError('BAD_REQUEST', `a command name is a string of 1-${NAME_MAX} characters`));
    try {
      let result: unknown;
      if (name.startsWith('shell.')) {
        const command = Object.hasOwn(options.shell, name) ? options.shell[name] : undefined;
        if (!command) throw new ApiError('UNKNOWN_COMMAND', `unknown command: ${name}`);
        result = await command(request, route);
      } else {
        result = await route.forward(name, request);
      }
      route.afterCall?.(name);
      return { ok: true, result };
    } catch (error) {
      if (!(error instanceof ApiError)) options.log(`ipc: ${name} failed: ${(error as Error)?.stack ?? String(error)}`);
      return failure(error);
    }
  };
}
