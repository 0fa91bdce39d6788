// One conversation in the sidebar: its name, and its unread and mention counts (spelled out for screen readers).
import type { Conversation } from '../state/types.ts';

export function conversationLabel(c: Conversation): string {
  return c.kind === 'channel' ? `#${c.name}` : c.name;
}

export function ConversationItem({ conversation, selected, onOpen }: { conversation: Conversation; selected: boolean; onOpen(id: string): void }) {
  const { unread, mentions } = conversation;
  const counts = [unread > 0 ? `${unread} unread` : '', mentions > 0 ? `${mentions} mention${mentions === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  return (
    <li className="conversation-row">
      {/* the badges sit beside the button, not in it: its visible text is then exactly what its name starts with */}
      <button type="button" className={`conversation-item${unread > 0 ? ' unread' : ''}${counts ? ' counted' : ''}`} aria-current={selected ? 'page' : undefined}
        aria-label={counts ? `${conversationLabel(conversation)}, ${counts}` : conversationLabel(conversation)} onClick={() => onOpen(conversation.id)}
        data-conversation={conversation.id}>
        <span className="conversation-name">
          {conversation.kind === 'channel' && <span className="sigil" aria-hidden="true">#</span>}
          {conversation.name}
        </span>
      </button>
      {counts && (
        <span className="conversation-badges" aria-hidden="true">
          {mentions > 0 && <span className="badge mention-badge">@{mentions}</span>}
          {unread > 0 && <span className="badge">{unread}</span>}
        </span>
      )}
    </li>
  );
}
