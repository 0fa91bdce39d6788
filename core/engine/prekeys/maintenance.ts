// Keeping this device reachable: its signed prekey is replaced weekly (the previous one stays usable for session
// starts in flight) and uploaded until the relay has it; one-time prekeys are topped up when the relay runs low.
import { addOneTimePrekeys, rotateSignedPrekey } from '../../protocol/prekeys.ts';
import type { ProtocolWrite } from '../../protocol/store.ts';
import type { EngineContext } from '../context.ts';
import { encodeSignedPrekey } from '../directory.ts';
import { signedPrekeyUploadedStatement, uploadedSignedPrekey } from '../profile.ts';

const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 3600 * 1000;
const ONE_TIME_PREKEYS_MAX = 1000;
const ONE_TIME_PREKEYS_BATCH = 100;

/** Runs whenever the socket comes online. In the lane. */
export async function maintainSignedPrekey(ctx: EngineContext): Promise<void> {
  let prekeys = ctx.store.prekeys();
  const newest = prekeys.signed[0]!;
  if (ctx.now() - newest.createdAt >= SIGNED_PREKEY_ROTATION_MS) {
    const rotated = rotateSignedPrekey(prekeys, ctx.store.device(), ctx.now());
    const writes: ProtocolWrite[] = [{ kind: 'prekeys', state: rotated.state }];
    await ctx.lane.commitWrites(writes);
    prekeys = rotated.state;
  }
  const current = prekeys.signed[0]!;
  if ((await uploadedSignedPrekey(ctx.vault)) === current.id) return;
  await ctx.http.putPrekeys({ signedPrekey: { keyId: current.id, data: encodeSignedPrekey(current.keyPair.publicKey, current.signature) }, oneTimePrekeys: [] });
  await ctx.vault.transaction([signedPrekeyUploadedStatement(current.id)]);
}

/** The relay said our one-time prekeys run low. In the lane. */
export async function topUpPrekeys(ctx: EngineContext): Promise<void> {
  const prekeys = ctx.store.prekeys();
  const room = ONE_TIME_PREKEYS_MAX - prekeys.oneTime.length;
  if (room <= 0) return;
  const { state, oneTime } = addOneTimePrekeys(prekeys, Math.min(ONE_TIME_PREKEYS_BATCH, room));
  await ctx.lane.commitWrites([{ kind: 'prekeys', state }]);
  await ctx.http.putPrekeys({ oneTimePrekeys: oneTime.map((k) => ({ keyId: k.id, data: k.publicKey })) });
}
