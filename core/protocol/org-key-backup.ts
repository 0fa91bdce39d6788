// The org key's backup. The org key signs the org policy; it is made on the first admin's device and never leaves
// it on its own, so losing that device would mean no one could change the policy again (nor turn retention on or
// off). The backup seals its seed exactly as the recovery kit seals an account's (identity.ts): under a fresh random
// 256-bit key, given to the admin once as a code to write down, bound to the org key's public half. The sealed
// backup is useless without the code, so it may be kept anywhere; the code is kept offline, apart from it.
import type { SigningKeyPair } from '../crypto/sodium.ts';
import { bytes, decodeVersioned, encodeCbor, struct, uint } from './codec.ts';
import { openSigningSeed, sealSigningSeed } from './identity.ts';
import { LABEL } from './labels.ts';

const backupSchema = struct({ v: uint(), org: bytes(32), box: bytes(24 + 16 + 32) });

export interface OrgKeyBackup {
  /** the sealed seed and the org key's public half */
  backup: Uint8Array;
  /** shown to the admin once; the only way to open the backup */
  code: string;
}

export function sealOrgKey(orgKey: SigningKeyPair): OrgKeyBackup {
  const { box, code } = sealSigningSeed(LABEL.orgKeyBackup, orgKey);
  return { backup: encodeCbor({ v: 1, org: orgKey.publicKey, box }), code };
}

/** The org key pair, or DECRYPT_FAILED (wrong code) / MALFORMED (not a backup). */
export function openOrgKey(backup: Uint8Array, code: string): SigningKeyPair {
  const parsed = decodeVersioned(backup, backupSchema, { maxBytes: 256, versions: [1], what: 'org key backup' });
  return openSigningSeed(LABEL.orgKeyBackup, parsed.org, parsed.box, code, 'org key backup');
}
