// The open profile: the sidebar, the conversation, and whichever dialog the sidebar opened.
import { useEffect, useState } from 'react';
import { ConversationPane } from '../components/ConversationPane.tsx';
import { CreateChannelDialog } from '../components/CreateChannelDialog.tsx';
import { InviteDialog } from '../components/InviteDialog.tsx';
import { NewDirectDialog } from '../components/NewDirectDialog.tsx';
import { SettingsDialog } from '../components/SettingsDialog.tsx';
import { SidePanel } from '../components/SidePanel.tsx';
import { usePanel } from '../state/panel.ts';
import { Sidebar, type SidebarAction } from '../components/Sidebar.tsx';
import { ProfilePanel } from '../components/ProfilePanel.tsx';
import { ProfileSwitcher } from '../components/ProfileSwitcher.tsx';
import { RetentionBanner } from '../components/RetentionBanner.tsx';
import { UntrustedBanner } from '../components/UntrustedBanner.tsx';
import { useTrust } from '../state/trust.ts';

export function Workspace() {
  const [dialog, setDialog] = useState<SidebarAction | null>(null);
  const close = () => setDialog(null);
  const panelOpen = usePanel((s) => s.panel !== null);
  // Ctrl/Cmd+K and Ctrl/Cmd+F go to the search box, as in Slack and Signal Desktop
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || (event.key !== 'k' && event.key !== 'f')) return;
      const box = document.getElementById('search-input');
      if (!box) return;
      event.preventDefault();
      box.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const profileOf = useTrust((s) => s.profileOf);
  return (
    <div className={`workspace${panelOpen ? ' with-panel' : ''}`}>
      <div className="workspace-banners">
        <UntrustedBanner />
        <RetentionBanner />
      </div>
      <Sidebar onAction={setDialog} />
      <ConversationPane />
      <SidePanel />
      {dialog === 'create-channel' && <CreateChannelDialog onClose={close} />}
      {dialog === 'new-direct' && <NewDirectDialog onClose={close} />}
      {dialog === 'invite' && <InviteDialog onClose={close} />}
      {dialog === 'settings' && <SettingsDialog onClose={close} />}
      {dialog === 'profiles' && <ProfileSwitcher onClose={close} />}
      {profileOf && <ProfilePanel key={profileOf} username={profileOf} />}
    </div>
  );
}
