// A still drawn on the sender's device for a file the engine cannot decode (a video's first frame, a PDF's first
// page): a canvas of a size still-bounds.ts allows, handed to the engine as a JPEG, which decodes it and makes the
// file's thumbnail of its own. What is drawn here is only ever an input to that. Shared by video-frame.ts and
// pdf-page.ts.
import { toBase64 } from './bytes.ts';
import { PREVIEW_INPUT_MAX } from './limits.ts';

export interface Still {
  mime: 'image/jpeg';
  data: string;
}

/** A canvas of the size fitStill gave, for the caller to draw on. */
export function stillCanvas(size: { width: number; height: number }): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  return canvas;
}

/** The canvas as the JPEG the engine takes, or null when it could not be encoded or is over what the engine takes. */
export async function canvasStill(canvas: HTMLCanvasElement): Promise<Still | null> {
  const jpeg = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
  if (!jpeg || jpeg.size > PREVIEW_INPUT_MAX) return null;
  return { mime: 'image/jpeg', data: toBase64(new Uint8Array(await jpeg.arrayBuffer())) };
}
