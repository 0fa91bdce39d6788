// Catching up with the relay on demand (the CLI's `sync`, a UI's pull to refresh) and running the shredder.
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import type { Inbound } from '../inbound/receive.ts';
import type { ExpiryScheduler } from '../messages/expiry.ts';

type SyncHandlers = Pick<Handlers, 'sync.now' | 'vault.shred'>;

/** How long sync.now waits for the relay to hand over what it holds. */
const DRAIN_TIMEOUT_MS = 60_000;

export function syncHandlers(ctx: EngineContext, inbound: Inbound, expiry: ExpiryScheduler): SyncHandlers {
  return {
    'sync.now': async () => {
      const before = inbound.received;
      await ctx.socket.drained(DRAIN_TIMEOUT_MS).catch((error: unknown) => {
        throw new EngineError('OFFLINE', `could not reach the relay: ${(error as Error).message}`);
      });
      await inbound.drained(); // every batch delivered so far is committed, acknowledged and announced
      if (ctx.lane.failure) throw ctx.lane.failure;
      const pending = await ctx.outbox.pending();
      await ctx.outbox.flush();
      return { received: inbound.received - before, sent: pending - (await ctx.outbox.pending()) };
    },
    'vault.shred': async () => {
      await expiry.sweep();
      const report = await ctx.vault.shred();
      return { rows: report.messagesRemoved, files: report.filesShredded, bytes: report.bytesOverwritten };
    },
  };
}
