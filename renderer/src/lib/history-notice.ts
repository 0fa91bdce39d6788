// The words of a notice in a conversation's history (not a message anyone sent), from its structured fields: the
// engine says what happened and who did it, the renderer says it in the user's terms. Names stay plain text.
import type { MessageViewT } from '../../../core/api/contract.ts';

const ROLE_WORDS = { owner: 'an owner', admin: 'an admin', member: 'a member' } as const;

/**
 * "alice added bob and carol", "Retention was turned on…", or null when the message is not a membership or retention
 * notice (IdentityNotice shows identity changes, the engine's own text timer notices).
 */
export function historyNoticeText(m: Pick<MessageViewT, 'notice' | 'sender' | 'membership'>, me: string): string | null {
  const who = (name: string) => (name === me ? 'you' : name);
  const list = (names: string[]) => {
    const words = names.map(who);
    return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
  };
  const actor = m.sender === me ? 'You' : m.sender;
  // the archive account is the sender of a retention notice: the org's signed policy named it
  if (m.notice === 'retention-on') return `Retention was turned on: the organisation's archive (${m.sender}) now keeps a copy of everything sent here`;
  if (m.notice === 'retention-off') return 'Retention was turned off: the organisation\'s archive no longer receives copies';
  if (m.notice !== 'membership' || !m.membership) return null;
  const { change, members, role } = m.membership;
  switch (change) {
    case 'created': return `${actor} created this channel`;
    case 'added': return `${actor} added ${list(members)}`;
    case 'removed': return `${actor} removed ${list(members)}`;
    case 'joined': return `${actor} joined`;
    case 'left': return `${actor} left`;
    case 'role': return `${actor} made ${list(members)} ${ROLE_WORDS[role ?? 'member']}`;
  }
}
