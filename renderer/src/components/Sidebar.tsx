// The sidebar: who is signed in, the connection, the app's actions, and the conversations (channels by name, direct
// messages newest first). Alt+ArrowUp / Alt+ArrowDown move between conversations from anywhere.
import { useEffect, useMemo } from 'react';
import { lock, openConversation } from '../state/app.ts';
import { sidebarSections, useConversations } from '../state/conversations.ts';
import { useSession } from '../state/session.ts';
import { openProfile } from '../state/trust-actions.ts';
import { ConnectionStatus } from './ConnectionStatus.tsx';
import { ConversationItem } from './ConversationItem.tsx';
import { SearchBox } from './SearchBox.tsx';

export type SidebarAction = 'create-channel' | 'new-direct' | 'invite' | 'settings' | 'profiles';

export function Sidebar({ onAction }: { onAction(action: SidebarAction): void }) {
  const me = useSession((s) => s.me);
  const profiles = useSession((s) => s.profiles.length);
  const byId = useConversations((s) => s.byId);
  const selected = useConversations((s) => s.selected);
  const { channels, directs } = useMemo(() => sidebarSections(byId), [byId]);

  useEffect(() => {
    const order = [...channels, ...directs].map((c) => c.id);
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') || order.length === 0) return;
      event.preventDefault();
      const at = selected ? order.indexOf(selected) : -1;
      const next = order[(at + (event.key === 'ArrowDown' ? 1 : order.length - 1)) % order.length]!;
      void openConversation(next);
      document.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(next)}"]`)?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [channels, directs, selected]);

  const open = (id: string) => void openConversation(id);
  return (
    <nav className="sidebar" aria-label="Workspace">
      <div className="sidebar-head">
        <div className="me-row">
          <div className="me">
            <button type="button" className="me-name link-button" aria-haspopup="dialog" onClick={() => openProfile(me?.username ?? '')} disabled={!me}>{me?.username}</button>
            {me?.displayName && <span className="me-display">{me.displayName}</span>}
          </div>
          <div className="sidebar-actions">
            <button type="button" onClick={() => void lock()}>Lock</button>
          </div>
        </div>
        <ConnectionStatus />
        <SearchBox />
        <div className="sidebar-actions">
          <button type="button" onClick={() => onAction('settings')}>Settings</button>
          <button type="button" onClick={() => onAction('profiles')}>Profiles{profiles > 1 ? ` (${profiles})` : ''}</button>
          {me?.admin && <button type="button" onClick={() => onAction('invite')}>Invite people</button>}
        </div>
      </div>
      <section aria-labelledby="channels-heading" className="sidebar-section">
        <div className="section-head">
          <h2 id="channels-heading">Channels</h2>
          <button type="button" className="icon-button" aria-label="Create a channel" onClick={() => onAction('create-channel')}>+</button>
        </div>
        {channels.length === 0 ? <p className="empty">No channels yet.</p> : (
          <ul>{channels.map((c) => <ConversationItem key={c.id} conversation={c} selected={c.id === selected} onOpen={open} />)}</ul>
        )}
      </section>
      <section aria-labelledby="directs-heading" className="sidebar-section">
        <div className="section-head">
          <h2 id="directs-heading">Direct messages</h2>
          <button type="button" className="icon-button" aria-label="Start a direct message" onClick={() => onAction('new-direct')}>+</button>
        </div>
        {directs.length === 0 ? <p className="empty">No direct messages yet.</p> : (
          <ul>{directs.map((c) => <ConversationItem key={c.id} conversation={c} selected={c.id === selected} onOpen={open} />)}</ul>
        )}
      </section>
    </nav>
  );
}
