// A PDF's first page, drawn on the sender's device before sending, as video-frame.ts draws a video's first frame:
// pdf.js (Mozilla's renderer, in a chunk of its own, loaded the first time a PDF is sent) parses the file in a
// worker of its own and draws page 1 on a canvas fitted to the still's edge, which goes to the engine as a JPEG
// (still.ts) to be made the file's thumbnail. The recipient's device runs no PDF code to show it.
//
// The file is someone's document, perhaps a hostile one, so pdf.js runs with less than its defaults:
// - nothing is fetched: no CMaps, standard fonts, ICC profiles or wasm, from anywhere (no URLs given, no fetching
//   in the worker), so a page that needs them draws without them;
// - no WebAssembly (the CSP allows none) and no eval (pdf.js 6 has none left: PostScript functions are
//   interpreted); no fonts loaded into the page (its glyphs are drawn as paths); no XFA; no JavaScript (pdf.js runs
//   a PDF's scripts only in its viewer's sandbox, which is never loaded);
// - bounded: a file over PDF_MAX_BYTES is not read, the canvas fits the still's edge whatever size the page says,
//   embedded images over IMAGE_MAX_PIXELS are skipped, and the whole gets RENDER_TIMEOUT_MS, after which the
//   worker is terminated (drawing waits on animation frames, so the window stays responsive meanwhile).
// Anything that fails (garbage, a password, a page pdf.js cannot draw, the deadline) sends the PDF without a still:
// it shows as an icon, its name and size.
import type { PDFDocumentLoadingTask, PDFWorker, RenderTask } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { beforeDeadline, fitStill } from './still-bounds.ts';
import { canvasStill, stillCanvas, type Still } from './still.ts';

/** Larger files are read whole into memory to be parsed: past this they go with their icon. */
const PDF_MAX_BYTES = 64 * 1024 * 1024;
/** An image in the page larger than this (4096 x 4096) is left out of the still rather than decoded. */
const IMAGE_MAX_PIXELS = 4096 * 4096;
/** A first page not drawn by then is too heavy to wait for. */
const RENDER_TIMEOUT_MS = 5000;
/** How long pdf.js gets to shut its worker down before it is terminated anyway. */
const CLOSE_TIMEOUT_MS = 1000;
/** The User Timing measure of the last first page drawn, for the developer tools and the end-to-end test. */
const RENDER_MEASURE = 'wardroom:pdf-first-page';

/**
 * The web shell requires Trusted Types for script URLs, and `new Worker` is such a sink: this policy (named in its
 * CSP, core/shell/guard.ts) makes exactly one, the URL of pdf.js's worker in the bundle, and refuses any other.
 * Electron's CSP does not require Trusted Types; the policy works there all the same.
 */
const WORKER_POLICY = 'wardroom-pdf-worker';

interface ScriptUrlPolicy { createScriptURL(url: string): unknown }
interface TrustedTypePolicyFactory { createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy }
let workerPolicy: ScriptUrlPolicy | undefined;

function startWorker(): Worker {
  const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactory }).trustedTypes;
  workerPolicy ??= factory?.createPolicy(WORKER_POLICY, {
    createScriptURL(url) {
      if (url !== workerUrl) throw new TypeError('only pdf.js\'s worker is started from a script URL');
      return url;
    },
  });
  // a TrustedScriptURL where the browser has them (the DOM's types do not know them yet), else the plain URL
  const url = (workerPolicy?.createScriptURL(workerUrl) ?? workerUrl) as string;
  return new Worker(url, { type: 'module', name: 'pdf.js' });
}

export async function pdfFirstPage(file: Blob): Promise<Still | null> {
  if (file.type !== 'application/pdf' || file.size === 0 || file.size > PDF_MAX_BYTES) return null;
  const started = performance.now();
  let worker: Worker | undefined;
  let pdfWorker: PDFWorker | undefined;
  let loading: PDFDocumentLoadingTask | undefined;
  let rendering: RenderTask | undefined;
  // past the deadline the work below may still be between two steps: it must then start nothing more
  let abandoned = false;
  const goOn = () => { if (abandoned) throw new Error('abandoned'); };
  try {
    return await beforeDeadline((async () => {
      const pdfjs = await import('pdfjs-dist');
      goOn();
      worker = startWorker();
      pdfWorker = pdfjs.PDFWorker.create({ port: worker, verbosity: pdfjs.VerbosityLevel.ERRORS });
      const data = new Uint8Array(await file.arrayBuffer());
      goOn();
      loading = pdfjs.getDocument({
        data,
        worker: pdfWorker,
        verbosity: pdfjs.VerbosityLevel.ERRORS,
        useWorkerFetch: false,
        useWasm: false,
        disableFontFace: true,
        useSystemFonts: false,
        enableXfa: false,
        disableWorkerRendering: true,
        maxImageSize: IMAGE_MAX_PIXELS,
        canvasMaxAreaInBytes: IMAGE_MAX_PIXELS * 4,
      });
      const page = await (await loading.promise).getPage(1);
      const base = page.getViewport({ scale: 1 });
      const size = fitStill(base.width, base.height);
      if (!size) return null;
      const canvas = stillCanvas(size);
      rendering = page.render({ canvas, viewport: page.getViewport({ scale: size.scale }) });
      await rendering.promise;
      const still = await canvasStill(canvas);
      performance.measure(RENDER_MEASURE, { start: started });
      return still;
    })(), RENDER_TIMEOUT_MS);
  } catch {
    return null;
  } finally {
    abandoned = true;
    rendering?.cancel();
    await beforeDeadline(loading?.destroy() ?? Promise.resolve(), CLOSE_TIMEOUT_MS).catch(() => {});
    pdfWorker?.destroy();
    worker?.terminate();
  }
}
