// The CLI's EngineHost over the real engine: open an enrolled profile, or enrol a new one (join with an invite,
// link to an existing account) and start the engine on it. Everything a person can act on leaves here as an
// ApiError with a one-line message; anything else is an engine bug, written to the profile's log file.
//
// Environment:
//   WARDROOM_KDF=interactive   create new profiles with libsodium's INTERACTIVE Argon2id cost instead of the
//                              production one. FOR TESTS AND CI ONLY: it makes a stolen profile far cheaper to
//                              brute-force. The cost is stored in the profile, so it only matters at join/link.
import { appendFileSync, existsSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { ApiError, Passphrase, Username } from '../api/contract.ts';
import { PROFILE_LOG_FILE, type EngineHost, type LinkOptions, type OpenEngine } from '../api/host.ts';
import { ARGON2ID_INTERACTIVE, type Argon2idParams } from '../crypto/sodium.ts';
import { openVault, vaultExists, VaultError, type KeystoreWrap, type Vault } from '../vault/index.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { join, link } from './enrol.ts';
import { RelayError } from './relay-http.ts';
import { PROFILE_MIGRATIONS } from './schema.ts';

/** The diagnostics file inside the profile directory. Engine log lines never hold secrets or message text. */
export const LOG_FILE = PROFILE_LOG_FILE;
const LOG_MAX_BYTES = 1024 * 1024;

/** WARDROOM_KDF: unset (or "production") for the real cost; "interactive" for tests and CI only. */
export function kdfFromEnv(env: Record<string, string | undefined>): Argon2idParams | undefined {
  const value = env.WARDROOM_KDF;
  if (value === undefined || value === '' || value === 'production') return undefined;
  if (value === 'interactive') return ARGON2ID_INTERACTIVE;
  throw new ApiError('BAD_REQUEST', 'WARDROOM_KDF is "interactive" (tests and CI only) or unset');
}

/** Appends timestamped lines to PROFILE/wardroom.log (mode 0600), keeping one older file past 1 MiB. */
export function profileLog(profileDir: string): (line: string) => void {
  const file = path.join(profileDir, LOG_FILE);
  let checked = false;
  return (line) => {
    try {
      if (!existsSync(profileDir)) return;
      if (!checked) {
        checked = true;
        if (existsSync(file) && statSync(file).size > LOG_MAX_BYTES) renameSync(file, `${file}.1`);
      }
      appendFileSync(file, `${new Date().toISOString()} ${line.replace(/\n/g, '\n  ')}\n`, { mode: 0o600 });
    } catch {
      // diagnostics must never break the command
    }
  };
}

/** Text from the relay is the server's to choose: keep it to one printable line. */
const printable = (text: string) => text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').slice(0, 300);

/** A relay failure in the user's terms: could not reach it, it refused (in its words), or it misbehaved. */
function relayProblem(error: RelayError): string {
  switch (error.code) {
    case 'network': case 'timeout': case 'closed': return `the relay cannot be reached: ${printable(error.message)}`;
    case 'pin_mismatch': case 'insecure': case 'invalid_input': case 'bad_reply': return printable(error.message);
    default: return `the relay refused: ${printable(error.message)}`;
  }
}

/** Turns what a person can act on into ApiErrors; logs and rethrows the rest. */
function explain(error: unknown, profileDir: string, log: (line: string) => void): never {
  if (error instanceof ApiError) throw error;
  if (error instanceof VaultError) {
    switch (error.code) {
      case 'WRONG_PASSPHRASE': throw new ApiError('WRONG_PASSPHRASE', 'wrong passphrase for this profile');
      case 'NOT_FOUND': throw new ApiError('NOT_ENROLLED', `no profile in ${profileDir}: join or link first`);
      case 'LOCKED_BY_OTHER_PROCESS':
        throw new ApiError('LOCKED', `this profile is in use by another wardroom process${error.holderPid ? ` (pid ${error.holderPid})` : ''}`);
      case 'ALREADY_EXISTS': throw new ApiError('ALREADY_ENROLLED', 'this profile is already enrolled');
      case 'INVALID_ARGUMENT': throw new ApiError('BAD_REQUEST', printable(error.message));
      case 'CORRUPT': throw new ApiError('VAULT_CORRUPT', printable(error.message));
      case 'UNSUPPORTED_VERSION': throw new ApiError('VAULT_UNSUPPORTED_VERSION', printable(error.message));
      case 'DISK_FULL': throw new ApiError('VAULT_DISK_FULL', printable(error.message));
      case 'KEYSTORE_UNAVAILABLE': throw new ApiError('VAULT_KEYSTORE_UNAVAILABLE', printable(error.message));
      default: break;
    }
  }
  if (error instanceof RelayError) {
    log(`relay error: ${error.code} ${error.status} ${error.detail ?? ''}: ${error.stack ?? error.message}`);
    throw new ApiError('RELAY', relayProblem(error));
  }
  log(`unexpected: ${(error as Error)?.stack ?? String(error)}`);
  throw error;
}

/** Checked before anything touches the disk or the relay, so a typo costs nothing. */
function checkNewProfile(profileDir: string, username: string, passphrase: string): void {
  if (vaultExists(profileDir)) throw new ApiError('ALREADY_ENROLLED', `${profileDir} already holds a profile`);
  const name = Username.safeParse(username);
  if (!name.success) throw new ApiError('BAD_REQUEST', name.error.issues[0]!.message);
  const pass = Passphrase.safeParse(passphrase);
  if (!pass.success) throw new ApiError('BAD_REQUEST', pass.error.issues[0]!.message);
}

export interface HostOptions {
  env?: Record<string, string | undefined>;
  /** extra engine options (tests) */
  engine?: Partial<EngineOptions>;
  /** the platform keystore (the desktop app's safeStorage): lets open() unwrap the vault key without the passphrase */
  keystore?: KeystoreWrap;
}

export function createEngineHost(options: HostOptions = {}): EngineHost {
  const env = options.env ?? process.env;
  const settings = (profileDir: string, passphrase: string): EngineOptions => ({
    profileDir, passphrase, log: profileLog(profileDir), ...options.engine,
  });
  const started = (engine: Engine): OpenEngine => ({ api: engine.api, close: () => engine.close() });
  const start = async (vault: Vault, profileDir: string, passphrase: string) => started(await Engine.start(vault, settings(profileDir, passphrase)));

  const openWithKeystore = async (profileDir: string): Promise<OpenEngine> => {
    const log = profileLog(profileDir);
    if (!options.keystore) throw new ApiError('BAD_REQUEST', 'this app has no platform keystore: unlock with the passphrase');
    try {
      const vault = await openVault({ dir: profileDir, keystore: options.keystore, migrations: PROFILE_MIGRATIONS });
      // Engine.start never reads the passphrase (only Engine.open unwraps with it), so none is handed on.
      return await start(vault, profileDir, '');
    } catch (error) {
      explain(error, profileDir, log);
    }
  };

  return {
    async open(profileDir, passphrase) {
      if (passphrase === undefined) return openWithKeystore(profileDir);
      const s = settings(profileDir, passphrase);
      try {
        return started(await Engine.open(s));
      } catch (error) {
        explain(error, profileDir, s.log!);
      }
    },

    async join(profileDir, inviteLink, username, passphrase) {
      const s = settings(profileDir, passphrase);
      try {
        checkNewProfile(profileDir, username, passphrase);
        const kdf = kdfFromEnv(env);
        const { vault, recoveryKit } = await join({ profileDir, passphrase, ...(kdf ? { kdf } : {}) }, inviteLink, username, Date.now());
        return { ...(await start(vault, profileDir, passphrase)), recoveryKit };
      } catch (error) {
        explain(error, profileDir, s.log!);
      }
    },

    async link(profileDir, inviteLink, username, passphrase, linkOptions: LinkOptions, onCode) {
      const s = settings(profileDir, passphrase);
      try {
        checkNewProfile(profileDir, username, passphrase);
        const kdf = kdfFromEnv(env);
        const pending = await link({ profileDir, passphrase, ...(kdf ? { kdf } : {}) }, inviteLink, username, Date.now(), {
          ...(linkOptions.recoveryKit ? { recoveryKit: linkOptions.recoveryKit } : {}),
          ...(linkOptions.signal ? { signal: linkOptions.signal } : {}),
          ...(linkOptions.timeoutMs ? { timeoutMs: linkOptions.timeoutMs } : {}),
          pollMs: linkOptions.pollMs ?? 1000,
        });
        // `completed` already runs: hold its rejection here so it is never unhandled while onCode runs
        const completed = pending.completed.then((vault) => ({ vault }), (error: unknown) => ({ error }));
        onCode(pending.code);
        const outcome = await completed;
        if ('error' in outcome) throw outcome.error;
        return await start(outcome.vault, profileDir, passphrase);
      } catch (error) {
        explain(error, profileDir, s.log!);
      }
    },
  };
}
