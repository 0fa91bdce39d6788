// What an enrolled profile remembers about itself, in the vault's kv table under `e:` keys (the protocol's own
// state lives under `p:`, core/engine/protocol-store.ts). Everything here is inside the encrypted database.
import { z } from 'zod';
import { NotifyLevel, Theme, type SettingsT } from '../api/contract.ts';
import { fromUtf8, utf8 } from '../crypto/sodium.ts';
import { deserializeAccountIdentity, serializeAccountIdentity, type AccountIdentity } from '../protocol/identity.ts';
import type { SqlExecutor, Statement } from '../vault/index.ts';

const profileSchema = z.object({
  server: z.string(),
  pin: z.string().nullable(),
  ca: z.string().nullable(),
  username: z.string(),
  accountId: z.string(),
  deviceId: z.string(),
  /** base64url Ed25519 org key, pinned at enrolment once the org has one */
  orgKey: z.string().nullable(),
  /** the device list version this profile last published (only devices holding the account key publish) */
  deviceListVersion: z.number().int().nonnegative(),
  /** delivery and read receipts for direct messages */
  receipts: z.boolean(),
  // Added later: profiles written before them read back with these defaults.
  typing: z.boolean().default(true),
  notifications: NotifyLevel.default('all'),
  /** off by default: a notification says that something arrived, not who sent what */
  notificationContent: z.boolean().default(false),
  lockAfterSeconds: z.number().int().nonnegative().default(15 * 60),
  theme: Theme.default('system'),
  screenCaptureProtection: z.boolean().default(false),
  /** on by default, as Signal does: the sender's device fetches, so the recipients' never contact the site */
  linkPreviews: z.boolean().default(true),
  /** off by default: images lose their metadata before they are sent */
  sendOriginalImages: z.boolean().default(false),
  /** the name this user chose to be shown by; empty for none */
  displayName: z.string().default(''),
  /** this device's name, shown on the account's devices (never sent to the relay); empty for none */
  deviceName: z.string().default(''),
}).strict();

/** The profile's part that the contract calls settings. */
export function settingsOf(profile: Profile): SettingsT {
  const { receipts, typing, notifications, notificationContent, lockAfterSeconds, theme, screenCaptureProtection, linkPreviews, sendOriginalImages } = profile;
  return { receipts, typing, notifications, notificationContent, lockAfterSeconds, theme, screenCaptureProtection, linkPreviews, sendOriginalImages };
}

export type Profile = z.output<typeof profileSchema>;
/** A profile as enrolment writes it: settings added later take their defaults. */
export type NewProfile = z.input<typeof profileSchema>;

const PROFILE_KEY = 'e:profile';
const ACCOUNT_KEY = 'e:account';
const upsert = (key: string, value: Uint8Array): Statement => ({ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [key, value] });

export function profileStatement(profile: NewProfile): Statement {
  return upsert(PROFILE_KEY, utf8(JSON.stringify(profileSchema.parse(profile))));
}

/** Only the first device and devices recovered with the kit hold the account key; linked devices do not. */
export function accountStatement(account: AccountIdentity): Statement {
  return upsert(ACCOUNT_KEY, serializeAccountIdentity(account));
}

export async function loadProfile(sql: SqlExecutor): Promise<{ profile: Profile; account: AccountIdentity | null }> {
  const rows = await sql.all<{ key: string; value: Uint8Array }>('SELECT key, value FROM kv WHERE key IN (?, ?)', [PROFILE_KEY, ACCOUNT_KEY]);
  const byKey = new Map(rows.map((r) => [r.key, r.value]));
  const profile = byKey.get(PROFILE_KEY);
  if (!profile) throw new Error('this vault holds no profile: enrolment did not finish');
  const account = byKey.get(ACCOUNT_KEY);
  return { profile: profileSchema.parse(JSON.parse(fromUtf8(profile))), account: account ? deserializeAccountIdentity(account) : null };
}
