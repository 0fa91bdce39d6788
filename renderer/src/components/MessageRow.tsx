// One message: who sent it and when (left out when the same person continues within a few minutes), the message
// it answers quoted above it (a click shows the original in its place), its text as markdown, its reactions, its
// thread's reply count, a menu of what can be done with it, and for our own messages where delivery has got to.
import { memo, useRef, useState } from 'react';
import { quoteText } from '../lib/quote-text.ts';
import { historyNoticeText } from '../lib/history-notice.ts';
import { clockTime } from '../lib/time.ts';
import { deleteMessage, jumpTo, openThread, toggleReaction } from '../state/chat.ts';
import { useCompose } from '../state/compose.ts';
import { useDisplayName } from '../state/contacts.ts';
import { useMessages } from '../state/messages.ts';
import { useSession } from '../state/session.ts';
import type { Message } from '../state/types.ts';
import { openProfile } from '../state/trust-actions.ts';
import { DeliveryState } from './DeliveryState.tsx';
import { Dialog } from './Dialog.tsx';
import { IdentityNotice } from './IdentityNotice.tsx';
import { LazyEmojiPicker } from './LazyEmojiPicker.tsx';
import { MessageActions, type Action } from './MessageActions.tsx';
import { FileAttachments } from './FileAttachments.tsx';
import { LinkPreviewCard } from './LinkPreviewCard.tsx';
import { MessageText } from './MessageText.tsx';
import { RemainingLife } from './RemainingLife.tsx';

/** Where a row is shown: the conversation's list (its composer is `scope`), or a thread panel. */
export interface RowPlace {
  scope: string;
  inThread: boolean;
}

const names = (users: readonly string[]) => (users.length <= 1 ? users.join('') : `${users.slice(0, -1).join(', ')} and ${users.at(-1)}`);

function Quote({ message }: { message: Message }) {
  const quoted = useMessages((s) => s.threads[message.conversation]?.byId[message.replyTo!]);
  return (
    <button type="button" className="quote" title="Show the original message" onClick={() => void jumpTo(message.conversation, message.replyTo!, quoted?.threadRoot)}>
      <span className="visually-hidden">Reply to </span>
      {quoted ? <><span className="quote-sender">{quoted.sender}</span>: <span className="quote-text">{quoteText(quoted)}</span></>
        : <span className="quote-text">an earlier message</span>}
    </button>
  );
}

function Reactions({ message, onAdd }: { message: Message; onAdd(anchor: HTMLElement): void }) {
  const me = useSession((s) => s.me?.username);
  if (message.reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {message.reactions.map((r) => {
        const mine = me !== undefined && r.users.includes(me);
        return (
          <button key={r.emoji} type="button" className={`reaction${mine ? ' mine' : ''}`} aria-pressed={mine}
            aria-label={`${r.emoji} ${r.users.length}, reacted by ${names(r.users)}${mine ? ' (you: press to take yours back)' : ''}`}
            title={`${names(r.users)} reacted with ${r.emoji}`} onClick={() => void toggleReaction(message, r.emoji).catch(() => {})}>
            <span aria-hidden="true">{r.emoji}</span> {r.users.length}
          </button>
        );
      })}
      <button type="button" className="reaction add-reaction" aria-label="Add reaction" onClick={(e) => onAdd(e.currentTarget)}>+</button>
    </div>
  );
}

