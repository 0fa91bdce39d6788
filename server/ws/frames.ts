// The WebSocket wire format: each binary frame is one CBOR map with a `t` field naming its type. Decoding is
// strict: the socket's maxPayload bounds the frame, cbor-x decodes plain data only (no records, no class tags),
// and a zod schema per type bounds every field. Anything else is a FrameError the hub answers with an error frame.
import { Decoder, Encoder } from 'cbor-x';
import { z } from 'zod';
import { ID_PATTERN } from '../schemas.ts';

export const MAX_FRAME_BYTES = 256 * 1024;
export const MAX_BODY_BYTES = 128 * 1024;
export const MAX_SIGNAL_BYTES = 64 * 1024;
export const MAX_RECIPIENTS = 1000;
export const MAX_ACKS_PER_FRAME = 1000;
export const MSG_ID_BYTES = 16;

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

export interface Sender {
  account: string;
  device: string;
}

export type ServerFrame =
  | { t: 'sent'; rid: number; duplicate: boolean }
  | { t: 'acked'; rid: number; removed: number }
  | { t: 'signalled'; rid: number }
  | { t: 'deliver'; seq: number; msgId: Uint8Array; from: Sender | null; channel: string | null; body: Uint8Array; sentAt: number; expiresAt: number }
  | { t: 'event'; kind: 'prekeys_low'; remaining: number }
  | { t: 'event'; kind: 'device_list'; account: string }
  | { t: 'event'; kind: 'signal'; from: Sender; body: Uint8Array }
  | { t: 'error'; rid: number | null; code: string; message: string };

/** The body of a server notice (a `deliver` with `from: null`), e.g. a membership change clients rotate keys on. */
export type ServerNotice =
  | { kind: 'membership'; channel: string; change: 'joined' | 'left' | 'removed' | 'role'; accounts: string[]; by: string; role: string | null }
  | { kind: 'channel_updated'; channel: string; by: string };

export function encodeFrame(frame: ServerFrame | ClientFrame | ServerNotice): Uint8Array {
  return encoder.encode(frame);
}

/** Decodes and validates one client frame; throws FrameError with a reason fit to send back. */
export function decodeClientFrame(data: Uint8Array): ClientFrame {
  if (data.length > MAX_FRAME_BYTES) throw new FrameError('frame too large');
  let value: unknown;
  try {
    value = decoder.decode(data);
  } catch (error) {
    throw new FrameError(`frame is not valid CBOR: ${(error as Error).message.slice(0, 100)}`);
  }
  const parsed = clientFrameSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FrameError(`invalid frame${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`);
  }
  return parsed.data;
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

/** Test clients and the benchmark decode server frames with the same decoder settings. */
export function decodeServerFrame(data: Uint8Array): ServerFrame {
  return decoder.decode(data) as ServerFrame;
}

export function decodeNotice(body: Uint8Array): ServerNotice {
  return decoder.decode(body) as ServerNotice;
}
