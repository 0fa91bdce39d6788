// The engine's HTTP client for the relay (docs/server-api.md section 4). The relay is outside the client's trust:
// every reply is read up to a size limit and checked against a schema before any field is used, and TLS is pinned
// to the key the invite link carried. Binary fields are Uint8Array here; base64url exists only on the wire.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { z } from 'zod';
import { CodedError } from '../crypto/coded-error.ts';
import { fromBase64Url, sha256, sign, toBase64Url } from '../crypto/sodium.ts';
import { fetchPinnedCertificate, PinError, pinnedTrust } from '../net/pinned-tls.ts';
import type { PinnedTrust } from '../net/pinned-tls.ts';
import { deviceIdFor } from '../protocol/ids.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { RelayPrekeyStock } from '../protocol/prekeys.ts';
import { ID_PATTERN } from '../relay/frames.ts';
import { b64bytes } from '../relay/base64-bytes.ts';
import { authMessage, linkCancelMessage, recoveryInfoMessage, recoveryMessage } from '../relay/challenge-messages.ts';
import { parseInviteLink } from '../relay/invite-link.ts';
import { EngineError } from './errors.ts';

export interface RelayEndpoint {
  /** origin of the relay: https:, or http: for a loopback test server */
  server: string;
  /** base64url SHA-256 of the server's SPKI, from the invite; null only for http: */
  pin: string | null;
  /** the server certificate (PEM) fetched once at enrolment and checked against the pin; null only for http: */
  ca: string | null;
}

export interface SignedBlob {
  data: Uint8Array;
  signature: Uint8Array;
}

export interface Prekey {
  keyId: number;
  /** opaque to the relay (at most 512 bytes; an ML-KEM prekey at most 1,536) */
  data: Uint8Array;
}

/** A prekey upload (PUT /v1/prekeys); what is left out stays as the relay holds it. */
export interface PrekeyUploadRequest {
  signedPrekey?: Prekey;
  lastResortPrekey?: Prekey;
  kemLastResortPrekey?: Prekey;
  oneTimePrekeys: Prekey[];
  kemPrekeys?: Prekey[];
  /** the relay drops the one-time keys it holds for this device first */
  replaceOneTime?: boolean;
}

/**
 * Every failure talking to the relay but one (UntrustedRelayError). `status` is the HTTP status (0 when there was
 * none); `code` is the server's error code, or one of ours: network, timeout, bad_reply, closed, insecure,
 * invalid_input, no_device. The message is written for the person using the client (it may reach their screen):
 * no request paths, no ids. `detail` is for the log: the request it was for and any technical detail.
 */
