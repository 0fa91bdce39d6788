// Writing a message: Enter sends, Shift+Enter starts a new line. Markdown is sent as typed and rendered on arrival.
// The draft is kept per conversation while the profile is open; a send that fails puts the text back.
import { useRef, useState, type KeyboardEvent } from 'react';
import { MESSAGE_TEXT_MAX } from '../lib/limits.ts';
import { BURN_CHOICES, EXPIRE_CHOICES } from '../lib/timers.ts';
import { send, typing } from '../state/app.ts';
import { useMessages } from '../state/messages.ts';

export function Composer({ conversation, label }: { conversation: string; label: string }) {
  const draft = useMessages((s) => s.drafts[conversation] ?? '');
  const setDraft = useMessages((s) => s.setDraft);
  const [sending, setSending] = useState(false);
  // this message's own timers; none: the conversation's timer and the org policy decide
  const [expire, setExpire] = useState(0);
  const [burn, setBurn] = useState(0);
  const input = useRef<HTMLTextAreaElement>(null);

  const submit = async () => {
    const text = draft.trim();
    if (!text || sending || text.length > MESSAGE_TEXT_MAX) return;
    setSending(true);
    setDraft(conversation, '');
    typing(conversation, false);
    try {
      await send(conversation, text, expire || burn ? { ...(expire ? { expiresInSeconds: expire } : {}), ...(burn ? { burnAfterReadSeconds: burn } : {}) } : undefined);
    } catch {
      setDraft(conversation, text); // the notice says why; nothing typed is lost
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  const over = draft.length > MESSAGE_TEXT_MAX;
  const lines = Math.min(8, draft.split('\n').length);
  return (
    <form className="composer" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <label htmlFor="composer-input" className="visually-hidden">Message {label}</label>
      <textarea id="composer-input" ref={input} value={draft} rows={lines} placeholder={`Message ${label}`} aria-describedby="composer-hint" aria-invalid={over || undefined}
        onChange={(e) => {
          setDraft(conversation, e.target.value);
          typing(conversation, e.target.value.length > 0);
        }}
        onKeyDown={onKeyDown} />
      <span id="composer-hint" className={`composer-hint${over ? ' over' : ''}`}>
        {over ? `${draft.length - MESSAGE_TEXT_MAX} characters over the limit of ${MESSAGE_TEXT_MAX}` : 'Enter to send, Shift+Enter for a new line. **bold**, _italic_, `code`'}
      </span>
      <button type="submit" className="primary" disabled={sending || over || draft.trim() === ''}>Send</button>
      <div className="composer-timers">
        <label htmlFor="composer-expire">Disappears</label>
        <select id="composer-expire" value={expire} onChange={(e) => setExpire(Number(e.target.value))}>
          <option value={0}>as the conversation says</option>
          {EXPIRE_CHOICES.map((c) => <option key={c.seconds} value={c.seconds}>after {c.label}</option>)}
        </select>
        <label htmlFor="composer-burn">Burns</label>
        <select id="composer-burn" value={burn} onChange={(e) => setBurn(Number(e.target.value))}>
          <option value={0}>not on reading</option>
          {BURN_CHOICES.map((c) => <option key={c.seconds} value={c.seconds}>{c.label} after reading</option>)}
        </select>
      </div>
    </form>
  );
}
