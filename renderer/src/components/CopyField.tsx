// A value to copy (an invite link, the recovery kit): shown whole, selectable, with a copy button that says it worked.
import { useState } from 'react';

export function CopyField({ label, value, multiline = false }: { label: string; value: string; multiline?: boolean }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = () => {
    navigator.clipboard.writeText(value).then(() => setCopied('yes'), () => setCopied('failed'));
  };
  const id = `copy-${label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      {multiline
        ? <textarea id={id} readOnly value={value} rows={Math.min(8, Math.ceil(value.length / 56) + 1)} onFocus={(e) => e.currentTarget.select()} />
        : <input id={id} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />}
      <button type="button" onClick={copy}>{copied === 'yes' ? 'Copied' : 'Copy'}</button>
      <span className="visually-hidden" role="status">{copied === 'yes' ? 'Copied to the clipboard' : copied === 'failed' ? 'Copying failed: select the text and copy it yourself' : ''}</span>
    </div>
  );
}
