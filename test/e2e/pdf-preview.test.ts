// PDFs in the message list, end to end (a web shell each, a real relay on loopback, Chromium): a real two-page PDF
// sent from the composer shows Bob its first page, drawn by pdf.js on Alice's device and sent inside the message
// (the red shape and the text where page 1 has them, none of page 2's blue). pdf.js is loaded only when a PDF is
// sent, from the shell's own origin and nowhere else; its worker is a module file served under the shell's CSP, and
// runs under it (WebAssembly is refused inside it). A PDF pdf.js cannot draw (garbage bytes, a broken page
// tree, one that needs a password) goes as an icon, name and size, and arrives all the same; a page that claims to
// be kilometres wide is drawn small like any other. No page error, CSP or Trusted Types violation on either side.
// The message list with a PDF's page is photographed in both themes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Locator, Response } from 'playwright-core';
import { channelOfTwo, messageWith, say, type ChannelOfTwo } from '../support/e2e-people.ts';
import { filledRect, pdfOf, textLine, type PdfPage } from '../support/pdf-files.ts';
import { checkScreen, type AppPage } from '../support/web-app.ts';

type Rgb = [number, number, number];

const RED: Rgb = [0.82, 0.12, 0.16];
const BLUE: Rgb = [0.1, 0.2, 0.8];
const GREEN: Rgb = [0.1, 0.6, 0.3];
/** US Letter: page 1 has a red block over its upper half and a line of text below; page 2 is all blue. */
const REPORT: PdfPage[] = [
  { width: 612, height: 792, content: filledRect(RED, 56, 396, 500, 340) + textLine('Harbour report (draft)', 72, 200, 40) },
  { width: 612, height: 792, content: filledRect(BLUE, 0, 0, 612, 792) },
];

