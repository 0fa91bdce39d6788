// A new passphrase with a strength hint under it, updated as it is typed.
import { useId } from 'react';
import { PASSPHRASE_MAX, PASSPHRASE_MIN } from '../lib/limits.ts';
import { strengthOf } from '../lib/strength.ts';

export function PassphraseField({ value, onChange }: { value: string; onChange(value: string): void }) {
  const id = useId();
  const strength = strengthOf(value, PASSPHRASE_MIN);
  return (
    <div className="field">
      <label htmlFor={id}>Passphrase</label>
      <input id={id} type="password" autoComplete="new-password" value={value} maxLength={PASSPHRASE_MAX} required minLength={PASSPHRASE_MIN}
        aria-describedby={`${id}-hint`} onChange={(e) => onChange(e.target.value)} />
      <div className="strength" data-score={strength.score}>
        <meter min={0} max={4} low={2} high={3} optimum={4} value={strength.score} aria-label="Passphrase strength" aria-valuetext={strength.label} />
        <span id={`${id}-hint`}><strong>{value ? strength.label : 'At least 8 characters'}</strong>{value ? ` — ${strength.advice}` : '. It unlocks Wardroom on this computer and cannot be recovered.'}</span>
      </div>
    </div>
  );
}
