// Whether the relay is reachable (the engine's connection.state) and whether this window reaches its app host at
// all (the bridge's link). Shown at all times in the sidebar.
import { create } from 'zustand';

export type RelayState = 'unknown' | 'connecting' | 'online' | 'offline' | 'untrusted';

interface ConnectionState {
  relay: RelayState;
  /** when offline with a reconnect scheduled: in how long, and when that was said */
  retryInMs?: number;
  retryFrom?: number;
  /** the relay was online at least once since the profile opened: "reconnecting" rather than "connecting" */
  wasOnline: boolean;
  /** untrusted: the engine's one-line alarm (the server at the relay's address failed the pin) */
  alarm?: string;
  link: boolean;
  setRelay(relay: Exclude<RelayState, 'unknown'>, retryInMs?: number, alarm?: string): void;
  setLink(up: boolean): void;
  reset(): void;
}

export const useConnection = create<ConnectionState>()((set) => ({
  relay: 'unknown',
  wasOnline: false,
  link: true,
  setRelay: (relay, retryInMs, alarm) => set((s) => ({
    relay,
    retryInMs,
    alarm,
    retryFrom: retryInMs === undefined ? undefined : Date.now(),
    wasOnline: s.wasOnline || relay === 'online',
  })),
  setLink: (link) => set({ link }),
  reset: () => set({ relay: 'unknown', retryInMs: undefined, retryFrom: undefined, wasOnline: false, alarm: undefined }),
}));