export const MessageRow = memo(function MessageRow({ message, continued, place }: { message: Message; continued: boolean; place: RowPlace }) {
  const displayName = useDisplayName(message.sender);
  const me = useSession((s) => s.me?.username) ?? '';
  const setMode = useCompose((s) => s.set);
  const [picking, setPicking] = useState<HTMLElement | null>(null);
  const [confirming, setConfirming] = useState(false);
  const article = useRef<HTMLElement>(null);
  const headId = `m-${message.id}-head${place.inThread ? '-t' : ''}`;
  const own = message.outgoing;

  const startEdit = () => {
    const drafts = useMessages.getState();
    setMode(place.scope, { kind: 'edit', id: message.id, draftBefore: drafts.drafts[place.scope] ?? '' });
    drafts.setDraft(place.scope, message.text);
  };
  const actions: Action[] = [
    { label: 'Add reaction…', run: () => setPicking(article.current?.querySelector<HTMLElement>('.actions-button') ?? null) },
    { label: 'Reply', run: () => setMode(place.scope, { kind: 'reply', id: message.id }) },
    ...(place.inThread ? [] : [{ label: 'Reply in thread', run: () => void openThread(message.conversation, message.id) }]),
    ...(own ? [{ label: 'Edit', run: startEdit }, { label: 'Delete for everyone…', run: () => setConfirming(true), danger: true }] : []),
  ];
  const quoted = message.replyTo && (!message.threadRoot || place.inThread && message.replyTo !== message.threadRoot);
  if (message.notice === 'identity-changed') return <IdentityNotice message={message} />;
  // the engine's own words in the history (a timer changed, the policy shortens timers here, the relay withholds
  // membership changes): not anyone's message
  if (message.notice === 'timer-changed' || message.notice === 'policy-clamped' || message.notice === 'membership-warning') {
    return <p className="history-notice info" data-message={message.id}>{message.text}</p>;
  }
  const notice = historyNoticeText(message, me);
  if (notice !== null) {
    return (
      <div className="history-notice info" role="note" data-message={message.id}>
        {notice} <time dateTime={message.sentAt}>{clockTime(message.sentAt)}</time>
      </div>
    );
  }
  return (
    <article className={`message${continued ? ' continued' : ''}${own ? ' outgoing' : ''}`} aria-labelledby={headId} data-message={message.id} tabIndex={-1} ref={article}>
      <header id={headId} className={continued ? 'visually-hidden' : 'message-head'}>
        <button type="button" className="sender link-button" onClick={() => openProfile(message.sender)}>{message.sender}</button>
        {displayName && <span className="display-name">{displayName}</span>}
        <time dateTime={message.sentAt}>{clockTime(message.sentAt)}</time>
        {message.editedAt && !continued && <span className="edited">(edited)</span>}
      </header>
      {continued && message.editedAt && <span className="edited edited-inline">(edited)</span>}
      {quoted && <Quote message={message} />}
      {message.text !== '' && <MessageText text={message.text} mentions={message.mentions} />}
      {message.files && message.files.length > 0 && <FileAttachments message={message.id} files={message.files} />}
      {message.preview && <LinkPreviewCard preview={message.preview} />}
      <Reactions message={message} onAdd={setPicking} />
      {!place.inThread && message.replyCount && (
        <button type="button" className="reply-count" onClick={() => void openThread(message.conversation, message.id)}>
          {message.replyCount} {message.replyCount === 1 ? 'reply' : 'replies'}
        </button>
      )}
      <RemainingLife message={message} />
      {own && <DeliveryState status={message.status} />}
      {!message.notice && <MessageActions actions={actions} name={`the message from ${message.sender} at ${clockTime(message.sentAt)}`} />}
      {picking && (
        <LazyEmojiPicker label="Add a reaction" forReaction anchor={picking}
          onPick={(emoji) => { setPicking(null); picking.focus(); void toggleReaction(message, emoji).catch(() => {}); }}
          onClose={() => { setPicking(null); picking.focus(); }} />
      )}
      {confirming && (
        <Dialog title="Delete message" onClose={() => setConfirming(false)}>
          <p>Delete this message for everyone? It is removed from every device in the conversation, and cannot be brought back.</p>
          <div className="actions">
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
            <button type="button" className="primary danger" onClick={() => { setConfirming(false); void deleteMessage(message.id).catch(() => {}); }}>Delete</button>
          </div>
        </Dialog>
      )}
    </article>
  );
});

/** What arrived and could not be decrypted: a row of its own, never hidden. */
export function UndecryptableRow({ sender, reason, at }: { sender?: string; reason: string; at: string }) {
  return (
    <article className="message undecryptable" aria-label={`A message${sender ? ` from ${sender}` : ''} could not be decrypted`}>
      <p><span aria-hidden="true">⚠ </span>Couldn't decrypt a message{sender ? ` from ${sender}` : ''} <time dateTime={at}>{clockTime(at)}</time>: {reason}.
        The sender's device was asked to send its keys again.</p>
    </article>
  );
}
