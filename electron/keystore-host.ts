// The engine process's side of the OS keystore: a KeystoreWrap that asks main (which alone has safeStorage), and
// an EngineHost around the real one that applies keystore-plan.ts. Without a passphrase, a profile opens through
// the keystore only where the plan allows it, and otherwise fails with VAULT_KEYSTORE_UNAVAILABLE and the plan's
// message; after a passphrase unlock (or a join or link) the key is wrapped for this keystore where the plan says.
// A keystore failure never fails a passphrase unlock: it is logged, and the passphrase keeps working.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../core/api/contract.ts';
import type { EngineHost, OpenEngine } from '../core/api/host.ts';
import { keystoreProvider, setKeystore, type KeystoreWrap } from '../core/host/index.ts';
import { KeystoreRpc } from './keystore.ts';
import { planUnlock, slotAfterPassphrase, type KeystoreStatus, type ProfileKeystoreState } from './keystore-plan.ts';

/**
 * Beside the vault: present while the app lock holds (written when the app locks the profile, removed when the
 * passphrase unlocks it), so quitting and starting the app again does not hand a locked profile to the keystore.
 */
export const APP_LOCK_MARKER = 'app-locked';

/** A KeystoreWrap whose wrap and unwrap are calls to the main process. */
export function remoteKeystore(call: (method: string, params: unknown) => Promise<unknown>, provider: string): KeystoreWrap {
  return {
    provider,
    async wrap(key) {
      const { blob } = KeystoreRpc['keystore.wrap'].response.parse(await call('keystore.wrap', { key: Buffer.from(key).toString('base64url') }));
      return new Uint8Array(Buffer.from(blob, 'base64url'));
    },
    async unwrap(blob) {
      const { key } = KeystoreRpc['keystore.unwrap'].response.parse(await call('keystore.unwrap', { blob: Buffer.from(blob).toString('base64url') }));
      return new Uint8Array(Buffer.from(key, 'base64url'));
    },
  };
}

export interface KeystoreAccess {
  status: KeystoreStatus;
  /** present exactly when the status is available */
  wrap: KeystoreWrap | undefined;
}

/** The slot a profile's key file names; null without one, or when there is no readable key file. */
function slotOf(dir: string): string | null {
  try {
    return keystoreProvider(dir);
  } catch {
    return null;
  }
}

export interface KeystoreHost {
  engines: EngineHost;
  /** The app is quitting: closing engines from now on is not an app lock (the keystore may open them next start). */
  quitting(): void;
}

/**
 * `inner` must be the engine host created with the same keystore (createEngineHost({ keystore })): it is what
 * opens a vault through the keystore once the plan allows it.
 */
export function withKeystore(inner: EngineHost, access: KeystoreAccess, log: (line: string) => void): KeystoreHost {
  const unwrapFailed = new Set<string>();
  let quitting = false;
  const state = (dir: string): ProfileKeystoreState => ({ slot: slotOf(dir), keystore: access.status, unwrapFailed: unwrapFailed.has(dir), appLocked: existsSync(path.join(dir, APP_LOCK_MARKER)) });
  const refusal = (dir: string) => {
    const plan = planUnlock(state(dir));
    return new ApiError('VAULT_KEYSTORE_UNAVAILABLE', plan.use === 'passphrase' ? plan.message : 'unlock with your passphrase');
  };
  const setMarker = (dir: string, locked: boolean) => {
    const marker = path.join(dir, APP_LOCK_MARKER);
    try {
      if (locked) writeFileSync(marker, '', { mode: 0o600 });
      else rmSync(marker, { force: true });
    } catch (error) {
      log(`keystore: the app-lock marker could not be ${locked ? 'written' : 'removed'} (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`);
    }
  };
  /** Closing the engine is an app lock, unless the app is quitting. */
  const tracked = (dir: string, engine: OpenEngine): OpenEngine => ({
    api: engine.api,
    close: async () => {
      if (!quitting) setMarker(dir, true);
      await engine.close();
    },
  });
  const afterPassphrase = async (dir: string, passphrase: string) => {
    setMarker(dir, false);
    const action = slotAfterPassphrase(state(dir));
    if (action === 'keep' || !access.wrap) return;
    try {
      await setKeystore(dir, passphrase, access.wrap);
      unwrapFailed.delete(dir);
      log(`keystore: ${action === 'wrap' ? 'wrapped' : 're-wrapped'} a profile's key for ${access.wrap.provider}`);
    } catch (error) {
      log(`keystore: wrapping a profile's key failed (${(error as { code?: string }).code ?? (error as Error).name}); the passphrase still unlocks it`);
    }
  };

  const engines: EngineHost = {
    async open(dir, passphrase) {
      if (passphrase === undefined) {
        if (planUnlock(state(dir)).use !== 'keystore') throw refusal(dir);
        try {
          return tracked(dir, await inner.open(dir));
        } catch (error) {
          if (!(error instanceof ApiError) || error.code !== 'VAULT_KEYSTORE_UNAVAILABLE') throw error;
          unwrapFailed.add(dir);
          throw refusal(dir);
        }
      }
      const engine = await inner.open(dir, passphrase);
      await afterPassphrase(dir, passphrase);
      return tracked(dir, engine);
    },
    async join(dir, link, username, passphrase) {
      const joined = await inner.join(dir, link, username, passphrase);
      await afterPassphrase(dir, passphrase);
      return { ...tracked(dir, joined), recoveryKit: joined.recoveryKit };
    },
    async link(dir, link, username, passphrase, options, onCode) {
      const linked = await inner.link(dir, link, username, passphrase, options, onCode);
      await afterPassphrase(dir, passphrase);
      return tracked(dir, linked);
    },
  };
  return { engines, quitting: () => { quitting = true; } };
}
