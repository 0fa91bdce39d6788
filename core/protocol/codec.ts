// CBOR (RFC 8949) through cbor-x, plus a small strict schema layer. cbor-x alone is permissive: it decodes tags
// into Dates and Sets, integer map keys into strings, and accepts any shape. So every decode here goes through a
// schema that demands exactly the expected keys and types, with a size limit on every byte and text field and a
// length limit on every list. Anything else is a typed ProtocolError; no other exception escapes a decoder.
import { Encoder } from 'cbor-x';
import { fail, ProtocolError } from './errors.ts';

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, pack: false, bundleStrings: false });

/** Returns a plain Uint8Array that owns its memory (cbor-x returns Buffer views into a shared scratch buffer). */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encodeCborScratch(value)); // typed-array copy: a memcpy, unlike Uint8Array.from's iteration
}

/** The encoding as a view into cbor-x's scratch buffer: valid only until the next encode, so copy it before then. */
export function encodeCborScratch(value: unknown): Uint8Array {
  return cbor.encode(value);
}

/** Decodes one CBOR item that must fill the whole input; the size check comes first, before any parsing. */
export function decodeCbor(bytes: Uint8Array, maxBytes: number, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) fail('MALFORMED', `${what} is not bytes`);
  if (bytes.length > maxBytes) fail('OVERSIZED', `${what} is ${bytes.length} bytes, limit ${maxBytes}`, { size: bytes.length, limit: maxBytes });
  if (bytes.length === 0) fail('MALFORMED', `${what} is empty`);
  try {
    return cbor.decode(bytes);
  } catch (error) {
    // cbor-x throws plain Errors (and RangeError on absurd nesting); to callers all of them mean "not valid CBOR"
    throw new ProtocolError('MALFORMED', `${what} is not valid CBOR (${error instanceof RangeError ? 'too deep' : 'parse error'})`);
  }
}

// ---------------------------------------------------------------- schema combinators

export interface Field<T> {
  parse(value: unknown, path: string): T;
}
export type Infer<F> = F extends Field<infer T> ? T : never;

export function bytes(minLength: number, maxLength: number = minLength): Field<Uint8Array> {
  return {
    parse(value, path) {
      if (!(value instanceof Uint8Array)) fail('MALFORMED', `${path} must be a byte string`);
      if (value.length > maxLength) fail('OVERSIZED', `${path} is ${value.length} bytes, limit ${maxLength}`, { field: path, limit: maxLength });
      if (value.length < minLength) fail('MALFORMED', `${path} is ${value.length} bytes, expected at least ${minLength}`);
      // copy into a plain Uint8Array: cbor-x hands out Buffers that share the frame's memory
      return new Uint8Array(value);
    },
  };
}

export function uint(max: number = Number.MAX_SAFE_INTEGER): Field<number> {
  return {
    parse(value, path) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail('MALFORMED', `${path} must be a non-negative integer`);
      if (value > max) fail('OVERSIZED', `${path} exceeds ${max}`, { field: path, limit: max });
      return value;
    },
  };
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** UTF-8 text of at most maxBytes bytes (and at least minBytes). Lone surrogates are refused. */
export function text(maxBytes: number, minBytes = 0): Field<string> {
  return {
    parse(value, path) {
      if (typeof value !== 'string') fail('MALFORMED', `${path} must be text`);
      const size = utf8Length(value);
      if (size > maxBytes) fail('OVERSIZED', `${path} is ${size} bytes, limit ${maxBytes}`, { field: path, limit: maxBytes });
      if (size < minBytes) fail('MALFORMED', `${path} is too short`);
      if (!value.isWellFormed()) fail('MALFORMED', `${path} is not well-formed Unicode`);
      return value;
    },
  };
}

export const bool: Field<boolean> = {
  parse(value, path) {
    if (typeof value !== 'boolean') fail('MALFORMED', `${path} must be a boolean`);
    return value;
  },
};

export function literal<const T extends string | number>(...allowed: T[]): Field<T> {
  return {
    parse(value, path) {
      if (!allowed.includes(value as T)) fail('MALFORMED', `${path} must be one of ${allowed.join(', ')}`);
      return value as T;
    },
  };
}

export function nullable<T>(inner: Field<T>): Field<T | null> {
  return { parse: (value, path) => (value === null ? null : inner.parse(value, path)) };
}

