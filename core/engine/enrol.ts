// Becoming a device of an account: joining with an invite (a new account and its first device), linking a new
// device that an existing one approves, and recovering with the recovery kit. Each ends with a vault holding the
// device's keys and a profile, and the relay holding the public half (certificate, device list, prekeys).
import { rmSync } from 'node:fs';
import { Decoder, Encoder } from 'cbor-x';
import { z } from 'zod';
import { fromBase64Url, sign, toBase64Url } from '../crypto/sodium.ts';
import type { Argon2idParams } from '../crypto/sodium.ts';
import {
  createAccountIdentity, createDevice, createRecoveryKit, decodeDeviceCertificate, openRecoveryKit, signDeviceList,
  applyDeviceList, type AccountIdentity, type DeviceIdentity,
} from '../protocol/identity.ts';
import { deviceIdFor } from '../protocol/ids.ts';
import { createPrekeys, PREKEY_POLICY } from '../protocol/prekeys.ts';
import { parseInviteLink, InviteLinkError } from '../relay/invite-link.ts';
import { createVault, type Vault } from '../vault/index.ts';
import { EngineError } from './errors.ts';
import { PROFILE_MIGRATIONS } from './schema.ts';
import { accountStatement, profileStatement, type NewProfile } from './profile.ts';
import { initialProtocolStatements, protocolStatements } from './protocol-store.ts';
import { RelayError, RelayHttp, trustEndpoint, type RelayEndpoint, type SignedBlob, type TotpCodeProvider } from './relay-http.ts';
import { prekeyUploadRequest } from './prekeys/upload.ts';

export interface VaultSettings {
  profileDir: string;
  passphrase: string;
  kdf?: Argon2idParams;
}

/** The relay checks the outer signature (plain Ed25519 by the account key); clients check the protocol's own. */
export const signedBlob = (data: Uint8Array, account: AccountIdentity): SignedBlob => ({ data, signature: sign(data, account.secretKey) });

export async function endpointFor(link: string): Promise<{ endpoint: RelayEndpoint; code: string; org: string | null }> {
  let parsed;
  try {
    parsed = parseInviteLink(link);
  } catch (error) {
    if (error instanceof InviteLinkError) throw new EngineError('INVALID', error.message);
    throw error;
  }
  return { endpoint: await trustEndpoint(parsed.server, parsed.pin), code: parsed.code, org: parsed.org };
}

/** Creates the vault last-but-one and removes it again if the relay refuses, so a failed join leaves nothing. */
async function withNewVault<T>(settings: VaultSettings, build: (vault: Vault) => Promise<T>): Promise<T> {
  const vault = await createVault({ dir: settings.profileDir, passphrase: settings.passphrase, migrations: PROFILE_MIGRATIONS, ...(settings.kdf ? { kdf: settings.kdf } : {}) }).catch((error: Error & { code?: string }) => {
    if (error.code === 'ALREADY_EXISTS') throw new EngineError('ALREADY_ENROLLED', 'this profile is already enrolled');
    throw error;
  });
  try {
    return await build(vault);
  } catch (error) {
    await vault.lock().catch(() => {});
    rmSync(settings.profileDir, { recursive: true, force: true });
    throw error;
  }
}

async function checkOrgKey(http: RelayHttp, expected: string | null): Promise<string | null> {
  const org = await http.org();
  if (expected !== null && org.orgFingerprint !== expected) {
    throw new EngineError('HOSTILE_SERVER', 'the organisation key the server presents does not match the invite link');
  }
  return org.orgKey === null ? null : toBase64Url(org.orgKey);
}

async function finishDevice(vault: Vault, http: RelayHttp, device: DeviceIdentity, profile: NewProfile, account: AccountIdentity | null, now: number): Promise<void> {
  // the last-resort keys go to their own slots on the relay (never handed out as one-time keys, never deleted)
  const { state, upload } = createPrekeys(device, now, PREKEY_POLICY.target);
  await vault.transaction([...initialProtocolStatements(device, state), profileStatement(profile), ...(account ? [accountStatement(account)] : [])]);
  await http.putPrekeys(prekeyUploadRequest(upload));
}

