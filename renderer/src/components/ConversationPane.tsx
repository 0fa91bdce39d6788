// The open conversation: its header (name, topic, members), the history, who is typing, and the composer.
import { Fragment, useState } from 'react';
import { useConversations } from '../state/conversations.ts';
import { AddMemberDialog } from './AddMemberDialog.tsx';
import { Composer } from './Composer.tsx';
import { conversationLabel } from './ConversationItem.tsx';
import { ConversationTimer } from './ConversationTimer.tsx';
import { MessageList } from './MessageList.tsx';
import { TypingLine } from './TypingLine.tsx';

export function ConversationPane() {
  const conversation = useConversations((s) => (s.selected ? s.byId[s.selected] : undefined));
  const [adding, setAdding] = useState(false);
  if (!conversation) {
    return (
      <main className="conversation empty-pane" aria-label="No conversation open">
        <p>Pick a conversation on the left, or create a channel.</p>
      </main>
    );
  }
  const label = conversationLabel(conversation);
  const members = conversation.members.length;
  return (
    <main className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-head">
        <h1 id="conversation-title">{label}</h1>
        {conversation.topic && <p className="topic">{conversation.topic}</p>}
        {conversation.kind !== 'direct' && <span className="members" title={conversation.members.join(', ')}>{members} member{members === 1 ? '' : 's'}</span>}
        {conversation.kind === 'channel' && (conversation.role === 'owner' || conversation.role === 'admin') && (
          <button type="button" onClick={() => setAdding(true)}>Add people</button>
        )}
        <ConversationTimer key={conversation.id} conversation={conversation} />
      </header>
      {adding && <AddMemberDialog channel={conversation} onClose={() => setAdding(false)} />}
      {/* a fresh list and composer per conversation: scroll position and input state never carry over */}
      <Fragment key={conversation.id}>
        <MessageList conversation={conversation.id} label={label} start={conversation.kind === 'channel' ? label : `your conversation with ${label}`} />
        <TypingLine conversation={conversation.id} />
        <Composer conversation={conversation.id} label={label} />
      </Fragment>
    </main>
  );
}
