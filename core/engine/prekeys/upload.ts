// Keeping this device's prekeys in order on the relay. What to do is decided by the protocol (planPrekeyUpload) from
// the device's state AND the stock the relay reports, so a drained stock, an upload that never arrived or a relay
// restored from a backup is noticed and refilled: the device does not trust its own memory of what it uploaded.
// Run when the socket comes online and whenever the relay sends prekeys_low, inside the engine's serial lane (the
// plan reads the prekey state and commits a successor, which must not race a session start consuming a key).
import { expandKemPrekeys, planPrekeyUpload, type PrekeyUpload, type RelayPrekeyStock } from '../../protocol/prekeys.ts';
import type { ProtocolWrite } from '../../protocol/store.ts';
import type { SqlExecutor } from '../../vault/index.ts';
import { encodeSignedPrekey } from '../directory.ts';
import { protocolStatements, type VaultProtocolStore } from '../protocol-store.ts';
import type { Prekey, PrekeyUploadRequest, RelayHttp } from '../relay-http.ts';

/** The protocol's upload as the relay's request (keys as the opaque bytes directory.ts reads back). */
export function prekeyUploadRequest(upload: PrekeyUpload): PrekeyUploadRequest {
  const plain = (k: { id: number; publicKey: Uint8Array }): Prekey => ({ keyId: k.id, data: k.publicKey });
  const signed = (k: { id: number; publicKey: Uint8Array; signature: Uint8Array }): Prekey => ({ keyId: k.id, data: encodeSignedPrekey(k.publicKey, k.signature) });
  return {
    ...(upload.signedPrekey ? { signedPrekey: signed(upload.signedPrekey) } : {}),
    ...(upload.lastResort ? { lastResortPrekey: plain(upload.lastResort) } : {}),
    ...(upload.kemLastResort ? { kemLastResortPrekey: signed(upload.kemLastResort) } : {}),
    oneTimePrekeys: upload.oneTime.map(plain),
    kemPrekeys: upload.kemOneTime.map(signed),
    ...(upload.replaceOneTime ? { replaceOneTime: true } : {}),
  };
}

export interface PrekeyMaintenance {
  store: VaultProtocolStore;
  vault: SqlExecutor;
  http: RelayHttp;
  now: number;
  /** Resolves once earlier vault commits have landed (the engine's #settled), so this one is ordered after them. */
  settled: () => Promise<void>;
}

/**
 * Asks the relay what it holds, makes and uploads what is missing (rotating first when due), and expands the
 * device's ML-KEM decapsulation keys for the session starts to come. New keys are committed to the vault BEFORE
 * they are uploaded, so the relay can never hand out a key the device does not have. Returns the relay's stock.
 */
export async function maintainPrekeys(deps: PrekeyMaintenance): Promise<RelayPrekeyStock> {
  let stock = await deps.http.prekeyStock();
  const plan = planPrekeyUpload(deps.store.prekeys(), deps.store.device(), stock, deps.now);
  if (plan) {
    const writes: ProtocolWrite[] = [{ kind: 'prekeys', state: plan.state }];
    await deps.settled();
    await deps.vault.transaction(protocolStatements(writes));
    deps.store.commit(writes);
    stock = await deps.http.putPrekeys(prekeyUploadRequest(plan.upload));
  }
  expandKemPrekeys(deps.store.prekeys());
  return stock;
}
