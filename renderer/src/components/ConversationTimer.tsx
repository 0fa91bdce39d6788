// The conversation's timer, in its header: any member sets it for everyone, within the org policy, and the engine
// announces the change in the conversation itself.
import { useState } from 'react';
import { api, errorText } from '../bridge/index.ts';
import { EXPIRE_CHOICES, withCurrent } from '../lib/timers.ts';
import { useConversations } from '../state/conversations.ts';
import type { Conversation } from '../state/types.ts';
import { ErrorLine } from './ErrorLine.tsx';

export function ConversationTimer({ conversation }: { conversation: Conversation }) {
  // the conversation's own view: another member's change arrives as conversation.updated
  const expire = conversation.timer?.expireSeconds;
  const [error, setError] = useState<string>();
  const change = async (seconds: number) => {
    setError(undefined);
    try {
      const set = await api().call('conversations.setTimer', { conversation: conversation.id, expireSeconds: seconds || null, burnSeconds: conversation.timer?.burnSeconds ?? null });
      const timer = { ...(set.expireSeconds !== null ? { expireSeconds: set.expireSeconds } : {}), ...(set.burnSeconds !== null ? { burnSeconds: set.burnSeconds } : {}) };
      useConversations.getState().upsert({ ...conversation, timer });
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <div className="conversation-timer">
      <label htmlFor="conversation-timer">Disappearing messages</label>
      <select id="conversation-timer" value={expire ?? 0} onChange={(e) => void change(Number(e.target.value))}>
        <option value={0}>Off</option>
        {withCurrent(EXPIRE_CHOICES, expire).map((c) => <option key={c.seconds} value={c.seconds}>After {c.label}</option>)}
      </select>
      <ErrorLine error={error} />
    </div>
  );
}
