// Contacts: the people this device knows, safety numbers (compared out of band) and whether the user verified one.
import type { Handlers } from '../../api/dispatch.ts';
import { toBase64Url } from '../../crypto/sodium.ts';
import { safetyNumber } from '../../protocol/safety-number.ts';
import type { EngineContext } from '../context.ts';
import type { DisplayNames } from './display-names.ts';

type ContactHandlers = Pick<Handlers, 'contacts.safetyNumber' | 'contacts.markVerified' | 'contacts.acceptIdentity' | 'contacts.list' | 'account.setDisplayName'>;

/** `released` sends what was held for a contact once their identity is accepted. */
export function contactHandlers(ctx: EngineContext, names: DisplayNames, released: () => Promise<void>): ContactHandlers {
  const { directory } = ctx;
  return {
    'contacts.safetyNumber': async ({ username }) => {
      await directory.ensure(username);
      const number = safetyNumber(
        { userId: ctx.username, accountPublicKey: directory.accountKey(ctx.username) },
        { userId: username, accountPublicKey: directory.accountKey(username) });
      return { digits: number.display, qr: toBase64Url(number.qrPayload), verified: directory.isVerified(username), identity: directory.identity(username) };
    },
    'contacts.markVerified': async ({ username, verified }) => {
      await directory.ensure(username);
      await directory.setVerified(username, verified);
      if (verified) await released();
      ctx.emit('contact.updated', (await names.contacts()).find((c) => c.username === username)!);
      return {};
    },
    'contacts.acceptIdentity': async ({ username }) => {
      await directory.ensure(username);
      await directory.acceptIdentity(username);
      await released();
      ctx.emit('contact.updated', (await names.contacts()).find((c) => c.username === username)!);
      return {};
    },
    'contacts.list': async () => ({ contacts: await names.contacts() }),
    'account.setDisplayName': async ({ displayName }) => {
      await names.set(displayName);
      return {};
    },
  };
}
