// "ann is typing…" under the list, for as long as the signals keep coming.
import { useTyping } from '../state/typing.ts';

const EMPTY: Record<string, number> = {};

export function TypingLine({ conversation }: { conversation: string }) {
  const people = Object.keys(useTyping((s) => s.byConversation[conversation] ?? EMPTY));
  const text = people.length === 0 ? '' : people.length === 1 ? `${people[0]} is typing…` : people.length <= 3 ? `${people.join(', ')} are typing…` : 'Several people are typing…';
  return <div className="typing-line" aria-live="polite">{text}</div>;
}
