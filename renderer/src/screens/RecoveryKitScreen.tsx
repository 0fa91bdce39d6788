// The recovery kit, shown once right after joining: it restores the account on a new device when every device is
// lost. The user confirms they stored it before the workspace opens; then it leaves this window's memory.
import { useState } from 'react';
import { CopyField } from '../components/CopyField.tsx';
import { confirmRecoveryKit } from '../state/app.ts';
import { useSession } from '../state/session.ts';

export function RecoveryKitScreen() {
  const kit = useSession((s) => s.recoveryKit) ?? '';
  const [stored, setStored] = useState(false);
  return (
    <main className="onboarding">
      <section className="card" aria-labelledby="kit-title">
        <h1 id="kit-title">Your recovery kit</h1>
        <p className="lead">
          If you lose every device, this kit is the only way back into your account. Store it somewhere safe, away from
          this computer (a password manager, or on paper). It is shown <strong>only this once</strong>.
        </p>
        <CopyField label="Recovery kit" value={kit} multiline />
        <div className="check">
          <input id="kit-stored" type="checkbox" checked={stored} onChange={(e) => setStored(e.target.checked)} />
          <label htmlFor="kit-stored">I stored my recovery kit somewhere safe</label>
        </div>
        <div className="actions">
          <button type="button" className="primary" disabled={!stored} onClick={() => void confirmRecoveryKit()}>Continue to Wardroom</button>
        </div>
      </section>
    </main>
  );
}