/** Join an organisation with an invite link: a new account, its first device, and the recovery kit (shown once). */
export async function join(settings: VaultSettings, link: string, username: string, now: number): Promise<{ vault: Vault; recoveryKit: string }> {
  const { endpoint, code, org } = await endpointFor(link);
  return withNewVault(settings, async (vault) => {
    const account = createAccountIdentity();
    const device = createDevice(account, username, deviceIdFor, now);
    const list = signDeviceList(account, { userId: username, version: 1, devices: [device.deviceId], issuedAt: now });
    const http = new RelayHttp(endpoint);
    const created = await http.createAccount({
      inviteCode: code, username, accountPublicKey: account.publicKey, signingPublicKey: device.signing.publicKey,
      certificate: signedBlob(device.certificate, account), deviceList: signedBlob(list, account), deviceListVersion: 1,
    });
    http.setDevice(device.deviceId, device.signing.secretKey);
    await http.login();
    const orgKey = await checkOrgKey(http, org);
    const known = applyDeviceList(null, username, list).entry;
    await vault.transaction(protocolStatements([{ kind: 'known-account', entry: known }]));
    await vault.transaction([{ sql: 'INSERT INTO people (username, account_id, verified) VALUES (?, ?, 1)', params: [username, created.accountId] }]);
    await finishDevice(vault, http, device, {
      ...endpoint, username, accountId: created.accountId, deviceId: device.deviceId, orgKey, deviceListVersion: 1, receipts: true,
    }, account, now);
    const kit = createRecoveryKit(account);
    return { vault, recoveryKit: formatRecoveryKit(kit.kit, kit.recoveryCode) };
  });
}

// ---------------------------------------------------------------- recovery kit text

/** The kit as one string to store offline: the sealed account seed and the code that opens it. */
export function formatRecoveryKit(kit: Uint8Array, code: string): string {
  return `WRK1.${toBase64Url(kit)}.${code}`;
}

export function parseRecoveryKit(text: string): { kit: Uint8Array; code: string } {
  const match = /^WRK1\.([A-Za-z0-9_-]{20,400})\.([A-Za-z0-9-]{20,200})$/.exec(text.trim());
  if (!match) throw new EngineError('INVALID', 'that is not a Wardroom recovery kit (it starts with WRK1.)');
  return { kit: fromBase64Url(match[1]!), code: match[2]! };
}

// ---------------------------------------------------------------- linking a device

const linkCodeSchema = z.object({ v: z.literal(1), u: z.string().max(64), s: z.instanceof(Uint8Array), x: z.instanceof(Uint8Array), t: z.number().int() }).strict();
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export interface LinkRequest {
  username: string;
  signingPublicKey: Uint8Array;
  dhPublicKey: Uint8Array;
  createdAt: number;
}

/** What the new device shows and the approving device reads: its public keys, nothing secret. */
export function formatLinkCode(r: LinkRequest): string {
  return `WDL1.${toBase64Url(encoder.encode({ v: 1, u: r.username, s: r.signingPublicKey, x: r.dhPublicKey, t: r.createdAt }))}`;
}

export function parseLinkCode(text: string): LinkRequest {
  const match = /^WDL1\.([A-Za-z0-9_-]{1,600})$/.exec(text.trim());
  if (!match) throw new EngineError('INVALID', 'that is not a device link code (it starts with WDL1.)');
  let value: unknown;
  try {
    value = decoder.decode(fromBase64Url(match[1]!));
  } catch {
    throw new EngineError('INVALID', 'the device link code is damaged');
  }
  const parsed = linkCodeSchema.safeParse(value);
  if (!parsed.success || parsed.data.s.length !== 32 || parsed.data.x.length !== 32) throw new EngineError('INVALID', 'the device link code is damaged');
  return { username: parsed.data.u, signingPublicKey: parsed.data.s, dhPublicKey: parsed.data.x, createdAt: parsed.data.t };
}

export interface PendingLink {
  code: string;
  /**
   * Resolves once an existing device (or the kit) approved this one and the profile is ready. Rejects when the
   * link is cancelled (`signal`), times out or fails; the relay's request is withdrawn first, so no approval can
   * reach a device whose keys are gone, and the half-made profile is removed.
   */
  completed: Promise<Vault>;
}

export interface LinkOptions {
  recoveryKit?: string;
  pollMs?: number;
  /** How long to wait for an approval; the relay gives up on a request after 10 minutes anyway. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Asked for a TOTP code if the account has TOTP and the relay wants one at the first login. */
  totpCode?: TotpCodeProvider;
}

/**
 * Starts linking a new device to an existing account. The new device's keys are made here; the account key, held
 * by the approving device, certifies them. `recoveryKit` approves at once instead (and the new device then holds
 * the account key too). The relay learns of the new device only as a request that binds it to nothing and that
 * lives while this process polls for the approval: if the process dies, it lapses within seconds.
 */
