// The org policy as this device holds it: fetched from the relay, verified under the org key this device pinned
// (at enrolment from the invite link's fingerprint, or on first sight for a profile that joined before the org
// had a key), and kept in the vault with the highest version seen. A relay can withhold a newer policy, but it
// cannot forge one, swap the key, or roll the version back: each of those is refused and the kept one stays.
import { z } from 'zod';
import { fromBase64Url, sign, signingKeyPair, toBase64Url, sha256, utf8, fromUtf8, type SigningKeyPair } from '../../crypto/sodium.ts';
import type { SqlExecutor, Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { RelayError, type SignedBlob } from '../relay-http.ts';
import { encodePolicy, nextPolicy, NO_POLICY, PolicyError, verifyPolicy, type PolicyChange, type PolicyDocument } from './document.ts';

const POLICY_KEY = 'e:policy';
/** The org's Ed25519 secret key, on the admin device that registered it (and only there). */
const ORG_SIGNING_KEY = 'e:org-signing-key';

const storedSchema = z.object({ data: z.string().max(32 * 1024), signature: z.string().max(128) }).strict();

export interface StoredPolicy {
  document: PolicyDocument;
  signed: SignedBlob | null;
}

/** Read once when the profile opens, before anything is sent or received, so the kept policy applies at once. */
export async function loadPolicy(sql: SqlExecutor, orgKey: string | null): Promise<StoredPolicy> {
  const row = await sql.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', [POLICY_KEY]);
  if (!row || orgKey === null) return { document: NO_POLICY, signed: null };
  const stored = storedSchema.parse(JSON.parse(fromUtf8(row.value)));
  const signed = { data: fromBase64Url(stored.data), signature: fromBase64Url(stored.signature) };
  // checked again: the vault is ours, but a policy is only ever believed under the pinned key
  return { document: verifyPolicy(signed, fromBase64Url(orgKey)), signed };
}

const upsert = (key: string, value: Uint8Array): Statement => ({ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [key, value] });
const policyStatement = (signed: SignedBlob): Statement =>
  upsert(POLICY_KEY, utf8(JSON.stringify({ data: toBase64Url(signed.data), signature: toBase64Url(signed.signature) })));

const hostile = (message: string) => new EngineError('HOSTILE_SERVER', message);

export class OrgPolicy {
  readonly #ctx: EngineContext;
  #document: PolicyDocument;
  #signed: SignedBlob | null;
  #refreshing: Promise<unknown> = Promise.resolve();

  constructor(ctx: EngineContext, stored: StoredPolicy) {
    this.#ctx = ctx;
    this.#document = stored.document;
    this.#signed = stored.signed;
  }

  /** The policy in force on this device (version 0: the org has published none this device could verify). */
  get current(): PolicyDocument {
    return this.#document;
  }

  /** The signed document of the policy in force, as the org key signed it (null: none yet). */
  get signed(): SignedBlob | null {
    return this.#signed;
  }

  /** The pinned org key's fingerprint (what invite links carry), or null while the org has no key. */
  get orgFingerprint(): string | null {
    const key = this.#ctx.profile.orgKey;
    return key === null ? null : toBase64Url(sha256(fromBase64Url(key)));
  }

  /** Whether this device holds the org key, so it can sign a new policy. */
  async canSign(): Promise<boolean> {
    return (await this.#signingKey()) !== null;
  }

  /** Fetches the relay's policy and adopts it if it verifies and is newer. Throws HOSTILE_SERVER when it is refused. */
  refresh(): Promise<PolicyDocument> {
    // one at a time, each fetching afresh: a caller never gets the answer to a fetch made before it asked
    const next = this.#refreshing.catch(() => {}).then(() => this.#refreshOnce());
    this.#refreshing = next;
    return next;
  }

  async #refreshOnce(): Promise<PolicyDocument> {
    const ctx = this.#ctx;
    const info = await ctx.http.org();
    let pinned = ctx.profile.orgKey;
    if (info.orgKey === null) {
      if (pinned !== null) throw hostile('the relay no longer presents the organisation key this device pinned: its policy is ignored');
      return this.#document;
    }
    const served = toBase64Url(info.orgKey);
    if (pinned === null) {
      // this profile joined before the org had a key: the first key seen is pinned from now on (docs/protocol.md)
      await ctx.updateProfile({ orgKey: served });
      pinned = served;
      ctx.log('org key pinned on first sight');
    } else if (pinned !== served) {
      throw hostile('the relay presents another organisation key than the one this device pinned: its policy is ignored');
    }
    if (!info.policy) return this.#document; // withheld or none yet: the kept one stays in force
    await this.#adopt(info.policy.document, fromBase64Url(pinned));
    return this.#document;
  }

  async #adopt(signed: SignedBlob, orgKey: Uint8Array): Promise<void> {
    let document: PolicyDocument;
    try {
      document = verifyPolicy(signed, orgKey);
    } catch (error) {
      if (error instanceof PolicyError) throw hostile(`${error.message}: it is ignored`);
      throw error;
    }
    if (document.version < this.#document.version) {
      throw hostile(`the relay serves org policy version ${document.version}, older than version ${this.#document.version} this device already has: it is ignored`);
    }
    if (document.version === this.#document.version) return;
    await this.#ctx.vault.transaction([policyStatement(signed)]);
    this.#document = document;
    this.#signed = signed;
    this.#ctx.log(`org policy version ${document.version} in force`);
    this.#ctx.emit('policy.changed', document);
  }

  /**
   * Signs and publishes the current policy with `change` applied, one version up. Only an org admin on the device
   * holding the org key can; an org with no key yet gets one here, registered by this admin's device.
   */
  async set(change: PolicyChange): Promise<PolicyDocument> {
    const ctx = this.#ctx;
    const me = await ctx.http.login();
    if (me.role !== 'admin') throw new EngineError('FORBIDDEN', 'only org admins can change the org policy');
    await this.refresh();
    let secret = await this.#signingKey();
    if (!secret) {
      if (ctx.profile.orgKey !== null) {
        throw new EngineError('FORBIDDEN', 'this device does not hold the organisation key: change the policy on the admin device that registered it, or restore its backup here (wardroom org-key import)');
      }
      secret = await this.#registerOrgKey();
    }
    let next: PolicyDocument;
    try {
      next = nextPolicy(this.#document, change);
    } catch (error) {
      if (error instanceof z.ZodError) throw new EngineError('INVALID', `that policy is not valid: ${error.issues[0]?.path.join('.')} ${error.issues[0]?.message}`);
      throw error;
    }
    if (next.defaultExpireSeconds !== undefined && next.maxExpireSeconds !== undefined && next.defaultExpireSeconds > next.maxExpireSeconds) {
      throw new EngineError('INVALID', 'the default expiry is longer than the maximum expiry');
    }
    if (next.retention === true && next.archiveAccount === undefined) throw new EngineError('INVALID', 'retention needs an archive account (--archive-account NAME)');
    const data = encodePolicy(next);
    const signed = { data, signature: sign(data, secret) };
    await ctx.http.putPolicy(signed).catch((error: unknown) => {
      if (error instanceof RelayError && error.code === 'stale_policy') throw new EngineError('CONFLICT', 'the org policy changed meanwhile: look at it again and retry');
      if (error instanceof RelayError && error.status === 403) throw new EngineError('FORBIDDEN', 'only org admins can change the org policy');
      throw error;
    });
    await this.#adopt(signed, fromBase64Url(ctx.profile.orgKey!));
    return this.#document;
  }

  /** The org key pair, when this device holds it (to back it up). */
  async orgKeyPair(): Promise<SigningKeyPair | null> {
    const secret = await this.#signingKey();
    return secret ? { publicKey: secret.slice(32), secretKey: secret } : null;
  }

  /**
   * Keeps an org key restored from its backup or sent by this account's other device: only the key this device
   * pinned, and only for an org admin (the relay takes a policy from admins alone), so a backup of another
   * organisation, or one opened on the wrong account, is refused in words and nothing is stored.
   */
  async installOrgKey(keys: SigningKeyPair, from: 'its backup' | 'this account\'s other device'): Promise<void> {
    const ctx = this.#ctx;
    if (await this.#signingKey()) {
      const held = await this.orgKeyPair();
      if (held && toBase64Url(held.publicKey) === toBase64Url(keys.publicKey)) return; // already here
    }
    if ((await ctx.http.login()).role !== 'admin') throw new EngineError('FORBIDDEN', 'only org admins can hold the organisation key');
    await this.refresh().catch((error: unknown) => ctx.problem(error as Error)); // pins the key of an org joined before it had one
    const pinned = ctx.profile.orgKey;
    if (pinned === null) throw new EngineError('CONFLICT', 'the organisation has no key yet: nothing to restore');
    if (pinned !== toBase64Url(keys.publicKey)) throw new EngineError('INVALID', 'that backup holds another organisation\'s key than the one this device pinned');
    await ctx.vault.transaction([upsert(ORG_SIGNING_KEY, keys.secretKey)]);
    ctx.log(`org key kept, from ${from}`);
  }

  async #signingKey(): Promise<Uint8Array | null> {
    const row = await this.#ctx.vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', [ORG_SIGNING_KEY]);
    return row ? new Uint8Array(row.value) : null;
  }

  /** The secret is committed before the relay hears of the key: a crash in between leaves a key to retry with. */
  async #registerOrgKey(): Promise<Uint8Array> {
    const ctx = this.#ctx;
    const keys = signingKeyPair();
    await ctx.vault.transaction([upsert(ORG_SIGNING_KEY, keys.secretKey)]);
    await ctx.http.putOrgKey(keys.publicKey).catch((error: unknown) => {
      if (error instanceof RelayError && error.code === 'org_key_set') throw new EngineError('CONFLICT', 'another admin registered the organisation key meanwhile: change the policy on their device');
      throw error;
    });
    await ctx.updateProfile({ orgKey: toBase64Url(keys.publicKey) });
    ctx.log('org key registered');
    return keys.secretKey;
  }
}
