// The profile's typed settings (settings.get / settings.changed). The theme outlives a lock: it is not secret, and
// the unlock screen should not flash to another one.
//
// A change shows at once, before the engine answers. Answers and settings.changed events can arrive while later
// changes are still in flight (two quick clicks), so what is shown is always the engine's latest word with every
// change still in flight laid over it: an older answer never undoes a newer click.
import { create } from 'zustand';
import type { Settings } from './types.ts';

export type Theme = Settings['theme'];

interface SettingsState {
  settings?: Settings;
  theme: Theme;
  /** The engine's latest word, without changes in flight. */
  confirmed?: Settings;
  inFlight: Partial<Settings>[];
  apply(settings: Settings): void;
  /** A change sent to the engine; returns a function that settles it with the engine's answer (or none: failed). */
  propose(patch: Partial<Settings>): (answer?: Settings) => void;
  clear(): void;
}

function shown(confirmed: Settings | undefined, inFlight: Partial<Settings>[]): Pick<SettingsState, 'settings' | 'theme'> | Record<string, never> {
  if (!confirmed) return {};
  const settings = Object.assign({}, confirmed, ...inFlight) as Settings;
  return { settings, theme: settings.theme };
}

export const useSettings = create<SettingsState>()((set, get) => ({
  theme: 'system',
  inFlight: [],
  apply: (confirmed) => set({ confirmed, ...shown(confirmed, get().inFlight) }),
  propose: (patch) => {
    set({ inFlight: [...get().inFlight, patch], ...shown(get().confirmed, [...get().inFlight, patch]) });
    return (answer) => {
      const inFlight = get().inFlight.filter((p) => p !== patch);
      const confirmed = answer ?? get().confirmed;
      set({ inFlight, confirmed, ...shown(confirmed, inFlight) });
    };
  },
  clear: () => set({ settings: undefined, confirmed: undefined, inFlight: [] }),
}));
