// What main does with a window's events besides handing them to the page: a notification for a new message (by
// the profile's settings, core/api/attention.ts), the window's screen-capture protection (the screenCaptureProtection
// setting), and the unread count on the dock or taskbar badge and the tray. It reads only what the page could
// read itself, through the same session (settings.get, account.whoami, conversations.list).
import type { MessageViewT, SettingsT } from '../core/api/contract.ts';
import { notificationFor } from '../core/api/attention.ts';

export interface PresenterDeps {
  toWindow(name: string, payload: Record<string, unknown>, seq: number): void;
  /** a command through this window's session */
  call(name: string, request: object): Promise<unknown>;
  /** `messageId`: what it is about, so it can be taken back when that message is gone */
  showNotification(notification: { title: string; body: string }, messageId: string): void;
  /** the message expired, burned or was deleted: a notification about it that is still showing goes too */
  dismissNotification(messageId: string): void;
  setContentProtection(on: boolean): void;
  setBadge(unread: number): void;
  isFocused(): boolean;
  log(line: string): void;
  /** how long a recount waits for more changes (default 400 ms) */
  delayMs?: number;
}

interface OpenProfile {
  me: string;
  settings: SettingsT;
}

const BADGE_EVENTS = new Set(['message.received', 'message.removed', 'message.updated', 'conversation.updated']);

export class WindowPresenter {
  readonly #deps: PresenterDeps;
  #profile: OpenProfile | null = null;
  #profileStale = true;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(deps: PresenterDeps) {
    this.#deps = deps;
  }

  onEvent(name: string, payload: Record<string, unknown>, seq: number): void {
    this.#deps.toWindow(name, payload, seq);
    if (name === 'profile.state') this.#stale();
    if (name === 'settings.changed' && this.#profile) this.#apply({ ...this.#profile, settings: payload as SettingsT });
    if (name === 'message.received' && this.#profile) {
      const notification = notificationFor(payload as unknown as MessageViewT, { ...this.#profile, watching: this.#deps.isFocused() });
      if (notification) this.#deps.showNotification(notification, (payload as unknown as MessageViewT).id);
    }
    if (name === 'message.removed') this.#deps.dismissNotification(String(payload.id));
    if (BADGE_EVENTS.has(name)) this.#schedule();
  }

  /** After the page's own calls: a selection or unlock changes the profile, a read changes the count. */
  afterCall(name: string): void {
    if (name.startsWith('profiles.')) this.#stale();
    else if (name === 'messages.markRead') this.#schedule();
  }

  /** Waits for a recount in progress (tests). */
  async settled(): Promise<void> {
    while (this.#timer !== undefined || this.#running !== undefined) await (this.#running ?? new Promise((resolve) => setTimeout(resolve, this.#deps.delayMs ?? 400)));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #stale(): void {
    this.#profileStale = true;
    this.#schedule();
  }

  #apply(profile: OpenProfile | null): void {
    this.#profile = profile;
    // locked, the last choice stays: a lock screen is no reason to drop a protection the user asked for
    if (profile) this.#deps.setContentProtection(profile.settings.screenCaptureProtection);
  }

  #schedule(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#recount().finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule();
        }
      });
    }, this.#deps.delayMs ?? 400);
  }

  async #recount(): Promise<void> {
    const { call } = this.#deps;
    try {
      if (this.#profileStale) {
        this.#profileStale = false;
        const list = await call('profiles.list', {}) as { profiles: { name: string; state: string }[]; current?: string };
        const current = list.profiles.find((p) => p.name === list.current);
        if (current?.state !== 'open') {
          this.#apply(null);
        } else {
          const [whoami, settings] = await Promise.all([call('account.whoami', {}), call('settings.get', {})]) as [{ username: string }, SettingsT];
          this.#apply({ me: whoami.username, settings });
        }
      }
      if (!this.#profile) {
        this.#deps.setBadge(0);
        return;
      }
      const { conversations } = await call('conversations.list', {}) as { conversations: { unread: number }[] };
      this.#deps.setBadge(conversations.reduce((sum, c) => sum + c.unread, 0));
    } catch (error) {
      // a profile that locked between two calls: nothing to count
      if ((error as { code?: string }).code !== 'LOCKED') this.#deps.log(`presenter: recount failed: ${(error as { code?: string }).code ?? (error as Error).name}`);
      this.#apply(null);
      this.#deps.setBadge(0);
    }
  }
}
