// This account's devices: the list the relay serves, and approving a new one (certifying it with the account key
// and publishing the longer, signed device list).
import type { Handlers } from '../../api/dispatch.ts';
import { deviceIdFor } from '../../protocol/ids.ts';
import { certifyDevice, signDeviceList } from '../../protocol/identity.ts';
import type { EngineContext } from '../context.ts';
import { parseLinkCode, signedBlob } from '../enrol.ts';
import { cleanDisplayName } from '../contacts/display-names.ts';
import { EngineError } from '../errors.ts';
import type { Outbound } from '../outbound/fanout.ts';
import { deviceNames } from './names.ts';

type DeviceHandlers = Pick<Handlers, 'devices.list' | 'devices.approve' | 'devices.revoke' | 'devices.rename'>;

const ACCOUNT_KEY_NEEDED = 'this device cannot change the account\'s devices: do it from the first device, or from one linked with the recovery kit';

export function deviceHandlers(ctx: EngineContext, outbound: Outbound): DeviceHandlers {
  /** A device's name: its own for this one, what a sibling sent, else the start of its id. */
  const namesOf = async (ids: string[]) => {
    const names = await deviceNames(ctx.vault, ids);
    if (ctx.profile.deviceName) names.set(ctx.deviceId, ctx.profile.deviceName);
    return (id: string) => names.get(id) || id.slice(0, 8);
  };
  return {
    'devices.list': async () => {
      const served = await ctx.http.accountDevices(ctx.profile.accountId);
      const name = await namesOf(served.devices.map((d) => d.deviceId));
      return {
        devices: served.devices.map((d) => ({
          id: d.deviceId, name: name(d.deviceId), createdAt: new Date(d.createdAt).toISOString(), current: d.deviceId === ctx.deviceId,
          status: d.status as 'active' | 'pending' | 'revoked',
        })),
      };
    },
    'devices.rename': async ({ name }) => {
      const deviceName = cleanDisplayName(name);
      await ctx.updateProfile({ deviceName });
      await ctx.lane.run(() => outbound.queueControl(ctx.username, { kind: 'profile', displayName: ctx.profile.displayName, deviceName }));
      outbound.flushSoon();
      const created = (await ctx.http.accountDevices(ctx.profile.accountId).catch(() => null))?.devices.find((d) => d.deviceId === ctx.deviceId)?.createdAt;
      return { id: ctx.deviceId, name: deviceName, createdAt: new Date(created ?? ctx.now()).toISOString(), current: true, status: 'active' as const };
    },
    'devices.approve': async ({ code }) => {
      const account = ctx.account;
      if (!account) throw new EngineError('FORBIDDEN', ACCOUNT_KEY_NEEDED);
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
    'devices.revoke': async ({ deviceId }) => {
      const account = ctx.account;
      if (!account) throw new EngineError('FORBIDDEN', ACCOUNT_KEY_NEEDED);
      if (deviceId === ctx.deviceId) throw new EngineError('INVALID', 'that is the device you are using: revoke it from another one');
      const now = ctx.now();
      return ctx.lane.run(async () => {
        const own = await ctx.directory.refresh(ctx.username);
        const served = await ctx.http.accountDevices(ctx.profile.accountId);
        const device = served.devices.find((d) => d.deviceId === deviceId);
        if (!device || !own.devices.includes(deviceId)) throw new EngineError('NOT_FOUND', 'no active device with that id on this account (devices lists them)');
        const version = Math.max(own.listVersion, ctx.profile.deviceListVersion, served.deviceListVersion) + 1;
        const list = signDeviceList(account, { userId: ctx.username, version, devices: own.devices.filter((d) => d !== deviceId), issuedAt: now });
        await ctx.http.revokeDevice(deviceId, signedBlob(list, account), version);
        await ctx.updateProfile({ deviceListVersion: version });
        await ctx.directory.refresh(ctx.username);
        return { id: deviceId, name: (await namesOf([deviceId]))(deviceId), createdAt: new Date(device.createdAt).toISOString(), current: false, status: 'revoked' as const };
      });
    },
  };
}
