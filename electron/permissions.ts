// What the page may ask of the browser: the camera, the microphone and a screen to share (calls), from our own
// origin's top frame in our own window. Everything else (notifications, geolocation, clipboard reads, USB, HID,
// serial, MIDI, fullscreen, the file system, openExternal...) is refused, both when the page asks (request) and
// when it only looks (check). Notifications are shown by the main process, not by the page.
import type { WebContents } from 'electron';
import { APP_ORIGIN, isAppUrl } from './origin.ts';

const MEDIA_TYPES: ReadonlySet<string> = new Set(['audio', 'video']);

export interface PermissionAsk {
  permission: string;
  /** the URL of the frame that asks */
  requestingUrl: string | undefined;
  isMainFrame: boolean;
  /** camera and/or microphone (a media request), or the shared screen's video and audio (display-capture) */
  mediaTypes: readonly string[] | undefined;
  /** whether the asking page is in a window this app made */
  fromOurWindow: boolean;
}

/** The one rule both handlers apply. */
export function permissionAllowed(ask: PermissionAsk): boolean {
  if (!ask.fromOurWindow || !ask.isMainFrame || ask.requestingUrl === undefined || !isAppUrl(ask.requestingUrl)) return false;
  if (ask.permission !== 'media' && ask.permission !== 'display-capture') return false;
  return ask.mediaTypes !== undefined && ask.mediaTypes.length > 0 && ask.mediaTypes.every((type) => MEDIA_TYPES.has(type));
}

type RequestDetails = { requestingUrl: string; isMainFrame: boolean; mediaTypes?: string[] };
type CheckDetails = { requestingUrl?: string; isMainFrame: boolean; mediaType?: string; securityOrigin?: string };

/** For session.setPermissionRequestHandler. */
export function permissionRequestHandler(isOurWindow: (contents: WebContents) => boolean) {
  return (contents: WebContents, permission: string, callback: (granted: boolean) => void, details: RequestDetails): void => {
    callback(permissionAllowed({
      permission,
      requestingUrl: details.requestingUrl,
      isMainFrame: details.isMainFrame,
      mediaTypes: permission === 'display-capture' ? details.mediaTypes ?? ['video'] : details.mediaTypes,
      fromOurWindow: isOurWindow(contents),
    }));
  };
}

/** For session.setPermissionCheckHandler: a check names one media type, and the origin it is made for. */
export function permissionCheckHandler(isOurWindow: (contents: WebContents) => boolean) {
  return (contents: WebContents | null, permission: string, requestingOrigin: string, details: CheckDetails): boolean => {
    if (contents === null || requestingOrigin !== APP_ORIGIN) return false;
    if (details.securityOrigin !== undefined && details.securityOrigin !== APP_ORIGIN) return false;
    return permissionAllowed({
      permission,
      requestingUrl: details.requestingUrl ?? requestingOrigin,
      isMainFrame: details.isMainFrame,
      mediaTypes: permission === 'media' ? (details.mediaType ? [details.mediaType] : undefined) : ['video'],
      fromOurWindow: isOurWindow(contents),
    });
  };
}
