// The relay's WebSocket wire format, shared by the server (server/ws/hub.ts) and the client engine
// (core/engine/relay-socket.ts): each binary frame is one CBOR map with a `t` field naming its type. Decoding is strict
// in both directions: cbor-x decodes plain data only (no records, no class tags), and a zod schema per type
// bounds every field. To the server a client is untrusted; to the client, so is the server.
import { Decoder, Encoder } from 'cbor-x';
import { z } from 'zod';

export const MAX_FRAME_BYTES = 256 * 1024;
export const MAX_BODY_BYTES = 128 * 1024;
export const MAX_SIGNAL_BYTES = 64 * 1024;
export const MAX_RECIPIENTS = 1000;
export const MAX_ACKS_PER_FRAME = 1000;
export const MSG_ID_BYTES = 16;
/** Server-issued ids (accounts, channels, blobs, devices): 128 bits as 22 base64url characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

const bytesOf = (min: number, max: number) => z.custom<Uint8Array>(
  (value) => value instanceof Uint8Array && value.length >= min && value.length <= max, `must be a byte string of ${min}..${max} bytes`);
const deviceId = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const requestId = z.number().int().min(0).max(2 ** 31);
const expiresAt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const clientFrameSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('send'), rid: requestId, msgId: bytesOf(MSG_ID_BYTES, MSG_ID_BYTES), expiresAt,
    to: z.array(z.object({ device: deviceId, body: bytesOf(1, MAX_BODY_BYTES) }).strict()).min(1).max(MAX_RECIPIENTS),
  }).strict(),
  z.object({
    t: z.literal('channel_send'), rid: requestId, msgId: bytesOf(MSG_ID_BYTES, MSG_ID_BYTES), expiresAt,
    channel: z.string().regex(ID_PATTERN), body: bytesOf(1, MAX_BODY_BYTES),
  }).strict(),
  z.object({ t: z.literal('ack'), rid: requestId, seqs: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).min(1).max(MAX_ACKS_PER_FRAME) }).strict(),
  z.object({ t: z.literal('signal'), rid: requestId, to: deviceId, body: bytesOf(1, MAX_SIGNAL_BYTES) }).strict(),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

const sender = z.object({ account: z.string().regex(ID_PATTERN), device: deviceId }).strict();
export type Sender = z.infer<typeof sender>;
const shortText = (max: number) => z.string().max(max);

/** Control events from the relay, told apart by `kind`. */
const eventSchema = z.discriminatedUnion('kind', [
  z.object({ t: z.literal('event'), kind: z.literal('prekeys_low'), remaining: z.number().int().min(0) }).strict(),
  z.object({ t: z.literal('event'), kind: z.literal('queue_empty') }).strict(),
  z.object({ t: z.literal('event'), kind: z.literal('device_list'), account: z.string().regex(ID_PATTERN) }).strict(),
  z.object({ t: z.literal('event'), kind: z.literal('signal'), from: sender, body: bytesOf(1, MAX_SIGNAL_BYTES) }).strict(),
  /** A new org policy was published: clients fetch it and check its signature themselves. */
  z.object({ t: z.literal('event'), kind: z.literal('policy'), version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict(),
]);

/**
 * What a client accepts from the relay: the server is outside the client's trust, so its frames are checked too.
 * Discriminated by `t` (and events by `kind`), so a frame is checked against its own schema only: a backlog is
 * thousands of frames, and a plain union tried the schemas one after another.
 */
export const serverFrameSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('deliver'), seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), msgId: bytesOf(MSG_ID_BYTES, MSG_ID_BYTES),
    from: sender.nullable(), channel: z.string().regex(ID_PATTERN).nullable(), body: bytesOf(1, MAX_BODY_BYTES), sentAt: expiresAt, expiresAt,
  }).strict(),
  z.object({ t: z.literal('sent'), rid: requestId, duplicate: z.boolean() }).strict(),
  z.object({ t: z.literal('acked'), rid: requestId, removed: z.number().int().min(0) }).strict(),
  z.object({ t: z.literal('signalled'), rid: requestId }).strict(),
  eventSchema,
  z.object({ t: z.literal('error'), rid: requestId.nullable(), code: shortText(64), message: shortText(1000) }).strict(),
]);

type Distribute<T> = T extends unknown ? T : never;
export type ServerFrame = Distribute<z.infer<typeof serverFrameSchema>>;

const noticeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('membership'), channel: z.string().regex(ID_PATTERN), change: z.enum(['joined', 'left', 'removed', 'role']),
    accounts: z.array(z.string().regex(ID_PATTERN)).max(MAX_RECIPIENTS), by: z.string().regex(ID_PATTERN), role: z.string().max(16).nullable(),
  }).strict(),
  z.object({ kind: z.literal('channel_updated'), channel: z.string().regex(ID_PATTERN), by: z.string().regex(ID_PATTERN) }).strict(),
]);

