// PDFs written by hand for the tests: real files (objects, a cross-reference table at the right byte offsets, a
// trailer) whose pages draw what the test says, so what a renderer shows of them can be checked pixel by pixel.
// One can be encrypted with the standard security handler (revision 2: RC4, 40-bit key, PDF 1.7 section 7.6.3) under
// a user password, as old office software still writes them: then it opens with that password and not without.
import { createHash } from 'node:crypto';

export interface PdfPage {
  /** the MediaBox's size in points */
  width: number;
  height: number;
  /** the page's content stream (operators; the font is /F1, Helvetica) */
  content: string;
}

/** The 32 bytes a password is padded with (Algorithm 2, step a). */
const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');
const padded = (password: string) => Buffer.concat([Buffer.from(password, 'latin1'), PAD]).subarray(0, 32);
const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();

/** RC4, which OpenSSL 3 no longer offers by default; a test fixture's only use of it. */
function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

/** What the Encrypt dictionary holds, and the key each object's strings and streams are encrypted under. */
function standardSecurity(userPassword: string, id: Buffer) {
  const permissions = -4;
  const owner = rc4(md5(padded(`${userPassword} owner`)).subarray(0, 5), padded(userPassword));
  const p = Buffer.alloc(4);
  p.writeInt32LE(permissions);
  const fileKey = md5(padded(userPassword), owner, p, id).subarray(0, 5);
  const user = rc4(fileKey, PAD);
  const objectKey = (num: number) => md5(fileKey, Buffer.from([num & 0xff, (num >> 8) & 0xff, (num >> 16) & 0xff, 0, 0])).subarray(0, 10);
  return {
    dictionary: `<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${owner.toString('hex')}> /U <${user.toString('hex')}> /P ${permissions} >>`,
    encrypt: (num: number, data: Buffer) => rc4(objectKey(num), data),
  };
}

/** A PDF of these pages, encrypted under `userPassword` when one is given. */
export function pdfOf(pages: readonly PdfPage[], options: { userPassword?: string } = {}): Buffer {
  const id = md5(Buffer.from(JSON.stringify(pages)));
  const security = options.userPassword !== undefined ? standardSecurity(options.userPassword, id) : null;
  const objects: (string | Buffer)[] = [];
  const add = (body: string | Buffer) => objects.push(body) as number;
  const stream = (content: string) => {
    const num = objects.length + 1;
    const data = security ? security.encrypt(num, Buffer.from(content, 'latin1')) : Buffer.from(content, 'latin1');
    return add(Buffer.concat([Buffer.from(`<< /Length ${data.length} >>\nstream\n`), data, Buffer.from('\nendstream')]));
  };
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // the page tree, written once its kids are known
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids = pages.map((page) => {
    const content = stream(page.content);
    return add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${page.width} ${page.height}] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`);
  });
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  const encryptRef = security ? add(security.dictionary) : null;

  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const bytes = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    parts.push(bytes);
    length += bytes.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /ID [<${id.toString('hex')}> <${id.toString('hex')}>]${encryptRef ? ` /Encrypt ${encryptRef} 0 R` : ''} >>\nstartxref\n${length}\n%%EOF\n`;
  return Buffer.concat([...parts, Buffer.from(xref + trailer, 'latin1')]);
}

/** A filled rectangle in an RGB colour (0..1 each), in the page's points from its lower left corner. */
export const filledRect = (rgb: readonly [number, number, number], x: number, y: number, w: number, h: number) => `${rgb.join(' ')} rg ${x} ${y} ${w} ${h} re f\n`;
/** A line of Helvetica text in black. */
export const textLine = (text: string, x: number, y: number, size: number) => `0 0 0 rg BT /F1 ${size} Tf ${x} ${y} Td (${text.replace(/[\\()]/g, '\\$&')}) Tj ET\n`;