export async function link(settings: VaultSettings, inviteOrServerLink: string, username: string, now: number, options: LinkOptions = {}): Promise<PendingLink> {
  const { endpoint, org } = await endpointFor(inviteOrServerLink);
  const recovered = options.recoveryKit ? (() => {
    const { kit, code } = parseRecoveryKit(options.recoveryKit!);
    try {
      return openRecoveryKit(kit, code);
    } catch {
      throw new EngineError('INVALID', 'the recovery kit does not open (check the code)');
    }
  })() : null;
  // A throwaway account key only fixes the device's own keys; the real certificate comes from the approver.
  const draft = createDevice(recovered ?? createAccountIdentity(), username, deviceIdFor, now);
  const http = new RelayHttp(endpoint, options.totpCode ? { totpCode: options.totpCode } : {});
  await http.requestPendingDevice(username, draft.signing.publicKey);
  http.setDevice(draft.deviceId, draft.signing.secretKey);
  const request = { username, signingPublicKey: draft.signing.publicKey, dhPublicKey: draft.dh.publicKey, createdAt: now };
  const completed = withNewVault(settings, async (vault) => {
    let me: Awaited<ReturnType<RelayHttp['login']>>;
    try {
      if (recovered) await recoverWith(http, recovered, draft, username);
      me = await waitForApproval(http, username, draft, options);
    } catch (error) {
      // Withdrawn before the profile (and with it the device's keys) is removed: an approval arriving later finds
      // nothing to approve, instead of making an active device whose keys no longer exist.
      await http.cancelPendingDevice().catch(() => {});
      throw error;
    }
    const served = await http.accountDevices(me.accountId);
    const mine = served.devices.find((d) => d.deviceId === draft.deviceId);
    if (!mine?.certificate || !served.deviceList) throw new EngineError('HOSTILE_SERVER', 'the relay approved this device without a certificate');
    const certificate = decodeDeviceCertificate(mine.certificate.data);
    const account = applyDeviceList(null, username, served.deviceList.data).entry;
    if (certificate.userId !== username || certificate.deviceId !== draft.deviceId || toBase64Url(certificate.signingPublicKey) !== toBase64Url(draft.signing.publicKey)
      || toBase64Url(certificate.dhPublicKey) !== toBase64Url(draft.dh.publicKey) || toBase64Url(certificate.accountPublicKey) !== toBase64Url(account.accountPublicKey)
      || !account.devices.includes(draft.deviceId)) {
      throw new EngineError('HOSTILE_SERVER', 'the certificate for this device does not match its keys or its account');
    }
    const device: DeviceIdentity = { ...draft, certificate: mine.certificate.data };
    const orgKey = await checkOrgKey(http, org);
    await vault.transaction([
      ...protocolStatements([{ kind: 'known-account', entry: account }]),
      { sql: 'INSERT INTO people (username, account_id, verified) VALUES (?, ?, 1)', params: [username, me.accountId] },
    ]);
    await finishDevice(vault, http, device, {
      ...endpoint, username, accountId: me.accountId, deviceId: draft.deviceId, orgKey, deviceListVersion: account.listVersion, receipts: true,
    }, recovered, Date.now());
    return vault;
  }).finally(() => http.close());
  return { code: formatLinkCode(request), completed };
}

/** The kit holds the account key: it certifies the new device (the draft already is) and publishes the new list. */
async function recoverWith(http: RelayHttp, account: AccountIdentity, draft: DeviceIdentity, username: string): Promise<void> {
  let served: Awaited<ReturnType<RelayHttp['recoveryInfo']>>;
  try {
    served = await http.recoveryInfo(draft.deviceId, account.secretKey);
  } catch (error) {
    // The relay cannot tell "no such user" from "another account's key", and says neither: both are a wrong kit.
    if (error instanceof RelayError && error.code === 'bad_signature') throw new EngineError('INVALID', `that recovery kit is not for @${username}`);
    throw error;
  }
  if (toBase64Url(served.accountPublicKey) !== toBase64Url(account.publicKey)) throw new EngineError('HOSTILE_SERVER', 'the relay answered a recovery with another account\'s key');
  const current = served.deviceList ? applyDeviceList(null, username, served.deviceList.data).entry : null;
  if (current && toBase64Url(current.accountPublicKey) !== toBase64Url(account.publicKey)) throw new EngineError('HOSTILE_SERVER', 'the relay served a device list signed by another key');
  const version = Math.max(served.deviceListVersion, current?.listVersion ?? 0) + 1;
  const devices = [...(current?.devices ?? []), draft.deviceId];
  const list = signDeviceList(account, { userId: username, version, devices, issuedAt: Date.now() });
  await http.recoverDevice(draft.deviceId, account.secretKey, signedBlob(draft.certificate, account), signedBlob(list, account), version);
}

/**
 * Polls login() until an approval makes it succeed. Each poll is signed with the device key, which is what keeps
 * the relay's request alive; a request the relay lost (it restarted) is opened again, same keys, same code.
 */
async function waitForApproval(http: RelayHttp, username: string, draft: DeviceIdentity, options: LinkOptions) {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  for (;;) {
    try {
      return await http.login();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'bad_signature') await http.requestPendingDevice(username, draft.signing.publicKey);
      else if (code !== 'device_pending') throw error;
    }
    if (Date.now() > deadline) throw new EngineError('OFFLINE', 'no device approved this one in time; run link again');
    await cancellableSleep(options.pollMs ?? 1000, options.signal);
  }
}

function cancellableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const cancelled = () => new EngineError('INVALID', 'linking was cancelled');
  if (signal?.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
