// The open conversation: its header (name, topic, members), the history, who is typing, and the composer.
import { Fragment, useState } from 'react';
import { openMembers } from '../state/chat.ts';
import { useConversations } from '../state/conversations.ts';
import { usePanel } from '../state/panel.ts';
import { AddMemberDialog } from './AddMemberDialog.tsx';
import { openProfile } from '../state/trust-actions.ts';
import { Composer } from './Composer.tsx';
import { HeldBanner } from './HeldBanner.tsx';
import { conversationLabel } from './ConversationItem.tsx';
import { ConversationTimer } from './ConversationTimer.tsx';
import { MessageList } from './MessageList.tsx';
import { TypingLine } from './TypingLine.tsx';

export function ConversationPane() {
  const conversation = useConversations((s) => (s.selected ? s.byId[s.selected] : undefined));
  const [adding, setAdding] = useState(false);
  const showingMembers = usePanel((s) => s.panel?.kind === 'members' && s.panel.conversation === conversation?.id);
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
        {conversation.kind === 'direct'
          ? <h1 id="conversation-title"><button type="button" className="title-button" aria-haspopup="dialog" onClick={() => openProfile(conversation.name)}>{label}</button></h1>
          : <h1 id="conversation-title">{label}</h1>}
        {conversation.topic && <p className="topic">{conversation.topic}</p>}
        {conversation.kind === 'group' && <span className="members" title={conversation.members.join(', ')}>{members} member{members === 1 ? '' : 's'}</span>}
        {conversation.kind === 'channel' && (
          <button type="button" className="members" title={conversation.members.join(', ')} aria-expanded={showingMembers}
            onClick={() => (showingMembers ? usePanel.getState().close() : void openMembers(conversation.id))}>
            {members} member{members === 1 ? '' : 's'}
          </button>
        )}
        {conversation.kind === 'channel' && (conversation.role === 'owner' || conversation.role === 'admin') && (
          <button type="button" onClick={() => setAdding(true)}>Add people</button>
        )}
        <ConversationTimer key={conversation.id} conversation={conversation} />
      </header>
      <HeldBanner conversation={conversation} />
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
