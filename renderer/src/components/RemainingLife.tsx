// How long a disappearing message has left, counted down once a second; or, before its first reading, how soon
// after reading it burns. The engine deletes it at its deadline (and the list drops it then); this only says so.
import { useEffect, useState } from 'react';
import { durationLabel, remaining } from '../lib/timers.ts';
import type { Message } from '../state/types.ts';

export function RemainingLife({ message }: { message: Message }) {
  const [now, setNow] = useState(() => Date.now());
  const deadline = message.expiresAt ? Date.parse(message.expiresAt) : null;
  useEffect(() => {
    if (deadline === null) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [deadline]);
  if (deadline === null && message.burnAfterReadSeconds === undefined) return null;
  const parts = [
    deadline !== null ? `disappears in ${remaining(deadline - now)}` : null,
    message.burnAfterReadSeconds !== undefined && deadline === null ? `burns ${durationLabel(message.burnAfterReadSeconds)} after reading` : null,
    message.clampedByPolicy ? 'shortened by the org policy' : null,
  ].filter(Boolean);
  return <span className="remaining-life" title={deadline !== null ? new Date(deadline).toLocaleString() : undefined}>{parts.join(' · ')}</span>;
}