/** The body of a server notice (a `deliver` with `from: null`), e.g. a membership change clients rotate keys on. */
export type ServerNotice = z.infer<typeof noticeSchema>;

export function encodeFrame(frame: ServerFrame | ClientFrame | ServerNotice): Uint8Array {
  return encoder.encode(frame);
}

export type DeliverFrame = Extract<ServerFrame, { t: 'deliver' }>;

const CBOR_MAP_SMALL = 0xa0; // major type 5, entry count (0..23) in the low bits
const CBOR_MAP_16 = 0xb9; // major type 5, entry count in the next two bytes: what cbor-x writes for objects
const CBOR_SEQ_KEY = Uint8Array.of(0x63, 0x73, 0x65, 0x71); // text(3) "seq"

/**
 * Writes a seq as cbor-x writes a non-negative integer, at `offset`; returns the bytes written. Below 2^32 that is a
 * CBOR unsigned integer in its shortest form; above, a float64 (exact up to 2^53), because cbor-x decodes 64-bit
 * integers to BigInt, which the frame schemas refuse.
 */
function writeSeq(out: Uint8Array, offset: number, value: number): number {
  if (value < 24) {
    out[offset] = value;
    return 1;
  }
  const view = new DataView(out.buffer, out.byteOffset);
  if (value < 0x100) {
    out[offset] = 0x18;
    out[offset + 1] = value;
    return 2;
  }
  if (value < 0x1_0000) {
    out[offset] = 0x19;
    view.setUint16(offset + 1, value);
    return 3;
  }
  if (value < 0x1_0000_0000) {
    out[offset] = 0x1a;
    view.setUint32(offset + 1, value);
    return 5;
  }
  out[offset] = 0xfb;
  view.setFloat64(offset + 1, value);
  return 9;
}

/**
 * Encodes the deliver frames of one envelope, which go to many devices and differ only in `seq`. A CBOR map is a
 * header then its entries in sequence, so the shared entries are encoded once and each device's frame is a new
 * header, its own `seq` entry and those bytes: at a 50-device fan-out encoding was an eighth of the relay's work.
 * Decoders see an ordinary map (key order is not significant), as the tests check against encodeFrame.
 */
export function deliverFrameEncoder(shared: Omit<DeliverFrame, 'seq'>): (seq: number) => Uint8Array {
  const encoded = encoder.encode(shared);
  const header = encoded[0]!;
  const small = header >= CBOR_MAP_SMALL && header < CBOR_MAP_SMALL + 24;
  if (!small && header !== CBOR_MAP_16) return (seq) => encodeFrame({ ...shared, seq }); // no map header we can extend
  const entries = small ? header - CBOR_MAP_SMALL : (encoded[1]! << 8) | encoded[2]!;
  const rest = new Uint8Array(encoded.subarray(small ? 1 : 3)); // a copy: cbor-x reuses its buffer on the next encode
  const MAX_UINT_BYTES = 9;
  return (seq) => {
    // from Node's buffer pool: a fresh ArrayBuffer per frame was a visible cost at fan-out; every byte returned is written
    const out = Buffer.allocUnsafe(3 + CBOR_SEQ_KEY.length + MAX_UINT_BYTES + rest.length);
    out[0] = CBOR_MAP_16;
    out[1] = (entries + 1) >>> 8;
    out[2] = (entries + 1) & 0xff;
    out.set(CBOR_SEQ_KEY, 3);
    const end = 3 + CBOR_SEQ_KEY.length + writeSeq(out, 3 + CBOR_SEQ_KEY.length, seq);
    out.set(rest, end);
    return out.subarray(0, end + rest.length);
  };
}

function decodeChecked<T>(data: Uint8Array, schema: z.ZodType<T>, what: string): T {
  if (data.length > MAX_FRAME_BYTES) throw new FrameError(`${what} too large`);
  let value: unknown;
  try {
    value = decoder.decode(data);
  } catch (error) {
    throw new FrameError(`${what} is not valid CBOR: ${(error as Error).message.slice(0, 100)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FrameError(`invalid ${what}${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`);
  }
  return parsed.data;
}

/** Decodes and validates one client frame; throws FrameError with a reason fit to send back. */
export function decodeClientFrame(data: Uint8Array): ClientFrame {
  return decodeChecked(data, clientFrameSchema, 'frame');
}

/** Requests carry a request id even when invalid; echo it in the error when it is readable. */
export function requestIdOf(data: Uint8Array): number | null {
  try {
    const value = decoder.decode(data) as { rid?: unknown };
    return typeof value?.rid === 'number' && Number.isInteger(value.rid) ? value.rid : null;
  } catch {
    return null;
  }
}

/** Decodes and validates one frame from the relay; throws FrameError on anything the schema does not allow. */
export function decodeServerFrame(data: Uint8Array): ServerFrame {
  return decodeChecked(data, serverFrameSchema, 'server frame') as ServerFrame;
}

export function decodeNotice(body: Uint8Array): ServerNotice {
  return decodeChecked(body, noticeSchema, 'server notice');
}
