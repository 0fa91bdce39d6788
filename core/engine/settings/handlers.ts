// Per-profile settings, stored in the profile (inside the encrypted vault); every change is announced, so a second
// window or a bot sees it.
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { settingsOf } from '../profile.ts';

type SettingsHandlers = Pick<Handlers, 'settings.get' | 'settings.set'>;

export function settingsHandlers(ctx: EngineContext): SettingsHandlers {
  return {
    'settings.get': async () => settingsOf(ctx.profile),
    'settings.set': async (change) => {
      await ctx.updateProfile(change);
      const settings = settingsOf(ctx.profile);
      ctx.emit('settings.changed', settings);
      return settings;
    },
  };
}
