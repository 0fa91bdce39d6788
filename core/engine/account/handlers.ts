// Who this profile is, and inviting people to the organisation.
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { RelayError } from '../relay-http.ts';

type AccountHandlers = Pick<Handlers, 'account.whoami' | 'org.invite'>;

export function accountHandlers(ctx: EngineContext): AccountHandlers {
  return {
    'account.whoami': async () => {
      const me = await ctx.http.login().catch(() => null);
      return { username: ctx.username, ...(ctx.profile.displayName ? { displayName: ctx.profile.displayName } : {}), accountId: ctx.profile.accountId, deviceId: ctx.deviceId, server: ctx.profile.server, admin: me?.role === 'admin' };
    },
    'org.invite': async ({ admin }) => {
      const invite = await ctx.http.createInvite(admin).catch((error: unknown) => {
        if (error instanceof RelayError && error.status === 403) throw new EngineError('FORBIDDEN', 'only admins can invite people');
        throw error;
      });
      return { link: invite.link };
    },
  };
}
