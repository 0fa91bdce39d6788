// Accounts, login and devices. The server checks every account signature it is handed (device certificates,
// device lists, recovery approvals) over the exact bytes it stores, so it cannot be made to store garbage, and
// it cannot forge them: only the account key signs a device into an account.
import type { FastifyInstance } from 'fastify';
import { generateSecret, generateURI } from 'otplib';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { signingKeyPair, toBase64Url, verify } from '../../core/crypto/sodium.ts';
import { authMessage, linkCancelMessage, recoveryInfoMessage, recoveryMessage } from '../../core/relay/challenge-messages.ts';
import { checkDeviceSignature, totpStep, TotpReplayGuard } from '../auth.ts';
import type { Context } from '../context.ts';
import { badRequest, conflict, forbidden, notFound, parseInput, unauthorized } from '../errors.ts';
import { LINK_TTL_MS, type LinkRequest } from '../link-requests.ts';
import { deviceIdFor, newId, secretHash } from '../ids.ts';
import {
  b64bytes, deviceListVersionSchema, idSchema, publicKeySchema, signedBlobSchema, usernameSchema,
} from '../schemas.ts';
import type { Device, SignedBlob } from '../store/types.ts';
import { StoreConflict } from '../store/types.ts';
import { CLOSE_REVOKED } from '../ws/hub.ts';

const MAX_CERT_BYTES = 4096;
const MAX_DEVICE_LIST_BYTES = 16 * 1024;
/**
 * Checked in place of an account key when a recovery names no account, so a failure costs one signature check
 * whether or not the username exists: the answer, and its timing, do not tell.
 */
const DECOY_KEY = signingKeyPair().publicKey;
const DECOY_CHALLENGE = new Uint8Array(32);

const signUpSchema = z.object({
  inviteCode: z.string().min(1).max(128),
  username: usernameSchema,
  accountPublicKey: publicKeySchema,
  device: z.object({ signingPublicKey: publicKeySchema, certificate: signedBlobSchema(MAX_CERT_BYTES) }).strict(),
  deviceList: signedBlobSchema(MAX_DEVICE_LIST_BYTES),
  deviceListVersion: deviceListVersionSchema,
}).strict();

const approvalSchema = z.object({
  certificate: signedBlobSchema(MAX_CERT_BYTES),
  deviceList: signedBlobSchema(MAX_DEVICE_LIST_BYTES),
  deviceListVersion: deviceListVersionSchema,
}).strict();

const deviceIdParams = z.object({ deviceId: idSchema }).strict();
const signedChallengeSchema = z.object({ challenge: z.string().max(64), signature: b64bytes(64, 64) }).strict();

function requireAccountSigned(publicKey: Uint8Array, blob: SignedBlob, what: string): void {
  if (!verify(blob.signature, blob.data, publicKey)) throw badRequest(`${what} is not signed by the account key`, 'bad_signature');
}

function publicDevice(device: Device) {
  return {
    deviceId: device.deviceId, signingPublicKey: toBase64Url(device.publicKey), status: device.status,
    certificate: device.certificate
      ? { data: toBase64Url(device.certificate.data), signature: toBase64Url(device.certificate.signature) } : null,
    createdAt: device.createdAt,
  };
}

/** A device waiting for approval, as its account's own devices see it. */
function waitingDevice(request: LinkRequest) {
  return { deviceId: request.deviceId, signingPublicKey: toBase64Url(request.publicKey), status: 'pending', certificate: null, createdAt: request.createdAt };
}

/** Maps store conflicts to 409s; other errors propagate as 500s. */
export function storeWrite<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StoreConflict) throw conflict(error.message, error.code);
    throw error;
  }
}

