// A video's first frame, drawn on the sender's device before sending: the file is played (muted, never shown) from
// a blob: URL in a <video> element, its first decodable frame drawn on a canvas scaled to fit the still's edge, and
// handed to the engine as a JPEG (still.ts), which re-encodes it as the file's thumbnail. The recipient's device
// decodes nothing of the video to show it. A format this browser cannot play, or one slow to start, sends without a
// frame.
import { beforeDeadline, fitStill } from './still-bounds.ts';
import { canvasStill, stillCanvas, type Still } from './still.ts';

/** A frame that has not come by then will not come soon: the file goes without one. */
const FRAME_TIMEOUT_MS = 5000;

function once(target: HTMLVideoElement, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    target.addEventListener(event, () => resolve(), { once: true });
    target.addEventListener('error', () => reject(new Error('the video cannot be decoded here')), { once: true });
  });
}

export async function videoFirstFrame(file: Blob): Promise<Still | null> {
  if (!file.type.startsWith('video/')) return null;
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  try {
    const loaded = once(video, 'loadeddata');
    video.src = url;
    await beforeDeadline(loaded, FRAME_TIMEOUT_MS);
    const size = fitStill(video.videoWidth, video.videoHeight);
    if (!size) return null;
    const canvas = stillCanvas(size);
    canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
    return await canvasStill(canvas);
  } catch {
    return null;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}
