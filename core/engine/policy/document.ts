// The org policy document: JSON signed by the org key (Ed25519 over the exact bytes), stored and served by the relay,
// which can withhold it or serve an old one but cannot write one. Clients read the fields below; fields they do not
// know pass through untouched, so a newer client's or another feature's fields survive an admin's edit.
import { z } from 'zod';
import { fromUtf8, utf8, verify } from '../../crypto/sodium.ts';
import { MAX_TIMER_SECONDS, MIN_TIMER_SECONDS } from '../../api/durations.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { SignedBlob } from '../relay-http.ts';

/** As the relay's own limit (server/routes/admin.ts): a policy is a few fields, never a payload. */
export const MAX_POLICY_BYTES = LIMITS.policyBytes;
const seconds = z.number().int().min(MIN_TIMER_SECONDS).max(MAX_TIMER_SECONDS);

export const policyDocumentSchema = z.object({
  /** Greater on every change: a client keeps the highest it has seen, so a relay cannot roll a policy back. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The longest any message may live, counted from sending. The relay caps and refuses envelopes by it too. */
  maxExpireSeconds: seconds.optional(),
  /** The longest burn-on-read a message may carry. */
  maxBurnSeconds: seconds.optional(),
  /** Every message must carry an expiry (the sender's, the conversation's or the policy's default). */
  requireTimer: z.boolean().optional(),
  /** The expiry a message gets when neither it nor its conversation names one. */
  defaultExpireSeconds: seconds.optional(),
  /** Record-keeping: the archive account gets a copy of everything, and every participant is told (retention/). */
  retention: z.boolean().optional(),
  /** The account that is the compliance archive (an ordinary account that joined with an invite). */
  archiveAccount: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,31}$/).optional(),
  /** Files may be sent at all (files/policy.ts; the relay refuses blobs when false). */
  fileSharing: z.boolean().optional(),
  /** The largest file, in bytes (the relay refuses larger blobs, with the padding's allowance). */
  maxFileBytes: z.number().int().min(0).optional(),
  /** Media types or `type/*` patterns a file may have; absent: any. */
  allowedFileTypes: z.array(z.string().max(127)).max(200).optional(),
  /** Files open in the app only and are never saved to disk. */
  filePreviewOnly: z.boolean().optional(),
  /** Senders may fetch and attach link previews (false turns them off whatever the setting). */
  linkPreviews: z.boolean().optional(),
}).loose();

export type PolicyDocument = z.output<typeof policyDocumentSchema>;

/** What policy.set changes: a field given sets it, null removes it, absent keeps it (the version is the engine's). */
export type PolicyChange = Record<string, unknown>;

/** What an org without a signed policy enforces: nothing beyond the built-in limits. */
export const NO_POLICY: PolicyDocument = { version: 0 } as PolicyDocument;

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** Checks the signature under the pinned org key, then the shape; throws PolicyError naming what is wrong. */
export function verifyPolicy(document: SignedBlob, orgKey: Uint8Array): PolicyDocument {
  if (document.data.length > MAX_POLICY_BYTES) throw new PolicyError('the org policy is larger than any policy can be');
  if (!verify(document.signature, document.data, orgKey)) throw new PolicyError('the org policy is not signed by the organisation key this device pinned');
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(document.data));
  } catch {
    throw new PolicyError('the org policy is not JSON');
  }
  const parsed = policyDocumentSchema.safeParse(json);
  if (!parsed.success) throw new PolicyError(`the org policy is malformed: ${parsed.error.issues[0]?.path.join('.') || 'document'} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

/** The next document: the current one's fields (unknown ones included), the change applied, the version one up. */
export function nextPolicy(current: PolicyDocument, change: PolicyChange): PolicyDocument {
  const next: Record<string, unknown> = { ...current, version: current.version + 1 };
  for (const [key, value] of Object.entries(change)) {
    if (key === 'version' || value === undefined) continue;
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return policyDocumentSchema.parse(next);
}

export const encodePolicy = (document: PolicyDocument): Uint8Array => utf8(JSON.stringify(document));

/**
 * The account a signed policy names as the compliance archive while retention is on, under the pinned org key (null:
 * no key pinned, the signature or document does not verify, retention is off). What a member checks an archive's
 * join by policy against (core/protocol/membership.ts).
 */
export function archiveNamedBy(orgKey: Uint8Array | null, signed: SignedBlob): string | null {
  if (orgKey === null) return null;
  try {
    const document = verifyPolicy(signed, orgKey);
    return document.retention === true && document.archiveAccount !== undefined ? document.archiveAccount : null;
  } catch (error) {
    if (error instanceof PolicyError) return null;
    throw error;
  }
}
