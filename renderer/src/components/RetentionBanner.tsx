// While the org's signed policy keeps records, everyone sees it, always: a line across the workspace that cannot be
// dismissed (the engine takes retention only from the org-signed policy, so a relay can neither hide it nor fake it).
import { useSession } from '../state/session.ts';

export function RetentionBanner() {
  const retention = useSession((s) => s.me?.retention);
  if (!retention?.on) return null;
  return (
    <div className="retention-banner" role="status" aria-live="polite">
      <strong>Retention is on.</strong> The organisation&apos;s archive
      {retention.archiveAccount && <> (<span className="username">@{retention.archiveAccount}</span>)</>} keeps a copy of every
      message, edit, deletion and attachment here, whatever their timers say.
    </div>
  );
}
