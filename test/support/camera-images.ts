// Camera-style test photos, made with sharp and then given by hand what sharp cannot write: EXIF with GPS, a body
// serial and times; XMP; an IPTC (Photoshop APP13) block; comments; PNG text and time chunks; GIF comment and XMP
// extensions; an ICC profile (Display P3) and Orientation 6 (rotate 90° to display). Every secret is a string or
// number the tests then search the stripped bytes for.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

export const SECRETS = {
  serial: 'SN-7781234509',
  make: 'Wardcam',
  model: 'WX-100',
  time: '2026:11:30 10:11:12',
  xmpCity: 'XMPCITY-Zanzibar',
  iptc: 'IPTC-CAPTION-Lighthouse',
  comment: 'COMMENT-taken-at-home',
};
/** GPSLatitude's seconds as a rational (2646/100 = 26.46"): its 8 bytes in either byte order must vanish. */
const GPS_SECONDS = [2646, 100];
export const WIDTH = 40;
export const HEIGHT = 30;

const exif = {
  IFD0: { Make: SECRETS.make, Model: SECRETS.model, Software: 'fw 1.2', DateTime: SECRETS.time },
  IFD2: { BodySerialNumber: SECRETS.serial, DateTimeOriginal: SECRETS.time },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: `51/1 30/1 ${GPS_SECONDS[0]}/${GPS_SECONDS[1]}`, GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 3957/100' },
};
const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="${SECRETS.xmpCity}"/></rdf:RDF></x:xmpmeta>`;

export function pixels(): Buffer {
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + (i >> 7) * 11) % 251;
  return raw;
}

const base = () => sharp(pixels(), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
  .withExif(exif).withXmp(xmp).withIccProfile('p3').withMetadata({ orientation: 6 });

export async function cameraJpeg(): Promise<Buffer> {
  const jpeg = await base().jpeg({ quality: 90 }).toBuffer();
  // after SOI (and sharp's APP segments): an IPTC block as Photoshop writes it, and a comment
  const iptcData = Buffer.concat([Buffer.from([0x1c, 0x02, 0x78, 0, SECRETS.iptc.length]), Buffer.from(SECRETS.iptc)]);
  const resource = Buffer.concat([Buffer.from('8BIM'), Buffer.from([0x04, 0x04, 0, 0]), u32be(iptcData.length), iptcData, Buffer.alloc(iptcData.length & 1)]);
  const app13 = segment(0xed, Buffer.concat([Buffer.from('Photoshop 3.0\0'), resource]));
  const com = segment(0xfe, Buffer.from(SECRETS.comment));
  return Buffer.concat([jpeg.subarray(0, 2), app13, com, jpeg.subarray(2), Buffer.from(`trailing ${SECRETS.serial}`)]);
}

export async function cameraPng(): Promise<Buffer> {
  const png = await base().png().toBuffer();
  const iend = png.length - 12;
  const text = pngChunk('tEXt', Buffer.from(`Comment\0${SECRETS.comment}`));
  const time = pngChunk('tIME', Buffer.from([0x07, 0xea, 11, 30, 10, 11, 12]));
  const ztxt = pngChunk('zTXt', Buffer.concat([Buffer.from('Author\0\0'), Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])]));
  return Buffer.concat([png.subarray(0, iend), text, time, ztxt, png.subarray(iend)]);
}

export async function cameraWebp(): Promise<Buffer> {
  return base().webp({ lossless: true }).toBuffer();
}

/** A looping GIF (NETSCAPE2.0 extension, which must survive) with a comment and an XMP application extension. */
export async function cameraGif(): Promise<Buffer> {
  const gif = await sharp(pixels(), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).gif({ loop: 0 }).toBuffer();
  const at = 13 + gctSize(gif[10]!);
  const comment = Buffer.concat([Buffer.from([0x21, 0xfe]), subBlocks(Buffer.from(SECRETS.comment))]);
  const xmpExt = Buffer.concat([Buffer.from([0x21, 0xff, 11]), Buffer.from('XMP DataXMP'), subBlocks(Buffer.from(xmp))]);
  return Buffer.concat([gif.subarray(0, at), comment, xmpExt, gif.subarray(at)]);
}

/** The 8 bytes of the GPS seconds rational, big- and little-endian. */
export function gpsNeedles(): Buffer[] {
  const be = Buffer.concat(GPS_SECONDS.map(u32be));
  const le = Buffer.concat(GPS_SECONDS.map((n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }));
  return [be, le];
}

const u32be = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const gctSize = (packed: number) => (packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0);

function segment(marker: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), typed, u32be(crc32(typed))]);
}

function subBlocks(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const piece = data.subarray(i, i + 255);
    parts.push(Buffer.from([piece.length]), piece);
  }
  return Buffer.concat([...parts, Buffer.from([0])]);
}