export class RelayError extends CodedError<string> {
  override readonly name = 'RelayError';
  readonly status: number;
  /** What the server asked for in Retry-After (429, some 503), if anything. */
  readonly retryAfterSeconds: number | null;
  readonly detail: string | null;
  constructor(code: string, message: string, options: { status?: number; retryAfterSeconds?: number | null; cause?: unknown; detail?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? 0;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.detail = options.detail ?? null;
  }
}

/**
 * The server at the relay's address proved it is not the relay we pinned: its certificate's key is not the pinned
 * one, so nothing was sent to it. An alarm, not a network fault: someone may be intercepting the connection, and
 * retrying cannot help. It is an ApiError, so every command that meets it fails with UNTRUSTED_RELAY and this
 * line, whatever layer it crossed; the technical detail stays in `cause`, for the log.
 */
export class UntrustedRelayError extends EngineError {
  /** the relay's origin, as the profile (or the invite) names it */
  readonly relay: string;
  constructor(relay: string, options: { cause?: unknown } = {}) {
    super('UNTRUSTED_RELAY', `the relay at ${relay} presented a TLS key that is not the pinned one: the connection may be intercepted, so nothing was sent`);
    this.relay = relay;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

// ---------------------------------------------------------------- endpoint

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ResolvedEndpoint {
  url: URL;
  /** host name or address without IPv6 brackets, for net/tls */
  host: string;
  port: number;
  /** null for http: */
  trust: PinnedTrust | null;
  /** the TLS server name: set only when the host is a name (an IP address cannot be one) */
  servername: string | undefined;
}

function parseOrigin(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new RelayError('invalid_input', 'the relay address is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RelayError('invalid_input', 'the relay address must be https:');
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new RelayError('invalid_input', 'the relay address must be a plain origin (no path, query or credentials)');
  }
  return url;
}

const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

function requireLoopback(url: URL): void {
  if (!LOOPBACK_HOSTS.has(bareHost(url))) {
    throw new RelayError('insecure', `plain http: is allowed only to this computer (127.0.0.1, ::1, localhost), not ${bareHost(url)}: ` +
      'anyone on the network could read and change the traffic. Use the https: link from the invite.');
  }
}

/** Checks an endpoint (the same rules as trustEndpoint) and works out how to connect to it; shared with RelaySocket. */
export function resolveEndpoint(endpoint: RelayEndpoint): ResolvedEndpoint {
  const url = parseOrigin(endpoint.server);
  const host = bareHost(url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (url.protocol === 'http:') {
    requireLoopback(url);
    return { url, host, port, trust: null, servername: undefined };
  }
  if (endpoint.pin === null || endpoint.ca === null) throw new RelayError('insecure', 'an https: relay needs its pinned certificate (see trustEndpoint)');
  let trust: PinnedTrust;
  try {
    trust = pinnedTrust(endpoint.ca, endpoint.pin);
  } catch (error) {
    // The profile's own certificate and pin disagree: a local fault (nothing was presented by any server yet).
    throw new RelayError('invalid_input', error instanceof PinError ? 'the stored relay certificate does not match the stored pin'
      : 'the stored relay certificate is not a PEM certificate', { cause: error });
  }
  return { url, host, port, trust, servername: isIP(host) ? undefined : host };
}

/**
 * TLS options for a pinned connection (https and wss alike). `rejectUnauthorized` is set explicitly: left out, Node
 * reads it from NODE_TLS_REJECT_UNAUTHORIZED, and with that at 0 it completes a handshake whose chain or pin check
 * failed and sends the request (and its token) anyway. The pin must hold whatever the environment says.
 */
export function pinnedTlsOptions(target: ResolvedEndpoint): { ca: string; checkServerIdentity: PinnedTrust['checkServerIdentity']; servername: string | undefined; rejectUnauthorized: true } {
  if (!target.trust) throw new RelayError('insecure', 'a pinned connection needs the pinned certificate');
  return { ca: target.trust.ca, checkServerIdentity: target.trust.checkServerIdentity, servername: target.servername, rejectUnauthorized: true };
}

/**
 * Turns the server address and pin from an invite into the endpoint to store. For https: the certificate whose
 * key matches the pin is fetched over a bare TLS handshake (no request is sent to a server that fails the pin).
 */
export async function trustEndpoint(server: string, pin: string | null, timeoutMs = 15_000): Promise<RelayEndpoint> {
  const url = parseOrigin(server);
  if (url.protocol === 'http:') {
    requireLoopback(url);
    return { server: url.origin, pin: null, ca: null };
  }
  if (pin === null) throw new RelayError('insecure', 'an https: relay needs the certificate pin from the invite link');
  // fetchPinnedCertificate reports its own timeout as a PinError; our shorter timer keeps "no answer" apart from
  // "wrong key", which the user must see as an alarm.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RelayError('timeout', `no TLS handshake from ${url.host} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ca = await Promise.race([fetchPinnedCertificate(bareHost(url), Number(url.port || 443), pin, timeoutMs + 1000), timeout]);
    return { server: url.origin, pin, ca };
  } catch (error) {
    throw transportError(error, `fetching the certificate of ${url.host}`, url.origin);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * OpenSSL's verdicts when the chain does not validate. With `ca` set to the pinned certificate alone, any of them
 * means the server did not present the certificate we pinned: an impostor, as far as we can tell.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
]);

/**
 * Maps a thrown transport error to a RelayError whose message carries no request data, or to an
 * UntrustedRelayError when the server at `relay` failed the pin.
 */
export function transportError(error: unknown, what: string, relay: string): RelayError | UntrustedRelayError {
  if (error instanceof RelayError || error instanceof UntrustedRelayError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof PinError || (code !== undefined && UNTRUSTED_CERTIFICATE.has(code))) return new UntrustedRelayError(relay, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new RelayError('network', message, { cause: error, detail: what });
}

/** The relay could not be reached (as opposed to refusing): what a send can wait out. */
export function relayUnreachable(error: unknown): boolean {
  return (error instanceof RelayError && ['network', 'timeout', 'closed'].includes(error.code)) || (error instanceof EngineError && error.code === 'OFFLINE');
}

// ---------------------------------------------------------------- reply schemas
// Objects are not strict: a newer relay may add fields, which are dropped here unread. Every field we read is
// checked, byte strings are decoded with their length bounds, and the server limits (docs/server-api.md) are ours.

const MAX_CERT_BYTES = 4096;
const MAX_DEVICE_LIST_BYTES = 16 * 1024;
const MAX_PREKEY_BYTES = 512;
const MAX_KEM_PREKEY_BYTES = 1536;
const MAX_PREKEYS_PER_UPLOAD = 200;
const MAX_KEM_PREKEYS_PER_UPLOAD = 100;
const MAX_CHANNEL_META_BYTES = 4096;
const MAX_POLICY_BYTES = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const id = z.string().regex(ID_PATTERN, 'must be a 22-character id');
const publicKey = b64bytes(32, 32);
const time = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const username = z.string().min(2).max(32);
const accountRole = z.enum(['admin', 'member']);
const channelRole = z.enum(['owner', 'admin', 'member']);
const signedBlob = (max: number) => z.object({ data: b64bytes(1, max), signature: b64bytes(64, 64) });
const keyId = z.number().int().min(0).max(2 ** 32 - 1);
const prekey = z.object({ keyId, data: b64bytes(1, MAX_PREKEY_BYTES) });
const kemPrekey = z.object({ keyId, data: b64bytes(1, MAX_KEM_PREKEY_BYTES) });
// A device id is derived from its key (core/protocol/ids.ts): a relay cannot pair a known id with another key.
const keyMatchesId = (d: { deviceId: string; signingPublicKey: Uint8Array }) => deviceIdFor(d.signingPublicKey) === d.deviceId;
const KEY_MISMATCH = { message: 'device id does not belong to its signing key' };

const replies = {
  server: z.object({ product: z.literal('wardroom'), api: z.number().int().min(1), pin: z.string().max(64).nullable(), orgKey: publicKey.nullable(), turn: z.boolean() }),
  challenge: z.object({ challenge: z.string().min(1).max(64).regex(BASE64URL) }),
  // The token goes into a header: the pattern also keeps CR/LF and other header tricks out.
  session: z.object({
    token: z.string().min(16).max(256).regex(/^[A-Za-z0-9_-]+$/), expiresAt: time, accountId: id, deviceId: id, role: accountRole, secondFactor: z.boolean(),
  }),
  created: z.object({ accountId: id, deviceId: id, role: accountRole }),
  me: z.object({ accountId: id, username, role: accountRole, deviceId: id, totpEnabled: z.boolean(), secondFactor: z.boolean() }),
  directory: z.object({ accountId: id, username, accountPublicKey: publicKey }),
  devices: z.object({
    accountId: id, accountPublicKey: publicKey, deviceList: signedBlob(MAX_DEVICE_LIST_BYTES).nullable(), deviceListVersion: count,
    devices: z.array(z.object({
      deviceId: id, signingPublicKey: publicKey, status: z.enum(['pending', 'active', 'revoked']), certificate: signedBlob(MAX_CERT_BYTES).nullable(), createdAt: time,
    }).refine(keyMatchesId, KEY_MISMATCH)).max(1000),
  }),
  deviceListVersion: z.object({ deviceListVersion: count }),
  pending: z.object({ deviceId: id, expiresAt: time }),
  recoveryInfo: z.object({ accountId: id, accountPublicKey: publicKey, deviceList: signedBlob(MAX_DEVICE_LIST_BYTES).nullable(), deviceListVersion: count }),
  cancelled: z.object({ deviceId: id, status: z.literal('cancelled') }),
  deviceStatus: z.object({ deviceId: id, status: z.enum(['active', 'revoked']) }),
  prekeyStock: z.object({
    oneTimePrekeys: count, kemPrekeys: count, signedPrekeyId: keyId.nullable(), lastResortPrekeyId: keyId.nullable(), kemLastResortPrekeyId: keyId.nullable(),
  }).transform((r): RelayPrekeyStock => ({
    oneTime: r.oneTimePrekeys, kemOneTime: r.kemPrekeys, signedPrekeyId: r.signedPrekeyId, lastResortId: r.lastResortPrekeyId, kemLastResortId: r.kemLastResortPrekeyId,
  })),
  claim: z.object({
    accountId: id, accountPublicKey: publicKey,
    bundles: z.array(z.object({
      deviceId: id, signingPublicKey: publicKey, signedPrekey: prekey.nullable(), oneTimePrekey: prekey.nullable(),
      // absent from a relay from before ML-KEM; the protocol refuses a bundle without it when the device has one
      kemPrekey: kemPrekey.nullable().default(null),
    }).refine(keyMatchesId, KEY_MISMATCH)).max(1000),
  }),
  channel: z.object({
    channelId: id, name: b64bytes(0, MAX_CHANNEL_META_BYTES), topic: b64bytes(0, MAX_CHANNEL_META_BYTES), open: z.boolean(), createdAt: time, role: channelRole.nullable(),
  }),
  members: z.object({ members: z.array(z.object({ accountId: id, role: channelRole })).max(100_000) }),
  left: z.object({ left: z.literal(true) }),
  log: z.object({ entries: z.array(z.object({ seq: count, entry: b64bytes(1, LIMITS.membershipEntryBytes) })).max(500) }), // checked by core/protocol/membership.ts
  invite: z.object({ code: z.string().min(1).max(128).regex(BASE64URL), link: z.string().max(2048), expiresAt: time })
    .refine((i) => {
      try {
        return parseInviteLink(i.link).code === i.code;
      } catch {
        return false;
      }
    }, { message: 'link is not a valid invite link for this code' }),
  // The fingerprint is what invite links carry; it must be the served key's, or a check against it means nothing.
  org: z.object({
    orgKey: publicKey.nullable(), orgFingerprint: z.string().max(64).nullable(),
    policy: z.object({ version: count, document: signedBlob(MAX_POLICY_BYTES) }).nullable(),
  }).refine((o) => (o.orgKey === null ? o.orgFingerprint === null : o.orgFingerprint === toBase64Url(sha256(o.orgKey))),
    { message: 'orgFingerprint is not the SHA-256 of orgKey' }),
  orgKeySet: z.object({ orgFingerprint: z.string().max(64) }),
  policySet: z.object({ version: count }),
  error: z.object({ error: z.object({ code: z.string().regex(/^[a-z0-9_]{1,64}$/), message: z.string().max(1000) }) }),
};
const channelsReply = z.object({ channels: z.array(replies.channel).max(10_000) });
const blobReplies = {
  created: z.object({ blobId: id, size: count, uploaded: count, maxChunkBytes: z.number().int().min(1024).max(64 * 1024 * 1024), expiresAt: time }),
  status: z.object({ blobId: id, size: count, uploaded: count, complete: z.boolean(), expiresAt: time }),
  put: z.object({ blobId: id, uploaded: count, complete: z.boolean() }),
  deleted: z.object({ deleted: z.literal(true) }),
};
export type BlobStatus = z.infer<typeof blobReplies.status>;

export type ServerInfo = z.infer<typeof replies.server>;
export type LoginResult = z.infer<typeof replies.session>;
export type Me = z.infer<typeof replies.me>;
export type DirectoryEntry = z.infer<typeof replies.directory>;
export type AccountDevices = z.infer<typeof replies.devices>;
export type PrekeyClaim = z.infer<typeof replies.claim>;
export type Channel = z.infer<typeof replies.channel>;
export type ChannelRole = z.infer<typeof channelRole>;
/** A signed membership entry and the position it takes in the channel's log. */
export interface LogEntry {
  seq: number;
  entry: Uint8Array;
}
const logBody = (seq: number, entry: Uint8Array) => ({ seq, entry: toBase64Url(entry) });
export type ChannelMember = z.infer<typeof replies.members>['members'][number];
export type Invite = z.infer<typeof replies.invite>;
export type OrgInfo = z.infer<typeof replies.org>;

// ---------------------------------------------------------------- signing (the framing in server/auth.ts)
// Domain separation: a login or recovery signature can never be replayed as any other signed object.


const wireBlob = (blob: SignedBlob) => ({ data: toBase64Url(blob.data), signature: toBase64Url(blob.signature) });
const wirePrekey = (key: Prekey) => ({ keyId: key.keyId, data: toBase64Url(key.data) });

/** Ids go into URL paths: anything but a well-formed id is refused before a request is built. */
function pathId(value: string, what: string): string {
  if (!ID_PATTERN.test(value)) throw new RelayError('invalid_input', `${what} is not a 22-character id`);
  return value;
}

// ---------------------------------------------------------------- client

interface RawReply {
  status: number;
  contentType: string;
  retryAfter: string | undefined;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * Asked for a current TOTP code when the relay wants one to log in (the account has TOTP, and this device is not
 * within the org policy's remembered window). null: no code to give, and the login fails with totp_required.
 */
export type TotpCodeProvider = () => Promise<string | null>;

export interface RelayHttpOptions {
  timeoutMs?: number;
  maxReplyBytes?: number;
  totpCode?: TotpCodeProvider;
}

export class RelayHttp {
  readonly #target: ResolvedEndpoint;
  readonly #agent: http.Agent;
  /** downloads stream on connections of their own, closed after: a long stream never holds a kept-alive socket */
  readonly #streamAgent: http.Agent;
  readonly #timeoutMs: number;
  readonly #maxReplyBytes: number;
  readonly #totpCode: TotpCodeProvider | null;
  #device: { deviceId: string; secretKey: Uint8Array } | null = null;
  #token: string | null = null;
  #loggingIn: Promise<LoginResult> | null = null;

  constructor(endpoint: RelayEndpoint, options: RelayHttpOptions = {}) {
    this.#target = resolveEndpoint(endpoint);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.#totpCode = options.totpCode ?? null;
    const trust = this.#target.trust;
    this.#agent = trust ? new https.Agent({ keepAlive: true, ...pinnedTlsOptions(this.#target) }) : new http.Agent({ keepAlive: true });
    this.#streamAgent = trust ? new https.Agent({ keepAlive: false, ...pinnedTlsOptions(this.#target) }) : new http.Agent({ keepAlive: false });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
    this.#streamAgent.destroy();
  }

  /** The device key used to log in (kept by reference, never logged). Authenticated calls then log in on demand. */
  setDevice(deviceId: string, signingSecretKey: Uint8Array): void {
    this.#device = { deviceId: pathId(deviceId, 'deviceId'), secretKey: signingSecretKey };
    this.#token = null;
  }

  /**
   * A session token, logging in if there is none. `rejected`: a token the server just refused (e.g. a 401 on the
   * WebSocket upgrade); if it is the current one it is dropped first, so this logs in afresh.
   */
  async token(rejected?: string): Promise<string> {
    if (rejected !== undefined) this.invalidateToken(rejected);
    if (this.#token !== null) return this.#token;
    // Concurrent callers share one login.
    return (await (this.#loggingIn ?? this.login())).token;
  }

  /** Forgets the session token (only if it is `token`, when given), so the next call logs in again. */
  invalidateToken(token?: string): void {
    if (token === undefined || token === this.#token) this.#token = null;
  }

  /**
   * Logs in now: challenge, signed with the device key, exchanged for a token. With `totp` the session is
   * second-factor. Without it, if the relay answers totp_required, the code provider (if any) is asked once.
   */
  async login(totp?: string): Promise<LoginResult> {
    const attempt = this.#login(totp);
    this.#loggingIn = attempt;
    try {
      return await attempt;
    } finally {
      if (this.#loggingIn === attempt) this.#loggingIn = null;
    }
  }

  async #login(totp: string | undefined): Promise<LoginResult> {
    try {
      return await this.#session(totp);
    } catch (error) {
      if (totp !== undefined || !this.#totpCode || !(error instanceof RelayError) || error.code !== 'totp_required') throw error;
    }
    const code = await this.#totpCode();
    if (code === null) throw new RelayError('totp_required', 'this account uses TOTP and no code was given to log in', { status: 401 });
    return this.#session(code);
  }

  async #session(totp: string | undefined): Promise<LoginResult> {
    if (!this.#device) throw new RelayError('no_device', 'logging in needs the device key: call setDevice() first');
    const { deviceId, secretKey } = this.#device;
    const { challenge, bytes: challengeBytes } = await this.#challenge(deviceId);
    const session = await this.#call('POST', '/v1/auth/session', replies.session, {
      deviceId, challenge, signature: toBase64Url(sign(authMessage(challengeBytes, deviceId), secretKey)), ...(totp === undefined ? {} : { totp }),
    });
    if (session.deviceId !== deviceId) throw new RelayError('bad_reply', 'the relay logged us in as another device');
    this.#token = session.token;
    return session;
  }

  async #challenge(deviceId: string): Promise<{ challenge: string; bytes: Uint8Array }> {
    const { challenge } = await this.#call('POST', '/v1/auth/challenge', replies.challenge, { deviceId });
    try {
      return { challenge, bytes: fromBase64Url(challenge) };
    } catch {
      throw new RelayError('bad_reply', 'the relay sent a malformed login challenge', { detail: 'POST /v1/auth/challenge: not base64url' });
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    return this.#call('GET', '/v1/server', replies.server);
  }

  async createAccount(req: {
    inviteCode: string; username: string; accountPublicKey: Uint8Array; signingPublicKey: Uint8Array;
    certificate: SignedBlob; deviceList: SignedBlob; deviceListVersion: number;
  }): Promise<{ accountId: string; deviceId: string; role: 'admin' | 'member' }> {
    const created = await this.#call('POST', '/v1/accounts', replies.created, {
      inviteCode: req.inviteCode, username: req.username, accountPublicKey: toBase64Url(req.accountPublicKey),
      device: { signingPublicKey: toBase64Url(req.signingPublicKey), certificate: wireBlob(req.certificate) },
      deviceList: wireBlob(req.deviceList), deviceListVersion: req.deviceListVersion,
    });
    if (created.deviceId !== deviceIdFor(req.signingPublicKey)) throw new RelayError('bad_reply', 'the relay named our device with an id not derived from its key');
    return created;
  }

  async me(): Promise<Me> {
    return this.#authed('GET', '/v1/me', replies.me);
  }

  /** The account behind a username; RelayError code no_such_user when there is none. */
  async directory(name: string): Promise<DirectoryEntry> {
    const entry = await this.#authed('GET', `/v1/directory/${encodeURIComponent(name)}`, replies.directory);
    if (entry.username !== name) throw new RelayError('bad_reply', 'the relay answered for another username');
    return entry;
  }

  async accountDevices(accountId: string): Promise<AccountDevices> {
    const reply = await this.#authed('GET', `/v1/accounts/${pathId(accountId, 'accountId')}/devices`, replies.devices);
    if (reply.accountId !== accountId) throw new RelayError('bad_reply', 'the relay answered for another account');
    return reply;
  }

  async putDeviceList(list: SignedBlob, version: number): Promise<void> {
    await this.#authed('PUT', '/v1/accounts/me/device-list', replies.deviceListVersion, { deviceList: wireBlob(list), deviceListVersion: version });
  }

  /**
   * A new device asks to join the account of `username` (no login: the device cannot log in until approved). The
   * relay answers alike whether or not the name exists. The request lives while the device polls login() (which
   * answers device_pending until an approval) and ends with cancelPendingDevice().
   */
  async requestPendingDevice(name: string, signingPublicKey: Uint8Array): Promise<z.infer<typeof replies.pending>> {
    const pending = await this.#call('POST', '/v1/devices/pending', replies.pending, { username: name, signingPublicKey: toBase64Url(signingPublicKey) });
    if (pending.deviceId !== deviceIdFor(signingPublicKey)) throw new RelayError('bad_reply', 'the relay named our device with an id not derived from its key');
    return pending;
  }

  /** Withdraws this device's link request (signed with the key set by setDevice), so no approval can reach it. */
  async cancelPendingDevice(): Promise<void> {
    if (!this.#device) throw new RelayError('no_device', 'cancelling a link needs the device key: call setDevice() first');
    const { deviceId, secretKey } = this.#device;
    const { challenge, bytes } = await this.#challenge(deviceId);
    try {
      await this.#call('POST', `/v1/devices/${deviceId}/cancel`, replies.cancelled, { challenge, signature: toBase64Url(sign(linkCancelMessage(bytes, deviceId), secretKey)) });
    } catch (error) {
      if (!(error instanceof RelayError) || error.code !== 'no_link_request') throw error; // gone already: expired
    }
  }

  /** The account and its current signed device list, for a device being recovered with the account key. */
  async recoveryInfo(deviceId: string, accountSecretKey: Uint8Array): Promise<z.infer<typeof replies.recoveryInfo>> {
    const { challenge, bytes } = await this.#challenge(deviceId);
    return this.#call('POST', `/v1/devices/${pathId(deviceId, 'deviceId')}/recovery-info`, replies.recoveryInfo, {
      challenge, signature: toBase64Url(sign(recoveryInfoMessage(bytes, deviceId), accountSecretKey)),
    });
  }

  /**
   * Certifies a device waiting to join this account. EngineError NOT_FOUND when no such device is waiting any more
   * (its link was cancelled, its process stopped, or it never asked): something the person approving can act on.
   */
  async approveDevice(deviceId: string, certificate: SignedBlob, deviceList: SignedBlob, version: number): Promise<void> {
    const path = `/v1/devices/${pathId(deviceId, 'deviceId')}/approve`;
    try {
      await this.#authed('POST', path, replies.deviceStatus, { certificate: wireBlob(certificate), deviceList: wireBlob(deviceList), deviceListVersion: version });
    } catch (error) {
      if (error instanceof RelayError && error.code === 'no_link_request') {
        throw new EngineError('NOT_FOUND', 'no device with that code is waiting for approval: its link was cancelled or has expired; run link again on the new device');
      }
      throw error;
    }
  }

  /** Approves a pending device with the account key from the recovery kit (no other device, no login). */
  async recoverDevice(deviceId: string, accountSecretKey: Uint8Array, certificate: SignedBlob, deviceList: SignedBlob, version: number): Promise<void> {
    const path = `/v1/devices/${pathId(deviceId, 'deviceId')}/recover`;
    const { challenge, bytes: challengeBytes } = await this.#challenge(deviceId);
    await this.#call('POST', path, replies.deviceStatus, {
      challenge, signature: toBase64Url(sign(recoveryMessage(challengeBytes, deviceId), accountSecretKey)),
      certificate: wireBlob(certificate), deviceList: wireBlob(deviceList), deviceListVersion: version,
    });
  }

  async revokeDevice(deviceId: string, deviceList: SignedBlob, version: number): Promise<void> {
    const path = `/v1/devices/${pathId(deviceId, 'deviceId')}/revoke`;
    await this.#authed('POST', path, replies.deviceStatus, { deviceList: wireBlob(deviceList), deviceListVersion: version });
  }

  /**
   * Uploads prekeys, in requests of at most 200 one-time X25519 and 100 ML-KEM keys (the first carries everything
   * else, and the replace flag); returns what the relay then holds.
   */
  async putPrekeys(upload: PrekeyUploadRequest): Promise<RelayPrekeyStock> {
    const kemPrekeys = upload.kemPrekeys ?? [];
    const parts = Math.max(1, Math.ceil(upload.oneTimePrekeys.length / MAX_PREKEYS_PER_UPLOAD), Math.ceil(kemPrekeys.length / MAX_KEM_PREKEYS_PER_UPLOAD));
    let stock: RelayPrekeyStock | undefined;
    for (let part = 0; part < parts; part++) {
      const body = {
        ...(part === 0 ? {
          ...(upload.signedPrekey ? { signedPrekey: wirePrekey(upload.signedPrekey) } : {}),
          ...(upload.lastResortPrekey ? { lastResortPrekey: wirePrekey(upload.lastResortPrekey) } : {}),
          ...(upload.kemLastResortPrekey ? { kemLastResortPrekey: wirePrekey(upload.kemLastResortPrekey) } : {}),
          ...(upload.replaceOneTime ? { replaceOneTime: true } : {}),
        } : {}),
        oneTimePrekeys: upload.oneTimePrekeys.slice(part * MAX_PREKEYS_PER_UPLOAD, (part + 1) * MAX_PREKEYS_PER_UPLOAD).map(wirePrekey),
        kemPrekeys: kemPrekeys.slice(part * MAX_KEM_PREKEYS_PER_UPLOAD, (part + 1) * MAX_KEM_PREKEYS_PER_UPLOAD).map(wirePrekey),
      };
      stock = await this.#authed('PUT', '/v1/prekeys', replies.prekeyStock, body);
    }
    return stock!;
  }

  /** What the relay holds for this device: one-time counts of each kind and which current keys it has. */
  async prekeyStock(): Promise<RelayPrekeyStock> {
    return this.#authed('GET', '/v1/prekeys/count', replies.prekeyStock);
  }

  /** One bundle per active device of the account (or of `devices`); each one-time prekey is handed out once. */
  async claimPrekeys(accountId: string, devices?: string[]): Promise<PrekeyClaim> {
    const path = `/v1/accounts/${pathId(accountId, 'accountId')}/prekeys/claim`;
    const claim = await this.#authed('POST', path, replies.claim, devices === undefined ? {} : { devices });
    if (claim.accountId !== accountId) throw new RelayError('bad_reply', 'the relay answered for another account');
    return claim;
  }

  /** `channelId` is ours to choose, so the log's first entry (`log`) can sign it. */
  async createChannel(name: Uint8Array, topic: Uint8Array | undefined, open: boolean | undefined, channelId: string, log: Uint8Array): Promise<Channel> {
    return this.#authed('POST', '/v1/channels', replies.channel, {
      name: toBase64Url(name), ...(topic === undefined ? {} : { topic: toBase64Url(topic) }), ...(open === undefined ? {} : { open }),
      channelId, log: logBody(0, log),
    });
  }

  /** Channels we belong to, plus open ones (role null). */
  async listChannels(): Promise<Channel[]> {
    return (await this.#authed('GET', '/v1/channels', channelsReply)).channels;
  }

  async updateChannel(channelId: string, change: { name?: Uint8Array; topic?: Uint8Array }): Promise<Channel> {
    return this.#authed('PATCH', `/v1/channels/${pathId(channelId, 'channelId')}`, replies.channel, {
      ...(change.name === undefined ? {} : { name: toBase64Url(change.name) }), ...(change.topic === undefined ? {} : { topic: toBase64Url(change.topic) }),
    });
  }

