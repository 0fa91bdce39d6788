// The bytes a key signs over a relay challenge, one context per purpose, so a signature made for one can never be
// replayed as another: a login, a cancelled link, a recovery read, a recovery approval. Shared by the relay, which
// verifies them, and the engine, which signs them.
import { concatBytes, utf8 } from '../crypto/sodium.ts';

const message = (context: string) => {
  const prefix = utf8(`${context}\0`);
  return (challenge: Uint8Array, deviceId: string): Uint8Array => concatBytes(prefix, challenge, utf8(deviceId));
};

/** Signed by a device key to log in. */
export const authMessage = message('wardroom-auth-v1');
/** Signed by a new device's key to withdraw its link request. */
export const linkCancelMessage = message('wardroom-link-cancel-v1');
/** Signed by the account key (from the recovery kit) to read the account's device list for a device being recovered. */
export const recoveryInfoMessage = message('wardroom-recover-info-v1');
/** Signed by the account key (from the recovery kit) to approve a device being recovered. */
export const recoveryMessage = message('wardroom-recover-v1');
