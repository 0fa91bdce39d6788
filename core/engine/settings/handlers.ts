// Per-profile settings, stored in the profile (inside the encrypted vault).
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';

type SettingsHandlers = Pick<Handlers, 'settings.receipts'>;

export function settingsHandlers(ctx: EngineContext): SettingsHandlers {
  return {
    'settings.receipts': async ({ enabled }) => {
      await ctx.updateProfile({ receipts: enabled });
      return { enabled };
    },
  };
}