export function accountRoutes(app: FastifyInstance, ctx: Context): void {
  const totpReplay = new TotpReplayGuard();
  /** Checks a TOTP code against a secret: right, in time, and not used before for this account. */
  const totpAccepted = (accountId: string, secret: string | null, code: string): boolean => {
    const step = secret ? totpStep(secret, code) : null;
    return step !== null && totpReplay.accept(accountId, step);
  };

  app.get('/v1/server', async () => {
    const orgKey = ctx.orgKey();
    return {
      product: 'wardroom', api: 1, pin: ctx.pin,
      orgKey: orgKey ? toBase64Url(orgKey) : null, turn: ctx.config.turnUrls.length > 0,
    };
  });

  app.post('/v1/accounts', async (request, reply) => {
    const body = parseInput(signUpSchema, request.body);
    const now = ctx.now();
    const ipKey = `signup:${request.ip}`;
    ctx.addressBackoff.check(ipKey, now);
    const invite = ctx.store.getInvite(secretHash(body.inviteCode));
    if (!invite || invite.usedBy !== null || invite.expiresAt <= now) {
      ctx.addressBackoff.fail(ipKey, now); // invite codes are guessable only at this rate
      throw forbidden('the invite code is unknown, used or expired', 'invite_invalid');
    }
    requireAccountSigned(body.accountPublicKey, body.device.certificate, 'device certificate');
    requireAccountSigned(body.accountPublicKey, body.deviceList, 'device list');
    const accountId = newId();
    const deviceId = deviceIdFor(body.device.signingPublicKey);
    const account = storeWrite(() => ctx.store.createAccount({
      inviteHash: secretHash(body.inviteCode), now, accountId, username: body.username, publicKey: body.accountPublicKey,
      device: { deviceId, publicKey: body.device.signingPublicKey, certificate: body.device.certificate },
      deviceList: body.deviceList, deviceListVersion: body.deviceListVersion,
    }));
    ctx.addressBackoff.succeed(ipKey);
    ctx.log.info({ accountId, role: account.role }, 'account created');
    if (account.role === 'admin') ctx.audit(accountId, 'account.created_admin', accountId);
    reply.code(201);
    return { accountId, deviceId, role: account.role };
  });

  app.post('/v1/auth/challenge', async (request) => {
    const { deviceId } = parseInput(z.object({ deviceId: idSchema }).strict(), request.body);
    ctx.addressBackoff.check(`login:${request.ip}`, ctx.now());
    // Same answer for unknown devices, so the endpoint does not reveal which device ids exist.
    return ctx.challenges.issue(deviceId, request.ip, ctx.now());
  });

  /**
   * When each device last logged in with a TOTP code. Within the org policy's `totpRememberSeconds` of that, the
   * device may start new sessions with its signature alone (an engine renewing its session, a command-line
   * client logging in per command); without that policy field every new session needs a code. In memory, like
   * sessions: after a relay restart every device needs a code again.
   */
  const totpVerifiedAt = new Map<string, number>();
  /**
   * Devices approved in the last LINK_TTL_MS, which may start sessions without a code until then: the approval was
   * itself an act of a logged-in device of the account (or of its account key), and the new device needs a
   * session to finish enrolling (fetch its certificate, upload prekeys). After that it gives codes like any other.
   */
  const approvedAt = new Map<string, number>();
  const rememberedForTotp = (deviceId: string, now: number): boolean => {
    const approved = approvedAt.get(deviceId);
    if (approved !== undefined && now - approved < LINK_TTL_MS) return true;
    approvedAt.delete(deviceId);
    const seconds = ctx.policy().totpRememberSeconds ?? 0;
    const at = totpVerifiedAt.get(deviceId);
    return seconds > 0 && at !== undefined && now - at < seconds * 1000;
  };

  // Signature failures are limited per client address only: Ed25519 cannot be guessed, so a per-device lock
  // would add no security and would let anyone who knows a (public) device id lock that device out.
  // TOTP codes can be guessed, so they are limited per account, and only after a valid device signature. An account
  // with TOTP gets no new session while it is locked out for wrong codes, with a code or without: a stolen device
  // key must not be a way around the second factor.
  app.post('/v1/auth/session', async (request) => {
    const body = parseInput(z.object({
      deviceId: idSchema, challenge: z.string().max(64), signature: z.string().max(128),
      totp: z.string().max(10).optional(),
    }).strict(), request.body);
    const now = ctx.now();
    const addressKey = `login:${request.ip}`;
    ctx.addressBackoff.check(addressKey, now);
    const challenge = ctx.challenges.take(body.deviceId, body.challenge, now);
    const device = ctx.store.getDevice(body.deviceId);
    // A device waiting for approval logs in to learn whether it was approved; its signed attempt also keeps its
    // link request alive, and only the device itself can make one.
    const waiting = device ? null : ctx.linkRequests.live(body.deviceId, now);
    const publicKey = device?.publicKey ?? waiting?.publicKey ?? null;
    const signed = challenge !== null && publicKey !== null
      && checkDeviceSignature(publicKey, authMessage(challenge, body.deviceId), body.signature);
    if (!signed) {
      ctx.addressBackoff.fail(addressKey, now);
      throw unauthorized('the challenge signature did not verify (or the challenge expired)', 'bad_signature');
    }
    if (!device) {
      ctx.linkRequests.touch(waiting!, now);
      throw forbidden('this device is waiting for approval by another device', 'device_pending');
    }
    const account = ctx.store.getAccount(device.accountId)!;
    if (device.status === 'revoked') throw forbidden('this device was revoked', 'device_revoked');
    if (account.suspended) throw forbidden('this account is suspended', 'suspended');
    let secondFactor = false;
    const totpKey = `totp:${account.accountId}`;
    if (account.totpSecret !== null || body.totp !== undefined) ctx.backoff.check(totpKey, now);
    if (body.totp !== undefined) {
      if (!totpAccepted(account.accountId, account.totpSecret, body.totp)) {
        ctx.backoff.fail(totpKey, now);
        throw unauthorized('the TOTP code is wrong or was already used', 'bad_totp');
      }
      ctx.backoff.succeed(totpKey);
      totpVerifiedAt.set(device.deviceId, now);
      secondFactor = true;
    } else if (account.totpSecret !== null && !rememberedForTotp(device.deviceId, now)) {
      throw unauthorized('this account uses TOTP: log in with a current code from the authenticator app', 'totp_required');
    }
    const session = ctx.sessions.create(account.accountId, device.deviceId, secondFactor, now);
    return { ...session, accountId: account.accountId, deviceId: device.deviceId, role: account.role, secondFactor };
  });

  app.get('/v1/me', async (request) => {
    const { account, device, session } = ctx.authenticate(request);
    return {
      accountId: account.accountId, username: account.username, role: account.role, deviceId: device.deviceId,
      totpEnabled: account.totpSecret !== null, secondFactor: session.secondFactor,
    };
  });

  app.get('/v1/directory/:username', async (request) => {
    ctx.authenticate(request);
    const { username } = parseInput(z.object({ username: usernameSchema }).strict(), request.params, 'username');
    const account = ctx.store.getAccountByUsername(username);
    if (!account) throw notFound('no account with that username', 'no_such_user');
    return { accountId: account.accountId, username: account.username, accountPublicKey: toBase64Url(account.publicKey) };
  });

  app.get('/v1/accounts/:accountId/devices', async (request) => {
    const { account: caller } = ctx.authenticate(request);
    const { accountId } = parseInput(z.object({ accountId: idSchema }).strict(), request.params, 'accountId');
    const account = ctx.store.getAccount(accountId);
    if (!account) throw notFound('no such account', 'no_such_account');
    const list = ctx.store.getDeviceList(accountId);
    // Devices waiting to join are shown to the account's own devices only: anyone may have asked in its name.
    const waiting = caller.accountId === accountId ? ctx.linkRequests.forUsername(account.username, ctx.now()).map(waitingDevice) : [];
    return {
      accountId, accountPublicKey: toBase64Url(account.publicKey),
      deviceList: list ? { data: toBase64Url(list.list.data), signature: toBase64Url(list.list.signature) } : null,
      deviceListVersion: list?.version ?? 0,
      devices: [...ctx.store.listDevices(accountId).filter((d) => d.status !== 'revoked').map(publicDevice), ...waiting],
    };
  });

  app.put('/v1/accounts/me/device-list', async (request) => {
    const { account } = ctx.authenticate(request);
    const body = parseInput(z.object({ deviceList: signedBlobSchema(MAX_DEVICE_LIST_BYTES), deviceListVersion: deviceListVersionSchema }).strict(), request.body);
    requireAccountSigned(account.publicKey, body.deviceList, 'device list');
    storeWrite(() => ctx.store.setDeviceList(account.accountId, body.deviceList, body.deviceListVersion));
    announceDeviceList(ctx, account.accountId);
    return { deviceListVersion: body.deviceListVersion };
  });

  // Linking (docs/server-api.md, "Linking a device"). A new device asks to join an account without logging in, so
  // its request binds nothing: the same answer for every username, nothing counted against any account, and it
  // lives only while the device keeps polling. It becomes a device when the account approves it.
  app.post('/v1/devices/pending', async (request, reply) => {
    const body = parseInput(z.object({ username: usernameSchema, signingPublicKey: publicKeySchema }).strict(), request.body);
    if (ctx.store.getDevice(deviceIdFor(body.signingPublicKey))) throw conflict('that device key is already registered', 'device_exists');
    const opened = ctx.linkRequests.open(body.username, body.signingPublicKey, request.ip, ctx.now());
    reply.code(201);
    return opened;
  });

  // The new device withdraws its request (its link was cancelled), so that no approval can reach it afterwards.
  app.post('/v1/devices/:deviceId/cancel', async (request) => {
    const { deviceId } = parseInput(deviceIdParams, request.params, 'deviceId');
    const body = parseInput(signedChallengeSchema, request.body);
    const now = ctx.now();
    const key = `link:${request.ip}`;
    ctx.addressBackoff.check(key, now);
    const challenge = ctx.challenges.take(deviceId, body.challenge, now);
    const waiting = ctx.linkRequests.live(deviceId, now);
    if (!waiting) throw notFound('no device with that id is waiting for approval', 'no_link_request');
    if (!challenge || !verify(body.signature, linkCancelMessage(challenge, deviceId), waiting.publicKey)) {
      ctx.addressBackoff.fail(key, now);
      throw unauthorized('the challenge signature did not verify (or the challenge expired)', 'bad_signature');
    }
    ctx.linkRequests.remove(deviceId);
    return { deviceId, status: 'cancelled' };
  });

  /** The live request an approval names, if it asks to join this account. */
  const waitingToJoin = (deviceId: string, username: string): LinkRequest => {
    const waiting = ctx.linkRequests.live(deviceId, ctx.now());
    if (!waiting || waiting.username !== username) {
      throw notFound('no device with that id is waiting to join this account: its link may have been cancelled or have expired', 'no_link_request');
    }
    return waiting;
  };

  /** Turns an approved request into an active device with its certificate and the new list, in one transaction. */
  const addApproved = (waiting: LinkRequest, accountId: string, body: z.infer<typeof approvalSchema>): void => {
    storeWrite(() => ctx.store.addLinkedDevice({
      deviceId: waiting.deviceId, accountId, publicKey: waiting.publicKey, certificate: body.certificate, now: ctx.now(),
    }, body.deviceList, body.deviceListVersion));
    ctx.linkRequests.remove(waiting.deviceId);
    approvedAt.set(waiting.deviceId, ctx.now());
    announceDeviceList(ctx, accountId);
  };

  app.post('/v1/devices/:deviceId/approve', async (request) => {
    const { account, device: approver, session } = ctx.authenticate(request);
    const { deviceId } = parseInput(deviceIdParams, request.params, 'deviceId');
    const body = parseInput(approvalSchema, request.body);
    if (ctx.policy().requireTotpForDeviceLink && !session.secondFactor) {
      throw forbidden('org policy requires a TOTP-verified session to link devices', 'totp_required');
    }
    const waiting = waitingToJoin(deviceId, account.username);
    requireAccountSigned(account.publicKey, body.certificate, 'device certificate');
    requireAccountSigned(account.publicKey, body.deviceList, 'device list');
    addApproved(waiting, account.accountId, body);
    ctx.log.info({ accountId: account.accountId, deviceId, by: approver.deviceId }, 'device approved');
    return { deviceId, status: 'active' };
  });

  /**
   * Recovery: the account key itself (from the recovery kit) speaks for a device waiting to join. The request
   * names the account; the signature over a fresh challenge must be that account's key. Every failure is the same
   * 401 after one signature check, so a recovery attempt does not tell whether a username exists.
   */
  const recovering = (request: FastifyRequest, deviceId: string, proof: z.infer<typeof signedChallengeSchema>,
    message: (challenge: Uint8Array, deviceId: string) => Uint8Array) => {
    const now = ctx.now();
    const key = `recover:${request.ip}`;
    ctx.addressBackoff.check(key, now);
    const challenge = ctx.challenges.take(deviceId, proof.challenge, now);
    const waiting = ctx.linkRequests.live(deviceId, now);
    const account = waiting ? ctx.store.getAccountByUsername(waiting.username) : null;
    const valid = verify(proof.signature, message(challenge ?? DECOY_CHALLENGE, deviceId), account?.publicKey ?? DECOY_KEY);
    if (!valid || !challenge || !waiting || !account) {
      ctx.addressBackoff.fail(key, now);
      throw unauthorized('the recovery signature did not verify (or the challenge expired)', 'bad_signature');
    }
    if (account.suspended) throw forbidden('this account is suspended', 'suspended');
    return { waiting, account };
  };

  // The account's current signed list, for the device being recovered to publish the next one (it cannot log in).
  app.post('/v1/devices/:deviceId/recovery-info', async (request) => {
    const { deviceId } = parseInput(deviceIdParams, request.params, 'deviceId');
    const { account } = recovering(request, deviceId, parseInput(signedChallengeSchema, request.body), recoveryInfoMessage);
    const list = ctx.store.getDeviceList(account.accountId);
    return {
      accountId: account.accountId, accountPublicKey: toBase64Url(account.publicKey),
      deviceList: list ? { data: toBase64Url(list.list.data), signature: toBase64Url(list.list.signature) } : null,
      deviceListVersion: list?.version ?? 0,
    };
  });

  app.post('/v1/devices/:deviceId/recover', async (request) => {
    const { deviceId } = parseInput(deviceIdParams, request.params, 'deviceId');
    const body = parseInput(approvalSchema.extend(signedChallengeSchema.shape).strict(), request.body);
    const { waiting, account } = recovering(request, deviceId, body, recoveryMessage);
    requireAccountSigned(account.publicKey, body.certificate, 'device certificate');
    requireAccountSigned(account.publicKey, body.deviceList, 'device list');
    addApproved(waiting, account.accountId, body);
    ctx.log.info({ accountId: account.accountId, deviceId }, 'device approved with the recovery key');
    return { deviceId, status: 'active' };
  });

  app.post('/v1/devices/:deviceId/revoke', async (request) => {
    const { account } = ctx.authenticate(request);
    const { deviceId } = parseInput(deviceIdParams, request.params, 'deviceId');
    const body = parseInput(z.object({ deviceList: signedBlobSchema(MAX_DEVICE_LIST_BYTES), deviceListVersion: deviceListVersionSchema }).strict(), request.body);
    const target = ctx.store.getDevice(deviceId);
    if (!target || target.accountId !== account.accountId) throw notFound('no such device on this account', 'no_such_device');
    requireAccountSigned(account.publicKey, body.deviceList, 'device list');
    revokeDevice(ctx, deviceId, body.deviceList, body.deviceListVersion);
    return { deviceId, status: 'revoked' };
  });

  // TOTP enrolment: begin returns a fresh secret (shown once as a QR code); confirm proves the phone has it.
  const pendingTotp = new Map<string, { secret: string; expiresAt: number }>();
  app.post('/v1/account/totp/begin', async (request) => {
    const { account } = ctx.authenticate(request);
    if (account.totpSecret) throw conflict('TOTP is already enabled', 'totp_enabled');
    const secret = generateSecret();
    pendingTotp.set(account.accountId, { secret, expiresAt: ctx.now() + 10 * 60_000 });
    return { secret, uri: generateURI({ issuer: 'Wardroom', label: account.username, secret }) };
  });

  app.post('/v1/account/totp/confirm', async (request) => {
    const { account } = ctx.authenticate(request);
    const { code } = parseInput(z.object({ code: z.string().max(10) }).strict(), request.body);
    const pending = pendingTotp.get(account.accountId);
    const now = ctx.now();
    ctx.backoff.check(`totp:${account.accountId}`, now);
    if (!pending || pending.expiresAt <= now) throw conflict('start TOTP enrolment first', 'totp_not_started');
    if (!totpAccepted(account.accountId, pending.secret, code)) {
      ctx.backoff.fail(`totp:${account.accountId}`, now);
      throw badRequest('the TOTP code is wrong', 'bad_totp');
    }
    pendingTotp.delete(account.accountId);
    ctx.store.setTotpSecret(account.accountId, pending.secret);
    return { totpEnabled: true };
  });
}

/**
 * Tells every online device in the org to refetch this account's device list: anyone may be about to encrypt to
 * the account, and a sender that misses a new device leaves it unable to read. The server already knows the
 * account's devices changed, so telling everyone reveals nothing new. Offline devices refresh when they reconnect.
 */
export function announceDeviceList(ctx: Context, accountId: string): void {
  ctx.hub.broadcast({ t: 'event', kind: 'device_list', account: accountId });
}

/** Revocation takes effect at once: queue and prekeys dropped, sessions ended, socket closed. */
export function revokeDevice(ctx: Context, deviceId: string, list: SignedBlob | null, version: number | null): void {
  storeWrite(() => ctx.store.revokeDevice(deviceId, ctx.now(), list, version));
  ctx.sessions.revokeDevice(deviceId);
  ctx.hub.disconnect(deviceId, CLOSE_REVOKED, 'device revoked');
  const device = ctx.store.getDevice(deviceId);
  if (device) announceDeviceList(ctx, device.accountId);
  ctx.log.info({ deviceId }, 'device revoked');
}
