// A video's first frame, drawn on the sender's device before sending: the file is played (muted, never shown) from
// a blob: URL in a <video> element, its first decodable frame drawn on a canvas scaled to fit THUMB_EDGE, and
// handed to the engine as a JPEG, which re-encodes it as the file's thumbnail. The recipient's device decodes
// nothing of the video to show it. A format this browser cannot play, or one slow to start, sends without a frame.
import { toBase64 } from './bytes.ts';
import { PREVIEW_INPUT_MAX } from './limits.ts';

const THUMB_EDGE = 320;
/** A frame that has not come by then will not come soon: the file goes without one. */
const FRAME_TIMEOUT_MS = 5000;

export interface VideoFrame {
  mime: 'image/jpeg';
  data: string;
}

function once(target: HTMLVideoElement, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    target.addEventListener(event, () => resolve(), { once: true });
    target.addEventListener('error', () => reject(new Error('the video cannot be decoded here')), { once: true });
  });
}

export async function videoFirstFrame(file: Blob): Promise<VideoFrame | null> {
  if (!file.type.startsWith('video/')) return null;
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const loaded = once(video, 'loadeddata');
    video.src = url;
    await Promise.race([loaded, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), FRAME_TIMEOUT_MS); })]);
    if (!video.videoWidth || !video.videoHeight) return null;
    const scale = Math.min(1, THUMB_EDGE / Math.max(video.videoWidth, video.videoHeight));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
    canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
    canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
    const jpeg = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
    if (!jpeg || jpeg.size > PREVIEW_INPUT_MAX) return null;
    return { mime: 'image/jpeg', data: toBase64(new Uint8Array(await jpeg.arrayBuffer())) };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}
