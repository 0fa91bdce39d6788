// Catching up with the relay on demand (the CLI's `sync`, a UI's pull to refresh).
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import type { Inbound } from '../inbound/receive.ts';
import type { Operations } from '../operations/registry.ts';
import { UntrustedRelayError } from '../relay-http.ts';

type SyncHandlers = Pick<Handlers, 'sync.now' | 'operations.cancel'>;

/** How long sync.now waits for a connection to the relay before saying it cannot be reached. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long sync.now waits for the relay to hand over what it holds. */
const DRAIN_TIMEOUT_MS = 60_000;
/** How often a running sync reports how many messages it has taken in. */
const PROGRESS_EVERY_MS = 250;

export function syncHandlers(ctx: EngineContext, inbound: Inbound, operations: Operations): SyncHandlers {
  return {
    'sync.now': async ({ operation }) => operations.run(operation, async (op) => {
      const before = inbound.received;
      const sentBefore = ctx.outbox.sent;
      const progress = setInterval(() => op.progress(inbound.received - before), PROGRESS_EVERY_MS);
      const cancelled = new Promise<never>((_, reject) => op.signal.addEventListener('abort', () => reject(new EngineError('CANCELLED', 'sync cancelled')), { once: true }));
      cancelled.catch(() => {});
      try {
        // a relay that is not there is said so within seconds, not after the whole drain timeout
        // (an impostor at its address is not an outage: that alarm goes out as it is)
        await Promise.race([ctx.socket.waitOnline(CONNECT_TIMEOUT_MS).catch((error: unknown) => {
          if (error instanceof UntrustedRelayError) throw error;
          throw new EngineError('OFFLINE', `the relay at ${new URL(ctx.profile.server).host} cannot be reached`);
        }), cancelled]);
        await Promise.race([ctx.socket.drained(DRAIN_TIMEOUT_MS).catch((error: unknown) => {
          if (error instanceof UntrustedRelayError) throw error;
          throw new EngineError('OFFLINE', `the relay stopped answering: ${(error as Error).message}`);
        }), cancelled]);
        await Promise.race([inbound.drained(), cancelled]); // every batch delivered so far is committed, acknowledged and announced
      } finally {
        clearInterval(progress);
      }
      if (ctx.lane.failure) throw ctx.lane.failure;
      await ctx.outbox.flush();
      op.progress(inbound.received - before);
      return { received: inbound.received - before, sent: ctx.outbox.sent - sentBefore };
    }),
    'operations.cancel': async ({ operation }) => ({ cancelled: operations.cancel(operation) }),
  };
}
