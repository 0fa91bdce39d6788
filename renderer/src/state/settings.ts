// The profile's typed settings (settings.get / settings.changed). The theme outlives a lock: it is not secret, and
// the unlock screen should not flash to another one.
import { create } from 'zustand';
import type { Settings } from './types.ts';

export type Theme = Settings['theme'];

interface SettingsState {
  settings?: Settings;
  theme: Theme;
  apply(settings: Settings): void;
  clear(): void;
}

export const useSettings = create<SettingsState>()((set) => ({
  theme: 'system',
  apply: (settings) => set({ settings, theme: settings.theme }),
  clear: () => set({ settings: undefined }),
}));
