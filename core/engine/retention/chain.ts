// The archive export's format and its check. An export is JSON Lines: a header naming the archive and its public
// key, one line per event, and a signed end. Every line carries the digest of the line before it (BLAKE2b-256 of its
// exact bytes), so changing, removing, inserting or moving any line breaks the chain at that point; the end line is
// signed with the archive account's Ed25519 key over the digest of everything before it, so rebuilding the whole
// chain needs that key. The key itself sits in the header: whoever checks an export compares its fingerprint with one
// they trust (the archive's safety number, or the fingerprint the archive printed when it exported). The files the
// events carry lie beside the export, each named by the digest of its content, which its (chained) record names.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { blake2b, blake2bHasher, fromBase64Url, sha256, toBase64Url, utf8, verify } from '../../crypto/sodium.ts';

export const ARCHIVE_FORMAT = 'wardroom-archive/1';
/** The directory an export's files go in: FILE.files, beside FILE, each named by the BLAKE2b-256 of its content. */
export const filesDirOf = (exportFile: string) => `${exportFile}.files`;
/** What the header's `prev` is: there is no line before it. */
export const GENESIS = toBase64Url(blake2b(utf8(ARCHIVE_FORMAT)));
/** A line longer than this is no line of ours (a message is at most 16,000 characters, escaped up to six bytes each). */
export const MAX_LINE_BYTES = 256 * 1024;

export const lineDigest = (line: string) => toBase64Url(blake2b(utf8(line)));
/** What the archive signs: the end line's place and the digest of the chain before it, under its own context. */
export const endSignedBytes = (seq: number, records: number, prev: string) => utf8(`${ARCHIVE_FORMAT} end\n${seq}\n${records}\n${prev}`);
/** How a person names a public key: base64url SHA-256, as the relay names the org key. */
export const keyFingerprint = (publicKey: Uint8Array) => toBase64Url(sha256(publicKey));

const digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const chained = z.object({ seq, prev: digest });
const headerSchema = chained.extend({
  type: z.literal('header'), format: z.literal(ARCHIVE_FORMAT), archive: z.string().max(64), publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/), exportedAt: z.string().max(40),
}).strict();
const endSchema = chained.extend({ type: z.literal('end'), records: z.number().int().nonnegative(), signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/) }).strict();
/** A file of an event: written beside the export under its content digest (`file`), or `unavailable` with why. */
const attachedSchema = z.object({ name: z.string().max(4096), file: digest.optional(), unavailable: z.string().max(1000).optional() }).loose();
const eventSchema = chained.extend({
  type: z.enum(['message', 'edit', 'delete', 'reaction', 'attachment', 'timer', 'membership', 'retention']),
  attachment: z.array(attachedSchema).max(1000).optional(),
}).loose();

export type VerifyResult =
  | { ok: true; records: number; archive: string; fingerprint: string; files: number }
  | { ok: false; line: number; reason: string; fingerprint?: string; file?: string };

/** The BLAKE2b-256 of a file's bytes (base64url), or null when there is no such file. */
async function fileDigest(file: string): Promise<string | null> {
  const hash = blake2bHasher();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return toBase64Url(hash.digest());
}

/** The key an export must be signed by, as the caller gave it: a fingerprint or the public key itself (base64url). */
function keyMatches(expected: string, publicKey: Uint8Array): boolean {
  return expected === keyFingerprint(publicKey) || expected === toBase64Url(publicKey);
}

/**
 * Checks an export line by line and names the first line that is wrong. A line whose `seq` is not its place was
 * moved, or something before it was removed or inserted; a line whose `seq` fits but whose `prev` does not match
 * the line before means that line before was changed.
 */
export async function verifyExport(file: string, expectedKey?: string): Promise<VerifyResult> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 }), crlfDelay: Infinity });
  let number = 0;
  let prevLine: string | null = null;
  let header: z.output<typeof headerSchema> | null = null;
  let publicKey: Uint8Array | null = null;
  let ended = false;
  const files: { line: number; name: string; file: string }[] = [];
  const fingerprint = () => (publicKey ? { fingerprint: keyFingerprint(publicKey) } : {});
  const fail = (line: number, reason: string): VerifyResult & { ok: false } => ({ ok: false, line, reason, ...fingerprint() });
  try {
    for await (const line of lines) {
      number++;
      if (ended) return fail(number, 'a line after the signed end (appended)');
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) return fail(number, 'the line is too long to be a record');
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        return fail(number, 'not a JSON record');
      }
      const place = chained.safeParse(record);
      if (!place.success) return fail(number, 'not a record of an archive export (no seq or prev)');
      if (place.data.seq !== number) return fail(number, `record ${place.data.seq} is out of place (a record was removed, inserted or moved before it)`);
      if (place.data.prev !== (prevLine === null ? GENESIS : lineDigest(prevLine))) {
        return number === 1 ? fail(1, 'the first record does not start an export') : fail(number - 1, 'altered (its digest does not match what the next line records)');
      }
      const type = (record as { type?: unknown }).type;
      if (number === 1) {
        const parsed = headerSchema.safeParse(record);
        if (!parsed.success) return fail(1, 'not the header of an archive export');
        header = parsed.data;
        publicKey = fromBase64Url(header.publicKey);
        if (expectedKey !== undefined && !keyMatches(expectedKey, publicKey)) return fail(1, `signed by the key ${keyFingerprint(publicKey)}, not the one given with --key`);
      } else if (type === 'end') {
        const end = endSchema.safeParse(record);
        if (!end.success) return fail(number, 'a damaged end record');
        if (end.data.records !== number - 2) return fail(number, `the end counts ${end.data.records} records but the export holds ${number - 2}`);
        if (!verify(fromBase64Url(end.data.signature), endSignedBytes(number, end.data.records, end.data.prev), publicKey!)) return fail(number, 'the signature does not verify under the header\'s key');
        ended = true;
      } else {
        const event = eventSchema.safeParse(record);
        if (!event.success) return fail(number, 'not an event record');
        for (const f of event.data.attachment ?? []) if (f.file) files.push({ line: number, name: f.name, file: f.file });
      }
      prevLine = line;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, line: 0, reason: 'no such file' };
    throw error;
  } finally {
    lines.close();
  }
  if (number === 0) return fail(0, 'the file is empty');
  if (!ended) return fail(number + 1, `no signed end: the export stops after line ${number} (cut short, or its end removed)`);
  // the chain holds: now each file its records name, beside the export, must have the content the record signed
  const dir = filesDirOf(file);
  for (const f of files) {
    const found = await fileDigest(path.join(dir, f.file));
    if (found !== f.file) {
      const where = path.join(path.basename(dir), f.file);
      return { ...fail(f.line, found === null ? `the file ${where} ("${f.name}") is missing` : `the file ${where} ("${f.name}") was altered (its content does not match its digest)`), file: path.join(dir, f.file) };
    }
  }
  return { ok: true, records: number - 2, archive: header!.archive, fingerprint: keyFingerprint(publicKey!), files: new Set(files.map((f) => f.file)).size };
}
