// Prekeys, channels, presence and TURN credentials. Channel names and topics are opaque bytes: clients seal them
// under a key only the members hold, so the server routes a channel without knowing what it is called (an open
// channel's sealed name also lists it in clear, for the organisation to find; docs/protocol.md section 5).
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { randomBytes, toBase64Url } from '../../core/crypto/sodium.ts';
import type { Caller, Context } from '../context.ts';
import { badRequest, conflict, forbidden, notFound, parseInput } from '../errors.ts';
import { newId } from '../ids.ts';
import { b64bytes, idSchema } from '../schemas.ts';
import type { ChannelRole, PrekeyEntry, PrekeyStock } from '../store/types.ts';
import { ClaimLimiter } from '../claim-limits.ts';
import { storeWrite } from './accounts.ts';
import { PREKEYS_LOW_THRESHOLD } from '../ws/hub.ts';
import type { ServerNotice } from '../../core/relay/frames.ts';

const MAX_PREKEY_BYTES = 512;
const MAX_PREKEYS_PER_UPLOAD = 200;
/** An ML-KEM-768 prekey is its 1,184-byte public key and a 64-byte signature. */
const MAX_KEM_PREKEY_BYTES = 1536;
const MAX_KEM_PREKEYS_PER_UPLOAD = 100;
const PREKEY_BODY_LIMIT = 256 * 1024;
const MAX_CHANNEL_META_BYTES = 4096;
const MAX_PRESENCE_QUERY = 200;
const MAX_MEMBERS_PER_ADD = 1000;
/** A signed membership entry names at most MAX_MEMBERS_PER_ADD people; core/protocol/limits.ts has the same bound. */
const MAX_LOG_ENTRY_BYTES = 160 * 1024;
const MAX_LOG_PAGE = 500;

/** The members' signed record of a change, stored beside it; optional, because members (not we) check it. */
const logSchema = z.object({ seq: z.number().int().min(0), entry: b64bytes(1, MAX_LOG_ENTRY_BYTES) }).strict();

const keyId = z.number().int().min(0).max(2 ** 32 - 1);
const prekeySchema = z.object({ keyId, data: b64bytes(1, MAX_PREKEY_BYTES) }).strict();
const kemPrekeySchema = z.object({ keyId, data: b64bytes(1, MAX_KEM_PREKEY_BYTES) }).strict();
const channelParams = z.object({ channelId: idSchema }).strict();
const memberParams = z.object({ channelId: idSchema, accountId: idSchema }).strict();
const roleSchema = z.enum(['owner', 'admin', 'member']);