export function list<T>(item: Field<T>, maxItems: number): Field<T[]> {
  return {
    parse(value, path) {
      if (!Array.isArray(value)) fail('MALFORMED', `${path} must be a list`);
      if (value.length > maxItems) fail('OVERSIZED', `${path} has ${value.length} items, limit ${maxItems}`, { field: path, limit: maxItems });
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
  };
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

type Shape = Record<string, Field<unknown>>;
export type StructOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

/**
 * A CBOR map with exactly these keys: a missing or an extra key is MALFORMED. Keys in `optional` may be absent (never
 * null): an absent key stays absent in the result, so a value that lacks it re-encodes to the same bytes.
 */
export function struct<S extends Shape, O extends Shape = Record<never, never>>(shape: S, optional?: O): Field<StructOf<S> & Partial<StructOf<O>>> {
  const keys = Object.keys(shape);
  const optionalKeys = Object.keys(optional ?? {});
  return {
    parse(value, path) {
      if (!isPlainMap(value)) fail('MALFORMED', `${path} must be a map`);
      const present = Object.keys(value);
      for (const key of present) if (!(key in shape) && !(optional && key in optional)) fail('MALFORMED', `${path} has an unexpected field "${key.slice(0, 32)}"`);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) fail('MALFORMED', `${path}.${key} is missing`);
        out[key] = shape[key]!.parse(value[key], `${path}.${key}`);
      }
      for (const key of optionalKeys) {
        if (Object.prototype.hasOwnProperty.call(value, key)) out[key] = optional![key]!.parse(value[key], `${path}.${key}`);
      }
      return out as StructOf<S> & Partial<StructOf<O>>;
    },
  };
}

/** A map whose field `kind` selects one of several structs (each variant's shape must include `kind`). */
export function variants<V extends Record<string, Field<unknown>>>(kindKey: string, byKind: V): Field<Infer<V[keyof V]>> {
  return {
    parse(value, path) {
      if (!isPlainMap(value)) fail('MALFORMED', `${path} must be a map`);
      const kind = value[kindKey];
      if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(byKind, kind)) fail('MALFORMED', `${path}.${kindKey} is not a known kind`);
      return byKind[kind]!.parse(value, path) as Infer<V[keyof V]>;
    },
  };
}

/**
 * Decodes a versioned top-level CBOR map: checks the size, then that `v` is a version we speak (UNKNOWN_VERSION
 * otherwise, before any other field is looked at, so a future format gets a clear error), then the schema.
 */
export function decodeVersioned<T>(bytes: Uint8Array, schema: Field<T>, opts: { maxBytes: number; versions: readonly number[]; what: string }): T {
  const value = decodeCbor(bytes, opts.maxBytes, opts.what);
  if (!isPlainMap(value)) fail('MALFORMED', `${opts.what} must be a map`);
  const version = value['v'];
  if (typeof version !== 'number' || !opts.versions.includes(version)) {
    fail('UNKNOWN_VERSION', `${opts.what} has version ${typeof version === 'number' ? version : typeof version}; this build speaks ${opts.versions.join(', ')}`);
  }
  return schema.parse(value, opts.what);
}

/** Length-prefixed concatenation: unambiguous input for hashes, signatures and associated data. */
export function framed(...parts: (Uint8Array | string)[]): Uint8Array {
  const encoded = framedParts(parts);
  const out = new Uint8Array(framedLength(encoded));
  writeFramed(out, 0, encoded);
  return out;
}

/**
 * framed() in two steps, for a caller that places the framing inside a larger buffer: strings encoded once
 * (Buffer.from draws small ones from Node's pool, far cheaper than a TextEncoder result), then sized, then written.
 */
export function framedParts(parts: (Uint8Array | string)[]): Uint8Array[] {
  return parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
}

export function framedLength(encoded: Uint8Array[]): number {
  let size = 0;
  for (const part of encoded) size += 4 + part.length;
  return size;
}

/** Writes the framing of `encoded` at `offset` (the caller sized `out` with framedLength); returns the end offset. */
export function writeFramed(out: Uint8Array, offset: number, encoded: Uint8Array[]): number {
  let at = offset;
  for (const part of encoded) {
    writeUint32(out, at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return at;
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

export const UINT32_MAX = 0xffff_ffff;

/**
 * Padding that hides a length up to its bucket: the content, 0x80, then zeros up to the next power of two with room
 * for the marker, at least `min` bytes (ISO/IEC 7816-4 style). paddedSize sizes the buffer, writePadding fills it.
 */
export function paddedSize(contentLength: number, min: number): number {
  let size = min;
  while (size < contentLength + 1) size *= 2;
  return size;
}

/** Writes the marker and zeros after `contentLength` bytes of content already in `padded`. */
export function writePadding(padded: Uint8Array, contentLength: number): void {
  padded[contentLength] = 0x80;
  padded.fill(0, contentLength + 1);
}

/** The content's length inside padded bytes; MALFORMED when the padding is not exactly 0x80 then zeros. */
export function unpaddedLength(padded: Uint8Array): number {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) fail('MALFORMED', 'padding is invalid');
  return end;
}

/** Big-endian 4-byte encoding for counters inside hashed or signed data. */
export function uint32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeUint32(out, 0, value);
  return out;
}