  async channelMembers(channelId: string): Promise<ChannelMember[]> {
    return this.#members('GET', `/v1/channels/${pathId(channelId, 'channelId')}/members`);
  }

  /** The membership log after position `afterSeq`, a page at a time (oldest first). */
  async channelLog(channelId: string, afterSeq: number): Promise<{ seq: number; entry: Uint8Array }[]> {
    return (await this.#authed('GET', `/v1/channels/${pathId(channelId, 'channelId')}/log?after=${afterSeq}`, replies.log)).entries;
  }

  // Each change carries the signed log entry that records it (`seq` is its position): the relay refuses one that
  // is not next (stale_log) and stores it with the change.
  async addMembers(channelId: string, accountIds: string[], log: LogEntry): Promise<ChannelMember[]> {
    return this.#members('POST', `/v1/channels/${pathId(channelId, 'channelId')}/members`, { accountIds, log: logBody(log.seq, log.entry) });
  }

  async joinChannel(channelId: string, log: LogEntry): Promise<ChannelMember[]> {
    return this.#members('POST', `/v1/channels/${pathId(channelId, 'channelId')}/join`, { log: logBody(log.seq, log.entry) });
  }

  async leaveChannel(channelId: string, log: LogEntry): Promise<void> {
    await this.#authed('POST', `/v1/channels/${pathId(channelId, 'channelId')}/leave`, replies.left, { log: logBody(log.seq, log.entry) });
  }

  async removeMember(channelId: string, accountId: string, log: LogEntry): Promise<ChannelMember[]> {
    return this.#members('DELETE', `/v1/channels/${pathId(channelId, 'channelId')}/members/${pathId(accountId, 'accountId')}`, { log: logBody(log.seq, log.entry) });
  }

  async setRole(channelId: string, accountId: string, role: ChannelRole, log: LogEntry): Promise<ChannelMember[]> {
    return this.#members('PUT', `/v1/channels/${pathId(channelId, 'channelId')}/members/${pathId(accountId, 'accountId')}`, { role, log: logBody(log.seq, log.entry) });
  }

  async #members(method: string, path: string, body?: unknown): Promise<ChannelMember[]> {
    return (await this.#authed(method, path, replies.members, body)).members;
  }

  /** A single-use invite (admins only). */
  async createInvite(admin: boolean): Promise<Invite> {
    return this.#authed('POST', '/v1/admin/invites', replies.invite, { admin });
  }

  async org(): Promise<OrgInfo> {
    return this.#authed('GET', '/v1/org', replies.org);
  }

  /** Registers the org key (admins, once per org). */
  async putOrgKey(publicKey: Uint8Array): Promise<void> {
    await this.#authed('PUT', '/v1/org/key', replies.orgKeySet, { publicKey: toBase64Url(publicKey) });
  }

  /** Publishes a policy document signed by the org key (admins; its version must be greater than the stored one). */
  async putPolicy(document: SignedBlob): Promise<{ version: number }> {
    return this.#authed('PUT', '/v1/org/policy', replies.policySet, { document: wireBlob(document) });
  }

  // ---------------------------------------------------------------- blobs (encrypted files, server/routes/blobs.ts)

  async createBlob(size: number, ttlSeconds?: number): Promise<z.infer<typeof blobReplies.created>> {
    return this.#authed('POST', '/v1/blobs', blobReplies.created, { size, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
  }

  async blobStatus(blobId: string): Promise<BlobStatus> {
    return this.#authed('GET', `/v1/blobs/${pathId(blobId, 'blobId')}/status`, blobReplies.status);
  }

  /** Appends `bytes` at `offset` (the relay's `uploaded`); answers with the new `uploaded`. */
  async putBlobChunk(blobId: string, offset: number, bytes: Uint8Array): Promise<z.infer<typeof blobReplies.put>> {
    return this.#authed('PUT', `/v1/blobs/${pathId(blobId, 'blobId')}/data?offset=${offset}`, blobReplies.put, bytes);
  }

  async deleteBlob(blobId: string): Promise<void> {
    await this.#authed('DELETE', `/v1/blobs/${pathId(blobId, 'blobId')}`, blobReplies.deleted);
  }

  /**
   * The blob's bytes from `start` on, as a stream (the caller bounds what it reads: it knows the size). Fails
   * unless the relay answers with exactly that range.
   */
  async downloadBlob(blobId: string, start: number): Promise<http.IncomingMessage> {
    const path = `/v1/blobs/${pathId(blobId, 'blobId')}`;
    const what = `GET ${path}`;
    const open = (token: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(start > 0 ? { range: `bytes=${start}-` } : {}) };
      const request = (this.#target.trust ? https.request : http.request)({ host: this.#target.host, port: this.#target.port, method: 'GET', path, headers, agent: this.#streamAgent });
      request.setTimeout(this.#timeoutMs, () => request.destroy(new RelayError('timeout', `the relay did not answer within ${this.#timeoutMs / 1000} s`, { detail: what })));
      request.on('error', (error) => reject(transportError(error, what, this.#target.url.origin)));
      request.on('response', resolve);
      request.end();
    });
    const token = await this.token();
    let response = await open(token);
    if (response.statusCode === 401) {
      response.resume();
      response = await open(await this.token(token));
    }
    const expected = start > 0 ? 206 : 200;
    if (response.statusCode !== expected) {
      const text = await readSmall(response, 16 * 1024).catch(() => '');
      const error = replies.error.safeParse(parseJson(text));
      if (error.success) throw new RelayError(error.data.error.code, error.data.error.message, { status: response.statusCode ?? 0, detail: what });
      throw new RelayError('bad_reply', `the relay answered a download with HTTP ${response.statusCode}`, { status: response.statusCode ?? 0, detail: what });
    }
    if (start > 0 && !String(response.headers['content-range'] ?? '').startsWith(`bytes ${start}-`)) {
      response.destroy();
      throw new RelayError('bad_reply', 'the relay answered a resumed download with another range', { detail: what });
    }
    return response;
  }

  // ---------------------------------------------------------------- transport

  /** An authenticated call: logs in on demand, and once more if the server no longer knows the token. */
  async #authed<T>(method: string, path: string, schema: z.ZodType<T, unknown>, body?: unknown): Promise<T> {
    const token = await this.token();
    try {
      return await this.#call(method, path, schema, body, token);
    } catch (error) {
      // A 401 is refused before the route does anything, so repeating the request cannot apply it twice.
      if (!(error instanceof RelayError) || error.status !== 401) throw error;
    }
    return this.#call(method, path, schema, body, await this.token(token));
  }

  async #call<T>(method: string, path: string, schema: z.ZodType<T, unknown>, body?: unknown, token?: string): Promise<T> {
    const what = `${method} ${path}`;
    const payload = body === undefined ? null : body instanceof Uint8Array ? { bytes: body, type: 'application/octet-stream' } : { bytes: Buffer.from(JSON.stringify(body)), type: 'application/json' };
    const reply = await this.#exchange(method, path, payload, token ?? null, false);
    const json = reply.contentType.startsWith('application/json') ? parseJson(reply.text) : undefined;
    if (reply.status < 200 || reply.status > 299) {
      const error = replies.error.safeParse(json);
      const retry = Number(reply.retryAfter);
      const retryAfterSeconds = Number.isInteger(retry) && retry >= 0 ? retry : null;
      if (!error.success) throw new RelayError('bad_reply', `the relay answered HTTP ${reply.status} with an unreadable error`, { status: reply.status, retryAfterSeconds, detail: what });
      throw new RelayError(error.data.error.code, error.data.error.message, { status: reply.status, retryAfterSeconds, detail: what });
    }
    if (json === undefined) throw new RelayError('bad_reply', 'the relay\'s reply is not JSON', { status: reply.status, detail: what });
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RelayError('bad_reply', 'the relay sent a reply the protocol does not allow', { status: reply.status, detail: `${what}: ${issue.path.join('.') || 'body'}: ${issue.message}` });
    }
    return parsed.data;
  }

  #exchange(method: string, path: string, payload: { bytes: Uint8Array; type: string } | null, token: string | null, retried: boolean): Promise<RawReply> {
    const what = `${method} ${path}`;
    const limit = this.#maxReplyBytes;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = payload.type;
      headers['content-length'] = String(payload.bytes.length);
    }
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const request = (this.#target.trust ? https.request : http.request)({
      host: this.#target.host, port: this.#target.port, method, path, headers, agent: this.#agent,
    });
    return new Promise<RawReply>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (error: RelayError | UntrustedRelayError) => finish(() => {
        request.destroy();
        reject(error);
      });
      const timer = setTimeout(() => fail(new RelayError('timeout', `the relay did not answer within ${this.#timeoutMs / 1000} s`, { detail: what })), this.#timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed while idle: the request never reached it, so send it again once.
        if (!retried && request.reusedSocket && error.code === 'ECONNRESET') {
          finish(() => this.#exchange(method, path, payload, token, true).then(resolve, reject));
          return;
        }
        fail(transportError(error, what, this.#target.url.origin));
      });
      request.on('response', (response) => {
        const tooLarge = () => new RelayError('bad_reply', `the relay's reply is larger than ${limit} bytes`, { status: response.statusCode ?? 0, detail: what });
        if (Number(response.headers['content-length']) > limit) return fail(tooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) fail(tooLarge());
          else chunks.push(chunk);
        });
        response.on('error', (error) => fail(transportError(error, what, this.#target.url.origin)));
        response.on('close', () => {
          if (!response.complete) fail(new RelayError('network', 'the relay closed the connection in the middle of its reply', { detail: what }));
        });
        response.on('end', () => finish(() => resolve({
          status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''),
          retryAfter: response.headers['retry-after'], text: Buffer.concat(chunks).toString('utf8'),
        })));
      });
      request.end(payload?.bytes ?? undefined);
    });
  }
}

async function readSmall(stream: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) break;
    chunks.push(chunk);
  }
  stream.destroy();
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