export function messagingRoutes(app: FastifyInstance, ctx: Context): void {
  // ------------------------------------------------------------------ prekeys
  const stockReply = (stock: PrekeyStock) => ({
    oneTimePrekeys: stock.oneTime, kemPrekeys: stock.kemOneTime, signedPrekeyId: stock.signedPrekeyId,
    lastResortPrekeyId: stock.lastResortId, kemLastResortPrekeyId: stock.kemLastResortId,
  });
  // ML-KEM public keys are 1,184 bytes: an upload of a full batch is larger than other requests may be
  app.put('/v1/prekeys', { bodyLimit: PREKEY_BODY_LIMIT }, async (request) => {
    const { device } = ctx.authenticate(request);
    const body = parseInput(z.object({
      signedPrekey: prekeySchema.optional(),
      lastResortPrekey: prekeySchema.optional(),
      kemLastResortPrekey: kemPrekeySchema.optional(),
      oneTimePrekeys: z.array(prekeySchema).max(MAX_PREKEYS_PER_UPLOAD),
      kemPrekeys: z.array(kemPrekeySchema).max(MAX_KEM_PREKEYS_PER_UPLOAD).optional(),
      replaceOneTime: z.boolean().optional(),
    }).strict(), request.body);
    const stock = storeWrite(() => ctx.store.putPrekeys(device.deviceId, {
      signed: body.signedPrekey ?? null, lastResort: body.lastResortPrekey ?? null, kemLastResort: body.kemLastResortPrekey ?? null,
      oneTime: body.oneTimePrekeys, kemOneTime: body.kemPrekeys ?? [], replaceOneTime: body.replaceOneTime ?? false,
    }, ctx.config.maxOneTimePrekeys));
    return stockReply(stock);
  });

  app.get('/v1/prekeys/count', async (request) => {
    const { device } = ctx.authenticate(request);
    return stockReply(ctx.store.prekeyStock(device.deviceId));
  });

  // One bundle per active device of the account. Each one-time prekey is handed out exactly once; a device with none
  // left of a kind gets its last-resort key of that kind in the bundle, and keeps it. Limited per claimer (claim-limits.ts).
  const claimLimiter = new ClaimLimiter();
  app.post('/v1/accounts/:accountId/prekeys/claim', async (request) => {
    const { account: claimer } = ctx.authenticate(request);
    const { accountId } = parseInput(z.object({ accountId: idSchema }).strict(), request.params, 'accountId');
    const body = parseInput(z.object({ devices: z.array(idSchema).max(100).optional() }).strict(), request.body ?? {});
    const account = ctx.store.getAccount(accountId);
    if (!account) throw notFound('no such account', 'no_such_account');
    const active = ctx.store.listDevices(accountId).filter((d) => d.status === 'active');
    const wanted = body.devices ? active.filter((d) => body.devices!.includes(d.deviceId)) : active;
    claimLimiter.take(claimer.accountId, wanted.map((d) => d.deviceId), ctx.now());
    const bundles = wanted.map((device) => {
      const claimed = ctx.store.claimPrekeys(device.deviceId);
      const remaining = Math.min(claimed.remainingOneTime, claimed.remainingKemOneTime);
      if (remaining < PREKEYS_LOW_THRESHOLD) ctx.hub.notify(device.deviceId, { t: 'event', kind: 'prekeys_low', remaining });
      const wire = (entry: PrekeyEntry | null) => entry && { keyId: entry.keyId, data: toBase64Url(entry.data) };
      return {
        deviceId: device.deviceId, signingPublicKey: toBase64Url(device.publicKey),
        signedPrekey: wire(claimed.signedPrekey), oneTimePrekey: wire(claimed.oneTimePrekey), kemPrekey: wire(claimed.kemPrekey),
      };
    });
    return { accountId, accountPublicKey: toBase64Url(account.publicKey), bundles };
  });

  // ------------------------------------------------------------------ channels
  const requireMember = (caller: Caller, channelId: string) => {
    const member = ctx.store.getMember(channelId, caller.account.accountId);
    if (!ctx.store.getChannel(channelId) || !member) throw notFound('no such channel, or you are not a member', 'no_such_channel');
    return member;
  };
  const requireManager = (caller: Caller, channelId: string) => {
    const member = requireMember(caller, channelId);
    if (member.role === 'member') throw forbidden('only channel owners and admins may do this', 'not_channel_admin');
    return member;
  };
  /** A change whose log entry is not the next one is refused whole: the client reads the log and signs again. */
  const inOrder = (stored: boolean) => {
    if (!stored) throw conflict('the channel changed meanwhile: read its log and try again', 'stale_log');
  };
  /** Bodies that carry only a log entry (join, leave, remove): none at all is allowed too. */
  const logOf = (body: unknown) => parseInput(z.object({ log: logSchema.optional() }).strict(), body ?? {}).log;
  /** Membership changes go to every member device (and the affected account's) as durable server notices. */
  const announce = async (channelId: string, notice: ServerNotice, formerMember: string | null = null) => {
    const devices = ctx.store.channelDeviceIds(channelId);
    if (formerMember) devices.push(...ctx.store.activeDeviceIds([formerMember]));
    await ctx.hub.postNotice(notice, channelId, devices, randomBytes(16));
  };
  const membership = (channel: string, change: 'joined' | 'left' | 'removed' | 'role', accounts: string[], by: string, role: ChannelRole | null): ServerNotice =>
    ({ kind: 'membership', channel, change, accounts, by, role });
  const channelView = (c: { channelId: string; name: Uint8Array; topic: Uint8Array; open: boolean; createdAt: number }, role: ChannelRole | null) =>
    ({ channelId: c.channelId, name: toBase64Url(c.name), topic: toBase64Url(c.topic), open: c.open, createdAt: c.createdAt, role });

  app.post('/v1/channels', async (request, reply) => {
    const caller = ctx.authenticate(request);
    const body = parseInput(z.object({
      name: b64bytes(0, MAX_CHANNEL_META_BYTES), topic: b64bytes(0, MAX_CHANNEL_META_BYTES).optional(), open: z.boolean().default(false),
      // a client may name its channel, so the first entry of its log can sign the id it will have
      channelId: idSchema.optional(), log: logSchema.optional(),
    }).strict(), request.body);
    if (body.log && body.log.seq !== 0) throw badRequest('a new channel\'s log starts at 0', 'stale_log');
    const channel = {
      channelId: body.channelId ?? newId(), name: body.name, topic: body.topic ?? new Uint8Array(0), open: body.open,
      createdBy: caller.account.accountId, createdAt: ctx.now(),
    };
    if (ctx.store.getChannel(channel.channelId)) throw conflict('a channel with that id exists', 'channel_exists');
    inOrder(ctx.store.changeChannel(channel.channelId, body.log, () => ctx.store.createChannel(channel, caller.account.accountId)));
    reply.code(201);
    return channelView(channel, 'owner');
  });

  app.get('/v1/channels', async (request) => {
    const caller = ctx.authenticate(request);
    return { channels: ctx.store.listChannelsFor(caller.account.accountId, ctx.isRetentionArchive(caller)).map((c) => channelView(c, c.role)) };
  });

  app.patch('/v1/channels/:channelId', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    const body = parseInput(z.object({
      name: b64bytes(0, MAX_CHANNEL_META_BYTES).optional(), topic: b64bytes(0, MAX_CHANNEL_META_BYTES).optional(),
    }).strict().refine((b) => b.name !== undefined || b.topic !== undefined, 'give name or topic'), request.body);
    const member = requireMember(caller, channelId);
    if (body.name !== undefined && member.role === 'member') throw forbidden('only channel owners and admins may rename', 'not_channel_admin');
    ctx.store.updateChannel(channelId, body);
    await announce(channelId, { kind: 'channel_updated', channel: channelId, by: caller.account.accountId });
    return channelView(ctx.store.getChannel(channelId)!, member.role);
  });

  // The log is for members, for anyone who may join an open channel (a joiner signs the entry after its head), and
  // for the compliance archive while the signed policy names it (it joins any channel: retention/retention.ts).
  app.get('/v1/channels/:channelId/log', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    const { after } = parseInput(z.object({ after: z.coerce.number().int().min(-1).default(-1) }).strict(), request.query, 'query');
    const channel = ctx.store.getChannel(channelId);
    const readable = channel && (channel.open || ctx.store.getMember(channelId, caller.account.accountId) || ctx.isRetentionArchive(caller));
    if (!readable) throw notFound('no such channel, or you are not a member', 'no_such_channel');
    return { entries: ctx.store.channelLog(channelId, after, MAX_LOG_PAGE).map((e) => ({ seq: e.seq, entry: toBase64Url(e.entry) })) };
  });

  app.get('/v1/channels/:channelId/members', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    requireMember(caller, channelId);
    return { members: ctx.store.listMembers(channelId) };
  });

  // Adds one or many accounts at once (one notice for the whole batch, so members rotate keys once).
  app.post('/v1/channels/:channelId/members', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    const { accountIds, log } = parseInput(z.object({ accountIds: z.array(idSchema).min(1).max(MAX_MEMBERS_PER_ADD), log: logSchema.optional() }).strict(), request.body);
    requireManager(caller, channelId);
    const unique = [...new Set(accountIds)];
    for (const accountId of unique) {
      const invitee = ctx.store.getAccount(accountId);
      // Messages a client may show as they are: in words, without ids (the code says which account is not needed).
      if (!invitee || invitee.suspended) throw notFound('that person has no active account in this organisation', 'no_such_account');
      if (ctx.store.getMember(channelId, accountId)) throw conflict('that person is already a member of this channel', 'already_member');
    }
    inOrder(ctx.store.changeChannel(channelId, log, () => ctx.store.addMembers(channelId, unique, 'member')));
    await announce(channelId, membership(channelId, 'joined', unique, caller.account.accountId, 'member'));
    return { members: ctx.store.listMembers(channelId) };
  });

  app.post('/v1/channels/:channelId/join', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    const channel = ctx.store.getChannel(channelId);
    // the archive joins any channel while the policy says so: its entry cites that policy, which members check
    if (!channel || (!channel.open && !ctx.store.getMember(channelId, caller.account.accountId) && !ctx.isRetentionArchive(caller))) {
      throw notFound('no such open channel', 'no_such_channel');
    }
    if (ctx.store.getMember(channelId, caller.account.accountId)) throw conflict('already a member', 'already_member');
    inOrder(ctx.store.changeChannel(channelId, logOf(request.body), () => ctx.store.setMember(channelId, caller.account.accountId, 'member')));
    await announce(channelId, membership(channelId, 'joined', [caller.account.accountId], caller.account.accountId, 'member'));
    return { members: ctx.store.listMembers(channelId) };
  });

  app.post('/v1/channels/:channelId/leave', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId } = parseInput(channelParams, request.params, 'channelId');
    const member = requireMember(caller, channelId);
    const members = ctx.store.listMembers(channelId);
    if (member.role === 'owner' && members.length > 1 && members.filter((m) => m.role === 'owner').length === 1) {
      throw conflict('make another member owner before the last owner leaves', 'last_owner');
    }
    inOrder(ctx.store.changeChannel(channelId, logOf(request.body), () => ctx.store.removeMember(channelId, caller.account.accountId)));
    await announce(channelId, membership(channelId, 'left', [caller.account.accountId], caller.account.accountId, null), caller.account.accountId);
    return { left: true };
  });

  app.delete('/v1/channels/:channelId/members/:accountId', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId, accountId } = parseInput(memberParams, request.params, 'path');
    const manager = requireManager(caller, channelId);
    const target = ctx.store.getMember(channelId, accountId);
    if (!target) throw notFound('that account is not a member', 'not_member');
    if (target.role === 'owner' || (target.role === 'admin' && manager.role !== 'owner')) {
      throw forbidden('you may only remove members below your role', 'not_channel_admin');
    }
    inOrder(ctx.store.changeChannel(channelId, logOf(request.body), () => ctx.store.removeMember(channelId, accountId)));
    await announce(channelId, membership(channelId, 'removed', [accountId], caller.account.accountId, null), accountId);
    return { members: ctx.store.listMembers(channelId) };
  });

  app.put('/v1/channels/:channelId/members/:accountId', async (request) => {
    const caller = ctx.authenticate(request);
    const { channelId, accountId } = parseInput(memberParams, request.params, 'path');
    const { role, log } = parseInput(z.object({ role: roleSchema, log: logSchema.optional() }).strict(), request.body);
    const manager = requireMember(caller, channelId);
    if (manager.role !== 'owner') throw forbidden('only channel owners change roles', 'not_channel_owner');
    const target = ctx.store.getMember(channelId, accountId);
    if (!target) throw notFound('that account is not a member', 'not_member');
    if (accountId === caller.account.accountId && role !== 'owner'
      && ctx.store.listMembers(channelId).filter((m) => m.role === 'owner').length === 1) {
      throw conflict('a channel needs at least one owner', 'last_owner');
    }
    inOrder(ctx.store.changeChannel(channelId, log, () => ctx.store.setMember(channelId, accountId, role)));
    await announce(channelId, membership(channelId, 'role', [accountId], caller.account.accountId, role));
    return { members: ctx.store.listMembers(channelId) };
  });

  // ------------------------------------------------------------------ presence and TURN
  app.get('/v1/presence', async (request) => {
    ctx.authenticate(request);
    const { accounts } = parseInput(z.object({ accounts: z.string().max(MAX_PRESENCE_QUERY * 23) }).strict(), request.query, 'query');
    const ids = accounts.split(',').filter(Boolean);
    if (ids.length > MAX_PRESENCE_QUERY || ids.some((id) => !idSchema.safeParse(id).success)) throw badRequest('accounts: comma-separated account ids', 'invalid_input');
    return { presence: ids.map((accountId) => ({ accountId, online: ctx.hub.isOnline(accountId) })) };
  });

  // coturn's REST API scheme (use-auth-secret): username "<expiry>:<account>", password base64(HMAC-SHA1(secret, username)).
  app.get('/v1/turn', async (request) => {
    const { account } = ctx.authenticate(request);
    if (ctx.config.turnSecret === null) throw notFound('this server has no TURN relay configured', 'no_turn');
    const expiry = Math.floor(ctx.now() / 1000) + ctx.config.turnTtlSeconds;
    const username = `${expiry}:${account.accountId}`;
    const credential = createHmac('sha1', ctx.config.turnSecret).update(username).digest('base64');
    return { urls: ctx.config.turnUrls, username, credential, ttlSeconds: ctx.config.turnTtlSeconds };
  });
}
