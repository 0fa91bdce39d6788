// One message: who sent it and when (left out when the same person continues within a few minutes), its text as
// markdown, and for our own messages where delivery has got to.
import { memo } from 'react';
import { clockTime } from '../lib/time.ts';
import { useDisplayName } from '../state/contacts.ts';
import type { Message } from '../state/types.ts';
import { DeliveryState } from './DeliveryState.tsx';
import { FileAttachments } from './FileAttachments.tsx';
import { LinkPreviewCard } from './LinkPreviewCard.tsx';
import { MessageText } from './MessageText.tsx';

export const MessageRow = memo(function MessageRow({ message, continued }: { message: Message; continued: boolean }) {
  const displayName = useDisplayName(message.sender);
  const headId = `m-${message.id}-head`;
  return (
    <article className={`message${continued ? ' continued' : ''}${message.outgoing ? ' outgoing' : ''}`} aria-labelledby={headId} data-message={message.id}>
      <header id={headId} className={continued ? 'visually-hidden' : 'message-head'}>
        <span className="sender">{message.sender}</span>
        {displayName && <span className="display-name">{displayName}</span>}
        <time dateTime={message.sentAt}>{clockTime(message.sentAt)}</time>
        {message.editedAt && <span className="edited">(edited)</span>}
      </header>
      {message.text !== '' && <MessageText text={message.text} mentions={message.mentions} />}
      {message.files && message.files.length > 0 && <FileAttachments message={message.id} files={message.files} />}
      {message.preview && <LinkPreviewCard preview={message.preview} />}
      {message.outgoing && <DeliveryState status={message.status} />}
    </article>
  );
});
