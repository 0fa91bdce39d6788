// An admin invites people: a one-time invite link to send them over a channel you trust (it carries the relay's pin).
import { useState } from 'react';
import { createInvite } from '../state/app.ts';
import { CopyField } from './CopyField.tsx';
import { Dialog } from './Dialog.tsx';

export function InviteDialog({ onClose }: { onClose(): void }) {
  const [admin, setAdmin] = useState(false);
  const [link, setLink] = useState<string>();
  const [busy, setBusy] = useState(false);
  const create = async () => {
    setBusy(true);
    try {
      setLink(await createInvite(admin));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Invite people" onClose={onClose}>
      <p>Each link lets one person join this organisation. Send it privately: whoever holds it can join.</p>
      <div className="check">
        <input id="invite-admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
        <label htmlFor="invite-admin">They will be an admin too</label>
      </div>
      {link && <CopyField label="Invite link" value={link} />}
      <div className="actions">
        <button type="button" onClick={onClose}>Done</button>
        <button type="button" className="primary" disabled={busy} onClick={() => void create().catch(() => {})}>{link ? 'Create another link' : 'Create invite link'}</button>
      </div>
    </Dialog>
  );
}
