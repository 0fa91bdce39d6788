// A dialog that is one form: its fields, an error line, Cancel and a primary button that shows the work in progress.
// It closes when the action succeeds; on failure it stays open with the reason, the fields as they were.
import { useState, type FormEvent, type ReactNode } from 'react';
import { errorText } from '../bridge/index.ts';
import type { Contact } from '../state/types.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorLine } from './ErrorLine.tsx';

interface FormDialogProps {
  title: string;
  /** the primary button's label, and what it says while the action runs */
  action: { label: string; busy: string };
  submit(): Promise<unknown>;
  onClose(): void;
  children: ReactNode;
}

export function FormDialog({ title, action, submit, onClose, children }: FormDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await submit();
      onClose();
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={onSubmit}>
        {children}
        <ErrorLine error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy}>{busy ? action.busy : action.label}</button>
        </div>
      </form>
    </Dialog>
  );
}

/** The people a username field suggests (an input's `list`), each with the name they chose beside it. */
export function PeopleSuggestions({ id, people }: { id: string; people: Contact[] }) {
  return (
    <datalist id={id}>
      {people.map((c) => <option key={c.username} value={c.username}>{c.displayName}</option>)}
    </datalist>
  );
}
