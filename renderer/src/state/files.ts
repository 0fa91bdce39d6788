// Sending files and getting them back, as calls through the bridge. A chosen file is staged in the engine chunk by
// chunk (only the chunk in flight is in memory twice), then sent with the message under an operation id. A file in a
// message is opened into this device's vault (files.open, with progress and cancel) and read back as a Blob, shown
// from a blob: URL or saved through the browser's download; with the org's "preview only" policy it is shown and
// never saved. A video goes with its first frame (lib/video-frame.ts) as its thumbnail, a PDF with its first page
// (lib/pdf-page.ts).
import { api, errorText } from '../bridge/index.ts';
import { fromBase64, toBase64 } from '../lib/bytes.ts';
import { FILE_CHUNK_MAX } from '../lib/limits.ts';
import { pdfFirstPage } from '../lib/pdf-page.ts';
import { videoFirstFrame } from '../lib/video-frame.ts';
import { useConversations } from './conversations.ts';
import { useMessages } from './messages.ts';
import { useNotices } from './notices.ts';
import { useSession } from './session.ts';
import { useDownloads } from './downloads.ts';
import { useUploads } from './uploads.ts';

class Cancelled extends Error {}

const operationId = () => `up-${crypto.randomUUID()}`;

/** The still of a file the engine cannot decode itself (each null for a file not of its type, or that fails). */
const drawnStill = async (file: File) => (await videoFirstFrame(file)) ?? (await pdfFirstPage(file));

/** Stages `file` into the engine; its id goes into `staging` at once, so a cancel can drop what was staged so far. */
async function stage(file: File, uploadId: string, before: number, total: number, staging: string[]): Promise<string> {
  const { staged } = await api().call('files.stage', { size: file.size });
  staging.push(staged);
  // an empty file is complete once staged: it has no chunk to send
  for (let offset = 0; offset < file.size; offset += FILE_CHUNK_MAX) {
    if (useUploads.getState().items[uploadId]?.cancelled) throw new Cancelled();
    const chunk = new Uint8Array(await file.slice(offset, offset + FILE_CHUNK_MAX).arrayBuffer());
    await api().call('files.stageChunk', { staged, offset, data: toBase64(chunk) });
    useUploads.getState().update(uploadId, { done: before + offset + chunk.length, total });
  }
  return staged;
}

/** Sends `files` (and the text as their caption) to a conversation; progress and cancel through the uploads store. */
export async function sendFiles(conversation: string, files: readonly File[], text: string,
  options: { replyTo?: string; quote?: boolean; timers?: { expiresInSeconds?: number; burnAfterReadSeconds?: number } } = {}): Promise<void> {
  const id = operationId();
  const total = files.reduce((n, f) => n + f.size, 0);
  useUploads.getState().begin({ id, conversation, names: files.map((f) => f.name), phase: 'staging', done: 0, total, waiting: false, cancelled: false });
  const off = api().on('operation.progress', (p) => {
    if (p.operation === id) useUploads.getState().update(id, { phase: 'uploading', done: p.done, total: p.total ?? total, waiting: p.waiting === true });
  });
  // staged and not yet handed to messages.send (which drops them itself, sent or refused)
  const staging: string[] = [];
  try {
    const attachments = [];
    let before = 0;
    for (const file of files) {
      // a video's first frame or a PDF's first page is drawn here while its bytes are staged
      const [still, staged] = await Promise.all([drawnStill(file), stage(file, id, before, total, staging)]);
      attachments.push({ staged, name: file.name, ...(file.type ? { mime: file.type } : {}), ...(still ? { preview: still } : {}) });
      before += file.size;
    }
    if (useUploads.getState().items[id]?.cancelled) throw new Cancelled();
    useUploads.getState().update(id, { phase: 'uploading', done: 0 });
    const sending = api().call('messages.send', { conversation, attachments, operation: id, ...(text ? { text } : {}), ...options });
    staging.length = 0;
    const message = await sending;
    useMessages.getState().add(message);
    useConversations.getState().noteMessage(message, useSession.getState().me?.username);
  } catch (error) {
    if (!(error instanceof Cancelled) && !wasCancelled(error)) {
      useNotices.getState().add(`Sending ${files.length === 1 ? files[0]!.name : `${files.length} files`} failed: ${errorText(error)}`);
      throw error;
    }
  } finally {
    off();
    useUploads.getState().end(id);
    for (const staged of staging) void api().call('files.unstage', { staged }).catch(() => {});
  }
}

export async function cancelUpload(id: string): Promise<void> {
  const upload = useUploads.getState().items[id];
  if (!upload) return;
  useUploads.getState().update(id, { cancelled: true });
  if (upload.phase === 'uploading') await api().call('operations.cancel', { operation: id }).catch(() => {});
}

/** Opens a file into the vault (fetched and verified once) under an operation the downloads store shows and can cancel. */
async function openFile(message: string, index: number) {
  const id = `down-${crypto.randomUUID()}`;
  useDownloads.getState().begin({ id, message, index, done: 0, total: 0, waiting: false, cancelled: false });
  const off = api().on('operation.progress', (p) => {
    if (p.operation === id) useDownloads.getState().update(id, { done: p.done, total: p.total ?? 0, waiting: p.waiting === true });
  });
  try {
    return await api().call('files.open', { message, index, operation: id });
  } finally {
    off();
    useDownloads.getState().end(id);
  }
}

export async function cancelDownload(id: string): Promise<void> {
  if (!useDownloads.getState().items[id]) return;
  useDownloads.getState().update(id, { cancelled: true });
  await api().call('operations.cancel', { operation: id }).catch(() => {});
}

/** A cancel the user asked for: not a failure to report. */
export const wasCancelled = (error: unknown) => (error as { code?: string }).code === 'CANCELLED';

/** A file of a message as a Blob: opened into the vault, then read in chunks. */
export async function fileBlob(message: string, index: number, mime: string): Promise<Blob> {
  const view = await openFile(message, index);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let offset = 0; ; offset += FILE_CHUNK_MAX) {
    const { data, eof } = await api().call('files.read', { message, index, offset, length: FILE_CHUNK_MAX });
    parts.push(fromBase64(data));
    if (eof || offset + FILE_CHUNK_MAX >= view.size) break;
  }
  return new Blob(parts, { type: mime });
}

/** Saves a file through the browser's own download (the desktop app asks where). */
export async function saveFile(message: string, index: number, name: string, mime: string): Promise<void> {
  try {
    const url = URL.createObjectURL(await fileBlob(message, index, mime));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.rel = 'noopener';
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    if (!wasCancelled(error)) useNotices.getState().add(`Saving ${name} failed: ${errorText(error)}`);
  }
}
