// The files of a message: images as their thumbnail (made on the sender's device and sent inside the message, drawn
// here from a blob: URL), everything else as an icon with its name and size. Each can be opened in the app, and
// saved unless the org's policy says "preview only".
import { useCallback, useEffect, useState } from 'react';
import type { FileViewT } from '../../../core/api/contract.ts';
import { formatSize } from '../lib/bytes.ts';
import { useFilePolicyNow } from '../state/file-policy.ts';
import { fileBlob, saveFile } from '../state/files.ts';
import { useNotices } from '../state/notices.ts';
import { errorText } from '../bridge/index.ts';
import { Dialog } from './Dialog.tsx';
import { useBlobUrl } from './LinkPreviewCard.tsx';

const extension = (name: string) => (/\.([a-z0-9]{1,5})$/i.exec(name)?.[1] ?? 'file').toUpperCase();

/** The whole image, opened into the vault and shown from a blob: URL. */
function ImageViewer({ message, file, onClose }: { message: string; file: FileViewT; onClose(): void }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    fileBlob(message, file.index, file.mime).then((blob) => setUrl(made = URL.createObjectURL(blob)), (error: unknown) => {
      useNotices.getState().add(`Opening ${file.name} failed: ${errorText(error)}`);
      onClose();
    });
    return () => { if (made) URL.revokeObjectURL(made); };
  }, [message, file, onClose]);
  return (
    <Dialog title={file.name} onClose={onClose}>
      {url ? <img className="image-viewer" src={url} alt={file.name} /> : <p role="status">Opening…</p>}
    </Dialog>
  );
}

function FileItem({ message, file, previewOnly }: { message: string; file: FileViewT; previewOnly: boolean }) {
  const thumbnail = useBlobUrl(file.thumbnail?.data, file.thumbnail?.mime ?? 'image/webp');
  const [viewing, setViewing] = useState(false);
  const close = useCallback(() => setViewing(false), []);
  const isImage = file.mime.startsWith('image/') && file.thumbnail;
  return (
    <li className={`file${isImage ? ' image' : ''}`}>
      {isImage && thumbnail
        ? (
          <button type="button" className="thumbnail" aria-label={`Open ${file.name}`} onClick={() => setViewing(true)}>
            <img src={thumbnail} alt="" width={file.thumbnail!.width} height={file.thumbnail!.height} />
          </button>
        )
        : <span className="file-icon" aria-hidden="true">{extension(file.name)}</span>}
      <span className="file-name">{file.name}</span>
      <span className="file-size">{formatSize(file.size)}</span>
      {isImage && !thumbnail && <button type="button" onClick={() => setViewing(true)}>Open</button>}
      {!previewOnly && <button type="button" aria-label={`Save ${file.name}`} onClick={() => void saveFile(message, file.index, file.name, file.mime)}>Save</button>}
      {previewOnly && !isImage && <span className="hint">(preview only: your organisation does not allow saving files)</span>}
      {viewing && <ImageViewer message={message} file={file} onClose={close} />}
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
