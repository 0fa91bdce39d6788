// policy.get and policy.set: the org policy as this device enforces it, and an admin changing it.
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { relayUnreachable } from '../relay-http.ts';
import type { OrgPolicy } from './policy.ts';

type PolicyHandlers = Pick<Handlers, 'policy.get' | 'policy.set'>;

export function policyHandlers(ctx: EngineContext, policy: OrgPolicy): PolicyHandlers {
  return {
    'policy.get': async () => {
      // a relay that cannot be reached leaves the kept policy in force; a relay serving a bad one is an error
      await policy.refresh().catch((error: unknown) => {
        if (!relayUnreachable(error)) throw error;
        ctx.log('policy.get: relay unreachable, showing the kept policy');
      });
      return { policy: policy.current, org: policy.orgFingerprint, canSign: await policy.canSign() };
    },
    'policy.set': async (change) => policy.set(change),
  };
}
