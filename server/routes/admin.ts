// The org key, the signed policy and the admin API. The org key is registered once by the first admin; from then
// on the server stores a policy only if it verifies under that key, so the server can serve the policy but never
// write one. Every admin action lands in the audit log.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { toBase64Url } from '../../core/crypto/sodium.ts';
import { CLOSE_SUSPENDED } from '../ws/hub.ts';
import type { Context } from '../context.ts';
import { orgFingerprint, parsePolicyDocument } from '../context.ts';
import { badRequest, conflict, notFound, parseInput } from '../errors.ts';
import { idSchema, publicKeySchema, signedBlobSchema } from '../schemas.ts';
import { revokeDevice } from './accounts.ts';

const MAX_POLICY_BYTES = 16 * 1024;

export function adminRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/v1/org', async (request) => {
    ctx.authenticate(request);
    const orgKey = ctx.orgKey();
    const policy = ctx.store.getPolicy();
    return {
      orgKey: orgKey ? toBase64Url(orgKey) : null,
      orgFingerprint: orgKey ? orgFingerprint(orgKey) : null,
      policy: policy ? {
        version: policy.version,
        document: { data: toBase64Url(policy.document.data), signature: toBase64Url(policy.document.signature) },
      } : null,
    };
  });

  app.put('/v1/org/key', async (request) => {
    const caller = ctx.requireAdmin(request);
    const { publicKey } = parseInput(z.object({ publicKey: publicKeySchema }).strict(), request.body);
    if (!ctx.store.setMetaOnce('org_key', toBase64Url(publicKey))) throw conflict('the org key is already registered', 'org_key_set');
    ctx.audit(caller.account.accountId, 'org.key_registered', null, { fingerprint: orgFingerprint(publicKey) });
    return { orgFingerprint: orgFingerprint(publicKey) };
  });

  app.put('/v1/org/policy', async (request) => {
    const caller = ctx.requireAdmin(request);
    const { document } = parseInput(z.object({ document: signedBlobSchema(MAX_POLICY_BYTES) }).strict(), request.body);
    if (!ctx.orgKey()) throw conflict('register the org key before publishing a policy', 'no_org_key');
    if (!ctx.signedByOrg(document.data, document.signature)) throw badRequest('the policy is not signed by the org key', 'bad_signature');
    const parsed = parsePolicyDocument(document.data);
    if (!parsed) throw badRequest('the policy is not a JSON object with an integer "version" and well-typed fields', 'bad_policy');
    if (!ctx.store.putPolicy({ version: parsed.version, document })) {
      throw conflict('the policy version must be greater than the current one', 'stale_policy');
    }
    ctx.audit(caller.account.accountId, 'org.policy_published', null, { version: parsed.version });
    ctx.hub.broadcast({ t: 'event', kind: 'policy', version: parsed.version });
    return { version: parsed.version };
  });

  app.get('/v1/admin/users', async (request) => {
    ctx.requireAdmin(request);
    const { limit, offset } = parseInput(z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).default(0),
    }).strict(), request.query, 'query');
    const users = ctx.store.listAccounts(limit, offset).map((a) => ({
      accountId: a.accountId, username: a.username, role: a.role, suspended: a.suspended, createdAt: a.createdAt,
      totpEnabled: a.totpSecret !== null,
      devices: ctx.store.listDevices(a.accountId).map((d) => ({ deviceId: d.deviceId, status: d.status, createdAt: d.createdAt })),
    }));
    return { users };
  });

  app.post('/v1/admin/users/:accountId/suspend', async (request) => {
    const caller = ctx.requireAdmin(request);
    const { accountId } = parseInput(z.object({ accountId: idSchema }).strict(), request.params, 'accountId');
    const { suspended } = parseInput(z.object({ suspended: z.boolean() }).strict(), request.body);
    const target = ctx.store.getAccount(accountId);
    if (!target) throw notFound('no such account', 'no_such_account');
    if (accountId === caller.account.accountId) throw conflict('admins cannot suspend themselves', 'self_suspend');
    ctx.store.setSuspended(accountId, suspended);
    if (suspended) {
      ctx.sessions.revokeAccount(accountId);
      for (const device of ctx.store.listDevices(accountId)) ctx.hub.disconnect(device.deviceId, CLOSE_SUSPENDED, 'account suspended');
    }
    ctx.audit(caller.account.accountId, suspended ? 'account.suspended' : 'account.unsuspended', accountId);
    return { accountId, suspended };
  });

  app.post('/v1/admin/devices/:deviceId/revoke', async (request) => {
    const caller = ctx.requireAdmin(request);
    const { deviceId } = parseInput(z.object({ deviceId: idSchema }).strict(), request.params, 'deviceId');
    if (!ctx.store.getDevice(deviceId)) throw notFound('no such device', 'no_such_device');
    // An admin cannot sign the user's device list; the user's clients see the revoked device drop out of
    // delivery and publish a new signed list themselves.
    revokeDevice(ctx, deviceId, null, null);
    ctx.audit(caller.account.accountId, 'device.revoked', deviceId);
    return { deviceId, status: 'revoked' };
  });

  app.post('/v1/admin/invites', async (request, reply) => {
    const caller = ctx.requireAdmin(request);
    const body = parseInput(z.object({
      admin: z.boolean().default(false), ttlSeconds: z.number().int().min(60).max(90 * 86_400).optional(),
    }).strict(), request.body ?? {});
    const invite = ctx.createInvite(body.admin, caller.account.accountId, body.ttlSeconds);
    ctx.audit(caller.account.accountId, 'invite.created', null, { admin: body.admin, expiresAt: invite.expiresAt });
    reply.code(201);
    return invite;
  });

  app.get('/v1/admin/audit', async (request) => {
    ctx.requireAdmin(request);
    const { after, limit } = parseInput(z.object({
      after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(200),
    }).strict(), request.query, 'query');
    return { entries: ctx.store.listAudit(after, limit) };
  });
}
