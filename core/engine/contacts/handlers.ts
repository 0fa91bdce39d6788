// Contacts: safety numbers (compared out of band) and whether the user verified one.
import type { Handlers } from '../../api/dispatch.ts';
import { toBase64Url } from '../../crypto/sodium.ts';
import { safetyNumber } from '../../protocol/safety-number.ts';
import type { EngineContext } from '../context.ts';

type ContactHandlers = Pick<Handlers, 'contacts.safetyNumber' | 'contacts.markVerified'>;

export function contactHandlers(ctx: EngineContext): ContactHandlers {
  const { directory } = ctx;
  return {
    'contacts.safetyNumber': async ({ username }) => {
      await directory.ensure(username);
      const number = safetyNumber(
        { userId: ctx.username, accountPublicKey: directory.accountKey(ctx.username) },
        { userId: username, accountPublicKey: directory.accountKey(username) });
      return { digits: number.display, qr: toBase64Url(number.qrPayload), verified: directory.isVerified(username) };
    },
    'contacts.markVerified': async ({ username, verified }) => {
      await directory.ensure(username);
      await directory.setVerified(username, verified);
      return {};
    },
  };
}
