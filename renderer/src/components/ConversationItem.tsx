// One conversation in the sidebar: its name, and its unread and mention counts (spelled out for screen readers).
import type { Conversation } from '../state/types.ts';

export function conversationLabel(c: Conversation): string {
  return c.kind === 'channel' ? `#${c.name}` : c.name;
}

export function ConversationItem({ conversation, selected, onOpen }: { conversation: Conversation; selected: boolean; onOpen(id: string): void }) {
  const { unread, mentions } = conversation;
  const counts = [unread > 0 ? `${unread} unread` : '', mentions > 0 ? `${mentions} mention${mentions === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  return (
    <li>
      <button type="button" className={`conversation-item${unread > 0 ? ' unread' : ''}`} aria-current={selected ? 'page' : undefined}
        aria-label={counts ? `${conversationLabel(conversation)}, ${counts}` : conversationLabel(conversation)} onClick={() => onOpen(conversation.id)}
        data-conversation={conversation.id}>
        <span className="conversation-name">
          {conversation.kind === 'channel' && <span className="sigil" aria-hidden="true">#</span>}
          {conversation.name}
        </span>
        {mentions > 0 && <span className="badge mention-badge" aria-hidden="true">@{mentions}</span>}
        {unread > 0 && <span className="badge" aria-hidden="true">{unread}</span>}
      </button>
    </li>
  );
}
