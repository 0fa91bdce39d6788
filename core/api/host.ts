// The host side of the contract: how a front end gets an engine for a profile (open an enrolled one, or create
// one by joining or linking). The engine implements these types; callers (the CLI, the shells, `wardroom serve`)
// depend on them here, so no layer imports a caller's module to learn its own interface.
import type { WardroomApi } from './contract.ts';

/** The diagnostics file inside a profile directory (what "see the log" points at). */
export const PROFILE_LOG_FILE = 'wardroom.log';

/** How a front end gets an engine: open an existing profile, or create one by joining or by linking a device. */
export interface EngineHost {
  open(profileDir: string, passphrase: string): Promise<OpenEngine>;
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