/** What the test's page functions touch of the DOM (the test's own types have none). */
interface PageImage { decode(): Promise<void>; naturalWidth: number; naturalHeight: number }
interface PageCanvas { width: number; height: number; getContext(kind: '2d'): { drawImage(image: PageImage, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }

/**
 * The picture's pixels as the page decoded them: the colour at each point (fractions of its width and height), and
 * the darkest luminance in a band (from, to: fractions of its height) across its middle.
 */
async function pixelsOf(image: Locator, points: [number, number][], band: [number, number]): Promise<{ size: [number, number]; colours: Rgb[]; darkest: number }> {
  return image.evaluate(async (element, [at, [from, to]]) => {
    const img = element as unknown as PageImage;
    await img.decode();
    const canvas = (globalThis as unknown as { document: { createElement(tag: 'canvas'): PageCanvas } }).document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const pixel = (x: number, y: number) => [...data.subarray((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 3)] as Rgb;
    const colours = at.map(([fx, fy]) => pixel(Math.floor(fx * canvas.width), Math.floor(fy * canvas.height)));
    let darkest = 255;
    for (let y = Math.floor(from * canvas.height); y < to * canvas.height; y++) {
      for (let x = Math.floor(canvas.width * 0.1); x < canvas.width * 0.9; x++) darkest = Math.min(darkest, Math.max(...pixel(x, y)));
    }
    return { size: [canvas.width, canvas.height] as [number, number], colours, darkest };
  }, [points, band] as const);
}

const near = (got: Rgb, want: Rgb, slack = 40) => got.every((c, i) => Math.abs(c - want[i]! * 255) <= slack);
const WHITE: Rgb = [1, 1, 1];

describe('PDF first pages in the message list (web shell, Chromium)', { timeout: 300_000 }, () => {
  let two: ChannelOfTwo | undefined;
  let alice: AppPage;
  let bob: AppPage;
  /** every address Alice's page asked for, and the pdf.js worker's response */
  const requested: string[] = [];
  let workerResponse: Response | undefined;

  before(async () => {
    two = await channelOfTwo('harbour');
    ({ alice, bob } = two);
    alice.page.on('request', (request) => requested.push(request.url()));
    alice.page.on('response', (response) => {
      if (/\/assets\/pdf\.worker[^/]*\.mjs$/.test(response.url())) workerResponse = response;
    });
  });
  after(() => two?.close());

  const attach = (files: { name: string; buffer: Buffer }[]) =>
    alice.page.locator('.composer input[type=file]').setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/pdf' })));
  const filesOf = (text: string) => messageWith(bob.page, text).getByRole('list', { name: 'Files' });

  it('a two-page PDF sent from the composer shows Bob its first page, drawn on Alice\'s device', async (t) => {
    assert.ok(!requested.some((url) => /\/assets\/pdf[-.]/.test(url)), 'pdf.js is not loaded before a PDF is sent');
    await attach([{ name: 'harbour-report.pdf', buffer: pdfOf(REPORT) }]);
    await say(alice.page, 'The report, first draft');

    const page = filesOf('The report, first draft').getByRole('img', { name: 'First page of harbour-report.pdf' });
    await page.waitFor({ timeout: 30_000 });
    assert.match(await page.getAttribute('src') ?? '', /^blob:/, 'drawn from the bytes inside the message');
    assert.deepEqual([await page.getAttribute('width'), await page.getAttribute('height')], ['124', '160'], 'US Letter\'s shape, the engine\'s thumbnail size');
    // the red block over the upper half, white margins and white between it and the text, dark text in its line
    const { colours: [block, margin, between], darkest } = await pixelsOf(page, [[0.5, 0.28], [0.03, 0.97], [0.5, 0.6]], [0.68, 0.77]);
    assert.ok(near(block!, RED), `page 1's red block (${block!.join(',')})`);
    assert.ok(near(margin!, WHITE) && near(between!, WHITE), `white paper, not page 2's blue (${margin!.join(',')} / ${between!.join(',')})`);
    assert.ok(darkest < 100, `the text line is drawn (darkest ${darkest})`);
    assert.match(await filesOf('The report, first draft').innerText(), /harbour-report\.pdf[\s\S]*\d+ (B|KB)/, 'with its name and size');
    await messageWith(alice.page, 'The report, first draft').getByRole('img', { name: 'First page of harbour-report.pdf' }).waitFor();

    const [measure] = await alice.page.evaluate(() => performance.getEntriesByName('wardroom:pdf-first-page').map((e) => e.duration));
    assert.ok(measure !== undefined, 'Alice\'s page drew it (its User Timing measure is there)');
    t.diagnostic(`page 1 drawn on Alice's device in ${Math.round(measure)} ms (pdf.js chunk loaded, worker started, parsed, drawn, encoded)`);
    await checkScreen(bob.page, 'message-pdf');
  });

  it('loads pdf.js and its worker from the shell\'s own origin only, the worker under the CSP', async () => {
    const origin = new URL(two!.people.alice.shell.shell.url).origin;
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, [], 'nothing fetched from anywhere else (no fonts, CMaps or wasm)');
    assert.ok(requested.some((url) => /\/assets\/pdf-[^/]+\.js$/.test(url)), 'the pdf.js chunk, loaded once a PDF was sent');
    assert.ok(workerResponse, 'the worker\'s module file was fetched');
    const headers = await workerResponse.allHeaders();
    assert.deepEqual([workerResponse.status(), headers['content-type']], [200, 'text/javascript; charset=utf-8']);
    assert.match(headers['content-security-policy'] ?? '', /script-src 'self'; .*require-trusted-types-for 'script'/);

    // A worker runs under the policy its own script arrived with, not its page's: started as the app starts it
    // (a document of the shell, its one Trusted Types policy), pdf.js's worker may not compile WebAssembly. (Eval
    // cannot be probed so: code the DevTools protocol evaluates is allowed eval whatever the CSP says.)
    const probe = await two!.browser.newPage();
    await probe.goto(`${origin}/nothing-here`);
    const [worker] = await Promise.all([
      probe.waitForEvent('worker'),
      probe.evaluate((url) => {
        const g = globalThis as unknown as { trustedTypes: { createPolicy(name: string, rules: object): { createScriptURL(u: string): string } }; Worker: new (url: string, options: object) => unknown };
        const policy = g.trustedTypes.createPolicy('wardroom-pdf-worker', { createScriptURL: (u: string) => u });
        new g.Worker(policy.createScriptURL(url), { type: 'module' });
      }, workerResponse.url()),
    ]);
    const wasm = await worker.evaluate(async () => {
      const g = globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } };
      try {
        await g.WebAssembly.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
        return 'compiled';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    });
    assert.match(wasm, /^CompileError: .*Content Security Policy/, 'WebAssembly refused inside the worker, by the CSP');
    await probe.close();
  });

  it('a PDF pdf.js cannot draw goes with its icon, name and size, and arrives all the same', async () => {
    const garbage = randomBytes(3000);
    const brokenTree = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n42\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
    const locked = pdfOf(REPORT, { userPassword: 'tide tables' });
    await attach([{ name: 'scan.pdf', buffer: garbage }, { name: 'tree.pdf', buffer: brokenTree }, { name: 'locked.pdf', buffer: locked }]);
    await say(alice.page, 'Three that will not draw');
    const files = filesOf('Three that will not draw');
    await files.getByRole('button', { name: 'Save locked.pdf' }).waitFor({ timeout: 30_000 });
    assert.match(await files.innerText(), /PDF\s*scan\.pdf\s*2\.9 KB[\s\S]*PDF\s*tree\.pdf\s*\d+ B[\s\S]*PDF\s*locked\.pdf\s*\d\.\d KB/, 'each as the icon, its name and size');
    assert.equal(await files.getByRole('img').count(), 0, 'no picture for any of them');
    const [download] = await Promise.all([bob.page.waitForEvent('download'), files.getByRole('button', { name: 'Save scan.pdf' }).click()]);
    assert.deepEqual(readFileSync((await download.path())!), garbage, 'and the file itself arrives byte for byte');
  });

  it('a page that claims to be kilometres wide is drawn small, like any other', async () => {
    // 200,000 x 100,000 points (70 x 35 km), the left half green: a canvas that size could not even be allocated
    const huge = pdfOf([{ width: 200_000, height: 100_000, content: filledRect(GREEN, 0, 0, 100_000, 100_000) }]);
    await attach([{ name: 'chart.pdf', buffer: huge }]);
    await say(alice.page, 'The whole coast');
    const page = filesOf('The whole coast').getByRole('img', { name: 'First page of chart.pdf' });
    await page.waitFor({ timeout: 30_000 });
    const { size, colours: [left, right] } = await pixelsOf(page, [[0.25, 0.5], [0.75, 0.5]], [0, 0]);
    assert.deepEqual(size, [160, 80]);
    assert.ok(near(left!, GREEN) && near(right!, WHITE), `green on the left, paper on the right (${left!.join(',')} / ${right!.join(',')})`);
  });

  it('caused no page error, CSP or Trusted Types violation', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});
