// This account's devices: the list the relay serves, and approving a new one (certifying it with the account key
// and publishing the longer, signed device list).
import type { Handlers } from '../../api/dispatch.ts';
import { deviceIdFor } from '../../protocol/ids.ts';
import { certifyDevice, signDeviceList } from '../../protocol/identity.ts';
import type { EngineContext } from '../context.ts';
import { parseLinkCode, signedBlob } from '../enrol.ts';
import { EngineError } from '../errors.ts';

type DeviceHandlers = Pick<Handlers, 'devices.list' | 'devices.approve'>;

export function deviceHandlers(ctx: EngineContext): DeviceHandlers {
  return {
    'devices.list': async () => {
      const served = await ctx.http.accountDevices(ctx.profile.accountId);
      return {
        devices: served.devices.map((d) => ({
          id: d.deviceId, name: d.deviceId.slice(0, 8), createdAt: new Date(d.createdAt).toISOString(), current: d.deviceId === ctx.deviceId,
          status: d.status as 'active' | 'pending' | 'revoked',
        })),
      };
    },
    'devices.approve': async ({ code }) => {
      const account = ctx.account;
      if (!account) throw new EngineError('FORBIDDEN', 'this device cannot approve others: approve from the first device, or link with the recovery kit');
      const request = parseLinkCode(code);
      if (request.username !== ctx.username) throw new EngineError('INVALID', `that code is for @${request.username}, not @${ctx.username}`);
      const deviceId = deviceIdFor(request.signingPublicKey);
      // whether that device is waiting is the relay's to say at approval (it refuses NOT_FOUND): a list fetched
      // here first could be pushed out by requests flooded in this user's name
      const served = await ctx.http.accountDevices(ctx.profile.accountId);
      const now = ctx.now();
      return ctx.lane.run(async () => {
        const own = await ctx.directory.refresh(ctx.username);
        const version = Math.max(own.listVersion, ctx.profile.deviceListVersion, served.deviceListVersion) + 1;
        const list = signDeviceList(account, { userId: ctx.username, version, devices: [...own.devices, deviceId], issuedAt: now });
        const certificate = certifyDevice(account, ctx.username, deviceId, request.signingPublicKey, request.dhPublicKey, now);
        await ctx.http.approveDevice(deviceId, signedBlob(certificate, account), signedBlob(list, account), version);
        await ctx.updateProfile({ deviceListVersion: version });
        await ctx.directory.refresh(ctx.username);
        return { id: deviceId, name: deviceId.slice(0, 8), createdAt: new Date(now).toISOString(), current: false, status: 'active' as const };
      });
    },
  };
}
