// The open profile: the sidebar, the conversation, and whichever dialog the sidebar opened.
import { useState } from 'react';
import { ConversationPane } from '../components/ConversationPane.tsx';
import { CreateChannelDialog } from '../components/CreateChannelDialog.tsx';
import { InviteDialog } from '../components/InviteDialog.tsx';
import { NewDirectDialog } from '../components/NewDirectDialog.tsx';
import { SettingsDialog } from '../components/SettingsDialog.tsx';
import { Sidebar, type SidebarAction } from '../components/Sidebar.tsx';

export function Workspace() {
  const [dialog, setDialog] = useState<SidebarAction | null>(null);
  const close = () => setDialog(null);
  return (
    <div className="workspace">
      <Sidebar onAction={setDialog} />
      <ConversationPane />
      {dialog === 'create-channel' && <CreateChannelDialog onClose={close} />}
      {dialog === 'new-direct' && <NewDirectDialog onClose={close} />}
      {dialog === 'invite' && <InviteDialog onClose={close} />}
      {dialog === 'settings' && <SettingsDialog onClose={close} />}
    </div>
  );
}
