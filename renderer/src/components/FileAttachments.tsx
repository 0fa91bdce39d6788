// The files of a message: images as their thumbnail, videos as their first frame and PDFs as their first page (all
// made on the sender's device and sent inside the message, drawn here from a blob: URL), everything else (and a PDF
// its sender's app could not draw) as an icon with its name and size. Images, video, audio and text open in the
// app; a PDF's page is only a picture of it, to be saved and opened elsewhere. Every file can be saved unless the
// org's policy says "preview only", and then the app says so instead of offering it. A file fetched from the relay
// to view or save shows its progress beside it, with Cancel.
import { useCallback, useEffect, useState } from 'react';
import type { FileViewT } from '../../../core/api/contract.ts';
import { formatSize } from '../lib/bytes.ts';
import { useFilePolicyNow } from '../state/file-policy.ts';
import { useDownloads } from '../state/downloads.ts';
import { cancelDownload, fileBlob, saveFile, wasCancelled } from '../state/files.ts';
import { useNotices } from '../state/notices.ts';
import { errorText } from '../bridge/index.ts';
import { Dialog } from './Dialog.tsx';
import { useBlobUrl } from './LinkPreviewCard.tsx';

const extension = (name: string) => (/\.([a-z0-9]{1,5})$/i.exec(name)?.[1] ?? 'file').toUpperCase();
/** Text shown in the app at most this long (the rest is there when saved). */
const TEXT_VIEW_CHARS = 200_000;

type Viewable = 'image' | 'video' | 'audio' | 'text';
function viewableAs(mime: string): Viewable | null {
  const family = mime.split('/')[0];
  if (family === 'image' || family === 'video' || family === 'audio' || family === 'text') return family;
  return mime === 'application/json' ? 'text' : null;
}

/** The whole file, opened into the vault and shown from a blob: URL (text as text, never as markup). */
function FileViewer({ message, file, as, onClose }: { message: string; file: FileViewT; as: Viewable; onClose(): void }) {
  const [shown, setShown] = useState<{ url: string } | { text: string } | null>(null);
  useEffect(() => {
    let made: string | null = null;
    let live = true;
    fileBlob(message, file.index, file.mime).then(async (blob) => {
      if (as === 'text') {
        const text = (await blob.slice(0, TEXT_VIEW_CHARS * 4).text()).slice(0, TEXT_VIEW_CHARS);
        if (live) setShown({ text });
      } else if (live) setShown({ url: made = URL.createObjectURL(blob) });
    }).catch((error: unknown) => {
      if (!wasCancelled(error)) useNotices.getState().add(`Opening ${file.name} failed: ${errorText(error)}`);
      onClose();
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [message, file, as, onClose]);
  let body = <p role="status">Opening…</p>;
  if (shown && 'text' in shown) body = <pre className="text-viewer">{shown.text}</pre>;
  else if (shown && as === 'image') body = <img className="image-viewer" src={shown.url} alt={file.name} />;
  else if (shown && as === 'video') body = <video className="image-viewer" src={shown.url} controls aria-label={file.name} />;
  else if (shown) body = <audio src={shown.url} controls aria-label={file.name} />;
  return <Dialog title={file.name} onClose={onClose}>{body}</Dialog>;
}

/** A file being fetched from the relay into the vault (to view or to save): how far, and a way to stop it. */
function FileTransfer({ message, file }: { message: string; file: FileViewT }) {
  const transfer = useDownloads((s) => Object.values(s.items).find((d) => d.message === message && d.index === file.index));
  if (!transfer) return null;
  let state = 'Fetching';
  if (transfer.cancelled) state = 'Cancelling';
  else if (transfer.waiting) state = 'Waiting for the relay to fetch';
  return (
    <span className="file-transfer" role="status">
      <span>{state} {file.name}</span>
      <progress max={transfer.total || 1} value={transfer.done} aria-label={`Fetching ${file.name}`} />
      <button type="button" disabled={transfer.cancelled} onClick={() => void cancelDownload(transfer.id)} aria-label={`Cancel fetching ${file.name}`}>Cancel</button>
    </span>
  );
}

function FileItem({ message, file, previewOnly }: { message: string; file: FileViewT; previewOnly: boolean }) {
  const thumbnail = useBlobUrl(file.thumbnail?.data, file.thumbnail?.mime ?? 'image/webp');
  const [viewing, setViewing] = useState(false);
  const close = useCallback(() => setViewing(false), []);
  const as = viewableAs(file.mime);
  const pictured = (as === 'image' || as === 'video') && thumbnail !== null && file.thumbnail !== undefined;
  const page = file.mime === 'application/pdf' && thumbnail !== null && file.thumbnail !== undefined;
  let picture = <span className="file-icon" aria-hidden="true">{extension(file.name)}</span>;
  if (pictured) {
    picture = (
      <button type="button" className={`thumbnail${as === 'video' ? ' video' : ''}`} aria-label={`${as === 'video' ? 'Play' : 'Open'} ${file.name}`} onClick={() => setViewing(true)}>
        <img src={thumbnail} alt="" width={file.thumbnail!.width} height={file.thumbnail!.height} />
      </button>
    );
  } else if (page) {
    picture = <span className="thumbnail page"><img src={thumbnail} alt={`First page of ${file.name}`} width={file.thumbnail!.width} height={file.thumbnail!.height} /></span>;
  }
  return (
    <li className={`file${pictured || page ? ' image' : ''}`}>
      {picture}
      <span className="file-name">{file.name}</span>
      <span className="file-size">{formatSize(file.size)}</span>
      {as && !pictured && <button type="button" aria-label={`Open ${file.name}`} onClick={() => setViewing(true)}>Open</button>}
      {!previewOnly && <button type="button" aria-label={`Save ${file.name}`} onClick={() => void saveFile(message, file.index, file.name, file.mime)}>Save</button>}
      {previewOnly && (
        <span className="hint">
          {as ? '(preview only: your organisation does not allow saving files)' : '(preview only: your organisation does not allow saving files, and this type cannot be shown in the app)'}
        </span>
      )}
      <FileTransfer message={message} file={file} />
      {viewing && as && <FileViewer message={message} file={file} as={as} onClose={close} />}
    </li>
  );
}

export function FileAttachments({ message, files }: { message: string; files: readonly FileViewT[] }) {
  const previewOnly = useFilePolicyNow()?.previewOnly ?? false;
  return (
    <ul className="files" aria-label="Files">
      {files.map((f) => <FileItem key={f.index} message={message} file={f} previewOnly={previewOnly} />)}
    </ul>
  );
}
