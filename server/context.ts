// What every route needs, gathered in one object: the store, the hub, the auth state and a few shared checks.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fromUtf8, sha256, toBase64Url, verify } from '../core/crypto/sodium.ts';
import type { Backoff, Challenges, Session, Sessions } from './auth.ts';
import type { LinkRequests } from './link-requests.ts';
import type { ServerConfig } from './config.ts';
import { forbidden, unauthorized } from './errors.ts';
import { formatInviteLink } from '../core/relay/invite-link.ts';
import { newSecret, secretHash } from './ids.ts';
import type { Account, Device, ServerStore } from './store/types.ts';
import type { Hub } from './ws/hub.ts';

export interface Caller {
  account: Account;
  device: Device;
  session: Session;
}

/**
 * The fields of the signed org policy the SERVER enforces. The document may carry more (clients enforce those);
 * the server reads only these, after verifying the org signature over the exact stored bytes.
 */
const enforcedPolicySchema = z.object({
  version: z.number().int().min(1),
  requireTotpForAdmin: z.boolean().optional(),
  requireTotpForDeviceLink: z.boolean().optional(),
  /** How long after a login with a TOTP code the same device may log in without one (0 or absent: never). */
  totpRememberSeconds: z.number().int().min(0).max(30 * 86_400).optional(),
  fileSharing: z.boolean().optional(),
  maxFileBytes: z.number().int().min(0).optional(),
  maxExpireSeconds: z.number().int().min(1).optional(),
  /** Record-keeping: the archive account may join any channel (its members check its entry against this policy). */
  retention: z.boolean().optional(),
  archiveAccount: z.string().max(64).optional(),
}).loose();
export type EnforcedPolicy = z.infer<typeof enforcedPolicySchema>;

export function parsePolicyDocument(data: Uint8Array): EnforcedPolicy | null {
  try {
    const result = enforcedPolicySchema.safeParse(JSON.parse(fromUtf8(data)));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

export const orgFingerprint = (orgKey: Uint8Array): string => toBase64Url(sha256(orgKey));

export interface ContextOptions {
  config: ServerConfig;
  store: ServerStore;
  hub: Hub;
  sessions: Sessions;
  challenges: Challenges;
  linkRequests: LinkRequests;
  backoff: Backoff;
  addressBackoff: Backoff;
  log: Logger;
  blobsDir: string;
  /** base URL and pin put into invite links */
  publicUrl: () => string;
  pin: string | null;
}

export class Context {
  readonly config: ServerConfig;
  readonly store: ServerStore;
  readonly hub: Hub;
  readonly sessions: Sessions;
  readonly challenges: Challenges;
  /** New devices waiting to be approved into an account (not stored: they bind nothing until approved). */
  readonly linkRequests: LinkRequests;
  /** Failed attempts per device or account. */
  readonly backoff: Backoff;
  /** Failed attempts per client address (more lenient: addresses are shared). */
  readonly addressBackoff: Backoff;
  readonly log: Logger;
  readonly blobsDir: string;
  readonly pin: string | null;
  readonly #publicUrl: () => string;
  #policyCache: { version: number; parsed: EnforcedPolicy } | null = null;

  constructor(options: ContextOptions) {
    this.config = options.config;
    this.store = options.store;
    this.hub = options.hub;
    this.sessions = options.sessions;
    this.challenges = options.challenges;
    this.linkRequests = options.linkRequests;
    this.backoff = options.backoff;
    this.addressBackoff = options.addressBackoff;
    this.log = options.log;
    this.blobsDir = options.blobsDir;
    this.pin = options.pin;
    this.#publicUrl = options.publicUrl;
  }

  now(): number {
    return Date.now();
  }

  orgKey(): Uint8Array | null {
    const value = this.store.getMeta('org_key');
    return value ? new Uint8Array(Buffer.from(value, 'base64url')) : null;
  }

  /** The enforced fields of the current policy; an org without a policy enforces nothing extra. */
  policy(): EnforcedPolicy {
    const record = this.store.getPolicy();
    if (!record) return { version: 0 };
    if (this.#policyCache?.version !== record.version) {
      this.#policyCache = { version: record.version, parsed: parsePolicyDocument(record.document.data) ?? { version: record.version } };
    }
    return this.#policyCache.parsed;
  }

  /**
   * Whether the caller is the compliance archive the signed policy names while retention is on: it may list, read
   * the log of and join every channel. Availability only: members accept its join only under a policy they verify.
   */
  isRetentionArchive(caller: Caller): boolean {
    const policy = this.policy();
    return policy.retention === true && policy.archiveAccount === caller.account.username;
  }

  /** Whether a document is signed by the org key. The server stores policy only after this check. */
  signedByOrg(data: Uint8Array, signature: Uint8Array): boolean {
    const key = this.orgKey();
    return key !== null && verify(signature, data, key);
  }

  /** The bearer token's caller, with a live check that the device is active and the account not suspended. */
  authenticate(request: FastifyRequest): Caller {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : null;
    if (!token) throw unauthorized('send Authorization: Bearer <session token>', 'no_token');
    const session = this.sessions.lookup(token, this.now());
    if (!session) throw unauthorized('the session token is unknown or expired; log in again', 'bad_token');
    const account = this.store.getAccount(session.accountId);
    const device = this.store.getDevice(session.deviceId);
    if (!account || !device || device.status !== 'active') throw unauthorized('this device is no longer active', 'device_inactive');
    if (account.suspended) throw forbidden('this account is suspended', 'suspended');
    return { account, device, session };
  }

  /** Admin role, plus a TOTP-verified session when the org policy requires one for admin actions. */
  requireAdmin(request: FastifyRequest): Caller {
    const caller = this.authenticate(request);
    if (caller.account.role !== 'admin') throw forbidden('this needs an org admin', 'not_admin');
    if (this.policy().requireTotpForAdmin && !caller.session.secondFactor) {
      throw forbidden('org policy requires a TOTP-verified session for admin actions', 'totp_required');
    }
    return caller;
  }

  audit(actor: string, action: string, target: string | null, detail: Record<string, unknown> | null = null): void {
    this.store.audit({ at: this.now(), actor, action, target, detail: detail ? JSON.stringify(detail) : null });
  }

  createInvite(admin: boolean, createdBy: string | null, ttlSeconds = this.config.inviteTtlSeconds): IssuedInvite {
    return issueInvite(this.store, { admin, createdBy, ttlSeconds, server: this.#publicUrl(), pin: this.pin, now: this.now() });
  }
}

export interface IssuedInvite {
  code: string;
  link: string;
  expiresAt: number;
}

/** Creates a single-use invite and returns its link; only the code's hash is stored. Shared with the `invite` CLI. */
export function issueInvite(store: ServerStore, options: {
  admin: boolean; createdBy: string | null; ttlSeconds: number; server: string; pin: string | null; now: number;
}): IssuedInvite {
  const code = newSecret();
  const expiresAt = options.now + options.ttlSeconds * 1000;
  store.createInvite(secretHash(code), options.admin, expiresAt, options.createdBy);
  const key = store.getMeta('org_key');
  const org = key ? orgFingerprint(new Uint8Array(Buffer.from(key, 'base64url'))) : null;
  return { code, link: formatInviteLink({ server: options.server, pin: options.pin, org, code }), expiresAt };
}
