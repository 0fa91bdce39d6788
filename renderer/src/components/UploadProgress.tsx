// Uploads under way in a conversation: what is going, how far it has got, and a way to stop it.
import { cancelUpload } from '../state/files.ts';
import { useShallow } from 'zustand/react/shallow';
import { useUploads, type Upload } from '../state/uploads.ts';

const stateOf = (u: Upload) => {
  if (u.cancelled) return 'Cancelling';
  return u.waiting ? 'Waiting for the relay to send' : 'Sending';
};

export function UploadProgress({ conversation }: { conversation: string }) {
  const uploads = useUploads(useShallow((s) => Object.values(s.items).filter((u) => u.conversation === conversation)));
  if (uploads.length === 0) return null;
  return (
    <ul className="uploads" aria-label="Uploads">
      {uploads.map((u) => {
        const what = u.names.length === 1 ? u.names[0]! : `${u.names.length} files`;
        // staging fills the first half of the bar and the engine's sealed upload the second
        const share = u.total === 0 ? 1 : u.done / u.total;
        const value = Math.round((u.phase === 'staging' ? share / 2 : 0.5 + share / 2) * 100);
        return (
          <li key={u.id}>
            <span>{stateOf(u)} {what}</span>
            <progress max={100} value={value} aria-label={`Sending ${what}`} />
            <button type="button" disabled={u.cancelled} onClick={() => void cancelUpload(u.id)} aria-label={`Cancel sending ${what}`}>Cancel</button>
          </li>
        );
      })}
    </ul>
  );
}
