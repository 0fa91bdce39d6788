// The engine's notice in a conversation's history, where it happened: someone's safety number changed. Messages
// after it were encrypted (or held) for the new key; the profile shows the number to compare.
import { clockTime } from '../lib/time.ts';
import { openProfile } from '../state/trust-actions.ts';
import type { Message } from '../state/types.ts';

export function IdentityNotice({ message }: { message: Message }) {
  return (
    <div className="history-notice" role="note" aria-label={`${message.sender}'s safety number changed`} data-message={message.id}>
      <span aria-hidden="true">⚠</span>
      <span>
        <strong>{message.sender}</strong>&apos;s safety number changed at <time dateTime={message.sentAt}>{clockTime(message.sentAt)}</time>.
      </span>
      <button type="button" className="link-button" onClick={() => openProfile(message.sender)}>View safety number</button>
    </div>
  );
}
