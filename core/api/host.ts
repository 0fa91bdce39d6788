// The host side of the contract: how a front end gets an engine for a profile (open an enrolled one, or create
// one by joining or linking). The engine implements these types; callers (the CLI, the shells, `wardroom serve`)
// depend on them here, so no layer imports a caller's module to learn its own interface.
import { z } from 'zod';
import { LIMITS, Passphrase, Username, type WardroomApi } from './contract.ts';

/** The diagnostics file inside a profile directory (what "see the log" points at). */
export const PROFILE_LOG_FILE = 'wardroom.log';

/** How a front end gets an engine: open an existing profile, or create one by joining or by linking a device. */
export interface EngineHost {
  /** Without a passphrase the host's platform keystore unwraps the vault key (VAULT_KEYSTORE_UNAVAILABLE if it cannot). */
  open(profileDir: string, passphrase?: string): Promise<OpenEngine>;
  join(profileDir: string, link: string, username: string, passphrase: string): Promise<OpenEngine & { recoveryKit: string }>;
  /**
   * Enrols this profile as a new device of an existing account. `onCode` gets the link code (WDL1.…) as soon as
   * the relay holds the request; the promise resolves once an existing device approved it (at once with a
   * recovery kit), and rejects when `signal` aborts.
   */
  link(profileDir: string, link: string, username: string, passphrase: string, options: LinkOptions, onCode: (code: string) => void): Promise<OpenEngine>;
}

export interface LinkOptions {
  recoveryKit?: string;
  signal?: AbortSignal;
  pollMs?: number;
  timeoutMs?: number;
}

export interface OpenEngine {
  api: WardroomApi;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- profiles, for a front end that holds several

/** A profile's name: its directory inside the app's data directory. */
export const ProfileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'profile names are 1-64 characters: letters, digits, dot, dash, underscore (not first)');
export const ProfileState = z.enum(['locked', 'unlocking', 'open', 'linking']);

export const ProfileView = z.object({
  name: ProfileName,
  state: ProfileState,
  /** known once the profile has been open in this process (the username is inside the encrypted vault) */
  username: Username.optional(),
});

const empty = z.object({}).strict();
const profileRef = z.object({ profile: ProfileName }).strict();

/**
 * The host's commands: what a front end can do before, around and between engines. Like the engine's, each has a
 * request and a response schema, checked by the same dispatcher code; a session (core/host) answers these and
 * routes every other command to the profile it has selected, so a locked profile answers only these.
 */
export const hostCommands = {
  'profiles.list': { request: empty, response: z.object({ profiles: z.array(ProfileView), current: ProfileName.optional() }) },
  /** Creates a profile by joining with an invite; the recovery kit is shown once. The profile is then open and selected. */
  'profiles.join': {
    request: z.object({ profile: ProfileName, link: z.string().max(LIMITS.linkMax), username: Username, passphrase: Passphrase }).strict(),
    response: z.object({ profile: ProfileView, recoveryKit: z.string() }),
  },
  /**
   * Creates a profile as a new device of an existing account. The code to approve it with arrives as a
   * profile.linkCode event; this answers once a device approved it (at once with the recovery kit). Closing the
   * profile while it links cancels the link.
   */
  'profiles.link': {
    request: z.object({ profile: ProfileName, link: z.string().max(LIMITS.linkMax), username: Username, passphrase: Passphrase, recoveryKit: z.string().max(LIMITS.linkMax).optional() }).strict(),
    response: z.object({ profile: ProfileView }),
  },
  /**
   * Without a passphrase, the platform keystore is asked (the desktop app's safeStorage); where it cannot unlock the
   * profile the answer is VAULT_KEYSTORE_UNAVAILABLE, whose message says why, and the passphrase always works.
   */
  'profiles.unlock': { request: z.object({ profile: ProfileName, passphrase: z.string().max(LIMITS.passphraseMax).optional() }).strict(), response: ProfileView },
  /** Makes an open profile the one this session's engine commands go to. */
  'profiles.select': { request: profileRef, response: ProfileView },
  /** Locks a profile: its engine stops and the vault's keys leave memory. Cancels a link in progress. */
  'profiles.lock': { request: profileRef, response: ProfileView },
  /** Deletes a locked profile from this computer for good (its vault key first, so nothing left can be read). */
  'profiles.remove': { request: z.object({ profile: ProfileName, confirm: z.literal(true) }).strict(), response: empty },
  /** The user did something: idle locking counts from now. */
  'app.activity': { request: empty, response: empty },
  /** The computer locked its screen or is going to sleep: every open profile locks. */
  'app.lockAll': { request: empty, response: empty },
  /**
   * What the first screen can offer: the invite of the relay this app started for itself (`npm start` with no relay
   * configured), while the app data directory holds no profile yet.
   */
  'app.welcome': { request: empty, response: z.object({ invite: z.string().max(LIMITS.linkMax).optional() }) },
} as const;

export const hostEvents = {
  'profile.state': z.object({ profile: ProfileName, state: ProfileState, reason: z.enum(['requested', 'idle', 'system', 'failed']).optional() }),
  'profile.linkCode': z.object({ profile: ProfileName, code: z.string() }),
} as const;

export type HostCommands = typeof hostCommands;
export type HostCommandName = keyof HostCommands;
export type HostEventName = keyof typeof hostEvents;
export type ProfileViewT = z.output<typeof ProfileView>;
