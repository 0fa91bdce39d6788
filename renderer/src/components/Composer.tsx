// Writing a message: Enter sends, Shift+Enter starts a new line. Markdown is sent as typed and rendered on arrival.
// Files come from the attach button, a drop onto the composer, or a paste; they wait as chips (removable) and go
// with the text as their caption. The draft is kept per conversation while the profile is open; a send that fails
// puts the text back.
import { useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from 'react';
import { formatSize } from '../lib/bytes.ts';
import { FILES_PER_MESSAGE, MESSAGE_TEXT_MAX } from '../lib/limits.ts';
import { send, typing } from '../state/app.ts';
import { sendFiles } from '../state/files.ts';
import { useMessages } from '../state/messages.ts';
import { useNotices } from '../state/notices.ts';
import { UploadProgress } from './UploadProgress.tsx';

export function Composer({ conversation, label }: { conversation: string; label: string }) {
  const draft = useMessages((s) => s.drafts[conversation] ?? '');
  const setDraft = useMessages((s) => s.setDraft);
  const [sending, setSending] = useState(false);
  const [files, setFiles] = useState<File[]>([]);
  const [dropping, setDropping] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  const addFiles = (chosen: readonly File[]) => {
    if (chosen.length === 0) return;
    const next = [...files, ...chosen];
    if (next.length > FILES_PER_MESSAGE) useNotices.getState().add(`At most ${FILES_PER_MESSAGE} files go in one message; the rest were left out`, 'info');
    setFiles(next.slice(0, FILES_PER_MESSAGE));
  };

  const submit = async () => {
    const text = draft.trim();
    if (sending || text.length > MESSAGE_TEXT_MAX || (!text && files.length === 0)) return;
    const attached = files;
    setSending(true);
    setDraft(conversation, '');
    setFiles([]);
    typing(conversation, false);
    try {
      if (attached.length > 0) await sendFiles(conversation, attached, text);
      else await send(conversation, text);
    } catch {
      // the notice says why; nothing typed or attached is lost
      setDraft(conversation, text);
      setFiles(attached);
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...event.clipboardData.files];
    if (pasted.length === 0) return; // text pastes as text
    event.preventDefault();
    addFiles(pasted);
  };
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    setDropping(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDropping(false);
    addFiles([...event.dataTransfer.files]);
  };

  const over = draft.length > MESSAGE_TEXT_MAX;
  const lines = Math.min(8, draft.split('\n').length);
  return (
    <form className={`composer${dropping ? ' dropping' : ''}`} onSubmit={(e) => { e.preventDefault(); void submit(); }}
      onDragOver={onDragOver} onDragLeave={() => setDropping(false)} onDrop={onDrop}>
      <UploadProgress conversation={conversation} />
      {files.length > 0 && (
        <ul className="attached" aria-label="Files to send">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`}>
              <span className="file-name">{f.name}</span> <span className="file-size">{formatSize(f.size)}</span>
              <button type="button" className="icon-button" aria-label={`Remove ${f.name}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>×</button>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor="composer-input" className="visually-hidden">Message {label}</label>
      <textarea id="composer-input" ref={input} value={draft} rows={lines} placeholder={`Message ${label}`} aria-describedby="composer-hint" aria-invalid={over || undefined}
        onChange={(e) => {
          setDraft(conversation, e.target.value);
          typing(conversation, e.target.value.length > 0);
        }}
        onKeyDown={onKeyDown} onPaste={onPaste} />
      <span id="composer-hint" className={`composer-hint${over ? ' over' : ''}`}>
        {over ? `${draft.length - MESSAGE_TEXT_MAX} characters over the limit of ${MESSAGE_TEXT_MAX}` : 'Enter to send, Shift+Enter for a new line. **bold**, _italic_, `code`. Drop or paste files to attach them.'}
      </span>
      <div className="composer-buttons">
        <input ref={picker} type="file" multiple hidden aria-hidden="true" tabIndex={-1} onChange={(e) => { addFiles([...(e.target.files ?? [])]); e.target.value = ''; }} />
        <button type="button" onClick={() => picker.current?.click()}>Attach files</button>
        <button type="submit" className="primary" disabled={sending || over || (draft.trim() === '' && files.length === 0)}>Send</button>
      </div>
    </form>
  );
}
