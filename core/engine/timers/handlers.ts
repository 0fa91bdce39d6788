// conversations.setTimer: a member sets the conversation's default timers, within the org policy, for everyone.
import { formatDuration } from '../../api/durations.ts';
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { messageViews } from '../history.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { ExpiryScheduler } from '../messages/expiry.ts';
import { timerStatements } from './conversation-timers.ts';
import type { Shredder } from './shredder.ts';

type TimerHandlers = Pick<Handlers, 'conversations.setTimer' | 'vault.shred'>;

export function timerHandlers(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound, expiry: ExpiryScheduler, shredder: Shredder): TimerHandlers {
  return {
    'vault.shred': async () => shredder.run('manual', await expiry.sweep()),
    'conversations.setTimer': async ({ conversation, expireSeconds, burnSeconds }) => {
      const { maxExpireSeconds, maxBurnSeconds } = ctx.policy;
      if (expireSeconds != null && maxExpireSeconds !== undefined && expireSeconds > maxExpireSeconds) {
        throw new EngineError('INVALID', `the org policy lets messages live at most ${formatDuration(maxExpireSeconds)}`);
      }
      if (burnSeconds != null && maxBurnSeconds !== undefined && burnSeconds > maxBurnSeconds) {
        throw new EngineError('INVALID', `the org policy lets messages burn at most ${formatDuration(maxBurnSeconds)} after reading`);
      }
      const to = await routing.fromCaller(conversation);
      const timer = { expireSeconds: expireSeconds ?? null, burnSeconds: burnSeconds ?? null };
      const id = await outbound.sendPayload(to, { kind: 'timer', ...timer }, null, (noticeId, into, at) => timerStatements(into, ctx.username, timer, at, noticeId));
      for (const view of await messageViews(ctx.vault, [id])) ctx.emit('message.received', view);
      await outbound.flushBounded();
      return timer;
    },
  };
}
