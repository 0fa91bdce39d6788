// Which screen the window shows, from the session's phase; the theme on the document; activity for idle locking.
import { useEffect } from 'react';
import { Notices } from './components/Notices.tsx';
import { JoinScreen } from './screens/JoinScreen.tsx';
import { RecoveryKitScreen } from './screens/RecoveryKitScreen.tsx';
import { UnlockScreen } from './screens/UnlockScreen.tsx';
import { Workspace } from './screens/Workspace.tsx';
import { titleWithUnread } from './lib/attention.ts';
import { readLaunchFragment } from './lib/launch.ts';
import { offerJoinLink, reportActivity } from './state/app.ts';
import { useConversations } from './state/conversations.ts';
import { useSession } from './state/session.ts';
import { useSettings } from './state/settings.ts';

function Waiting({ text }: { text: string }) {
  return <main className="onboarding"><p className="waiting" role="status">{text}</p></main>;
}

function Screen() {
  const phase = useSession((s) => s.phase);
  const joining = useSession((s) => s.joining);
  const failure = useSession((s) => s.failure);
  const pendingJoin = useSession((s) => s.pendingJoin);
  if (phase === 'starting') return failure ? <main className="onboarding"><p className="error-line" role="alert">Wardroom could not start: {failure}</p></main> : <Waiting text="Starting Wardroom…" />;
  if (phase === 'onboarding' || joining) return <JoinScreen key={pendingJoin} />;
  if (phase === 'recovery-kit') return <RecoveryKitScreen />;
  if (phase === 'locked') return <UnlockScreen />;
  if (phase === 'opening') return <Waiting text="Opening your workspace…" />;
  return <Workspace />;
}

/** The unread total in the title: what a browser tab (and the taskbar) shows of the app while it is elsewhere. */
function useUnreadTitle() {
  const unread = useConversations((s) => Object.values(s.byId).reduce((sum, c) => sum + c.unread, 0));
  useEffect(() => {
    document.title = titleWithUnread(unread);
  }, [unread]);
}

/** A join link opened in a tab that is already running (`#join=…`): the join flow, filled in. */
function useJoinLinksInHash() {
  useEffect(() => {
    const onHash = () => {
      const join = readLaunchFragment(window.location.hash).join;
      if (!window.location.hash) return;
      window.history.replaceState(null, '', window.location.pathname);
      if (join) offerJoinLink(join);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
}

export function App() {
  const theme = useSettings((s) => s.theme);
  useUnreadTitle();
  useJoinLinksInHash();
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    const onActivity = () => reportActivity();
    window.addEventListener('keydown', onActivity);
    window.addEventListener('pointerdown', onActivity);
    return () => {
      window.removeEventListener('keydown', onActivity);
      window.removeEventListener('pointerdown', onActivity);
    };
  }, []);
  // the notices take a band of their own below the screen, never a layer over it: a small window scrolls the screen
  // rather than hiding its buttons under a notice that has nothing to do with them
  return (
    <div className="app-frame">
      <div className="app-screen"><Screen /></div>
      <Notices />
    </div>
  );
}
