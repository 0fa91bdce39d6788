// Who this profile is, and inviting people to the organisation.
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { fromBase64Url, sha256, toBase64Url } from '../../crypto/sodium.ts';
import { endpointFor } from '../enrol.ts';
import { RelayError, RelayHttp } from '../relay-http.ts';
import type { Retention } from '../retention/retention.ts';

type AccountHandlers = Pick<Handlers, 'account.whoami' | 'account.moveRelay' | 'org.invite'>;

export function accountHandlers(ctx: EngineContext, retention?: Retention): AccountHandlers {
  return {
    'account.whoami': async () => {
      const me = await ctx.http.login().catch(() => null);
      const kept = await retention?.current();
      return {
        username: ctx.username, ...(ctx.profile.displayName ? { displayName: ctx.profile.displayName } : {}), accountId: ctx.profile.accountId, deviceId: ctx.deviceId, server: ctx.profile.server, admin: me?.role === 'admin',
        ...(kept ? { retention: { on: kept.on, ...(kept.archiveAccount ? { archiveAccount: kept.archiveAccount } : {}), ...(kept.notice ? { notice: kept.notice } : {}) } } : {}),
      };
    },
    'account.moveRelay': async ({ link }) => {
      const { profile } = ctx;
      if (profile.orgKey === null) {
        throw new EngineError('FORBIDDEN', 'this organisation has no org key, so a new relay address cannot be told from an impostor: an admin registers one first');
      }
      const { endpoint, org } = await endpointFor(link);
      if (org !== toBase64Url(sha256(fromBase64Url(profile.orgKey)))) throw new EngineError('INVALID', 'that link is for another organisation');
      // the relay at the new address must hold the same org key and know this device (its login is signed by it)
      const moved = new RelayHttp(endpoint);
      moved.setDevice(ctx.deviceId, ctx.store.device().signing.secretKey);
      const info = await moved.serverInfo();
      if (info.orgKey === null || toBase64Url(info.orgKey) !== profile.orgKey) throw new EngineError('HOSTILE_SERVER', 'the relay at that address holds another organisation key: not moved');
      const me = await moved.login().catch((error: unknown) => {
        if (error instanceof RelayError && error.status > 0) return null;
        throw error;
      });
      if (me?.accountId !== profile.accountId) throw new EngineError('HOSTILE_SERVER', 'the relay at that address does not know this device: not moved');
      await ctx.updateProfile({ server: endpoint.server, pin: endpoint.pin, ca: endpoint.ca });
      ctx.log(`relay moved to ${endpoint.server}`);
      return { server: endpoint.server };
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
