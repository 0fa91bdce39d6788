// Which screen the window shows, from the session's phase; the theme on the document; activity for idle locking.
import { useEffect } from 'react';
import { Notices } from './components/Notices.tsx';
import { JoinScreen } from './screens/JoinScreen.tsx';
import { RecoveryKitScreen } from './screens/RecoveryKitScreen.tsx';
import { UnlockScreen } from './screens/UnlockScreen.tsx';
import { Workspace } from './screens/Workspace.tsx';
import { reportActivity } from './state/app.ts';
import { useSession } from './state/session.ts';
import { useSettings } from './state/settings.ts';

function Waiting({ text }: { text: string }) {
  return <main className="onboarding"><p className="waiting" role="status">{text}</p></main>;
}

function Screen() {
  const phase = useSession((s) => s.phase);
  const joining = useSession((s) => s.joining);
  const failure = useSession((s) => s.failure);
  if (phase === 'starting') return failure ? <main className="onboarding"><p className="error-line" role="alert">Wardroom could not start: {failure}</p></main> : <Waiting text="Starting Wardroom…" />;
  if (phase === 'onboarding' || joining) return <JoinScreen />;
  if (phase === 'recovery-kit') return <RecoveryKitScreen />;
  if (phase === 'locked') return <UnlockScreen />;
  if (phase === 'opening') return <Waiting text="Opening your workspace…" />;
  return <Workspace />;
}

export function App() {
  const theme = useSettings((s) => s.theme);
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
  return (
    <>
      <Screen />
      <Notices />
    </>
  );
}
