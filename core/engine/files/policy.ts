// The org policy's rules for files, as this device enforces them: read from the relay, believed only under the org
// key this profile pinned at enrolment (a relay cannot loosen them), refreshed at most once a minute. The relay
// enforces the size and the switch itself; allowed types and preview-only only clients can.
//
// Until the org policy module (core/engine/policy/) lands this reads the document's file fields directly.
import { z } from 'zod';
import type { FilePolicyView } from '../../api/contract.ts';
import { fromBase64Url, fromUtf8, verify } from '../../crypto/sodium.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import { MAX_FILE_BYTES } from './blob-format.ts';

export type FilePolicy = z.output<typeof FilePolicyView>;

const documentSchema = z.object({
  fileSharing: z.boolean().optional(),
  maxFileBytes: z.number().int().min(0).optional(),
  allowedFileTypes: z.array(z.string().max(127)).max(200).optional(),
  filePreviewOnly: z.boolean().optional(),
});

const OPEN: FilePolicy = { enabled: true, maxBytes: MAX_FILE_BYTES, previewOnly: false };
const REFRESH_MS = 60_000;

export class FilePolicies {
  readonly #ctx: EngineContext;
  #cached: { at: number; policy: FilePolicy } | null = null;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  async current(): Promise<FilePolicy> {
    const now = this.#ctx.now();
    if (this.#cached && now - this.#cached.at < REFRESH_MS) return this.#cached.policy;
    const policy = await this.#read();
    this.#cached = { at: now, policy };
    return policy;
  }

  async #read(): Promise<FilePolicy> {
    const { policy } = await this.#ctx.http.org();
    const orgKey = this.#ctx.profile.orgKey;
    if (!policy) return OPEN;
    if (!orgKey || !verify(policy.document.signature, policy.document.data, fromBase64Url(orgKey))) {
      throw new EngineError('HOSTILE_SERVER', 'the relay served an org policy the org key did not sign');
    }
    let fields: z.output<typeof documentSchema>;
    try {
      fields = documentSchema.parse(JSON.parse(fromUtf8(policy.document.data)));
    } catch {
      throw new EngineError('INVALID', 'the org policy\'s file settings cannot be read');
    }
    return {
      enabled: fields.fileSharing ?? true,
      maxBytes: Math.min(fields.maxFileBytes ?? MAX_FILE_BYTES, MAX_FILE_BYTES),
      ...(fields.allowedFileTypes ? { allowedTypes: fields.allowedFileTypes } : {}),
      previewOnly: fields.filePreviewOnly ?? false,
    };
  }
}

const typeAllowed = (policy: FilePolicy, mime: string) =>
  !policy.allowedTypes || policy.allowedTypes.some((t) => t === mime || (t.endsWith('/*') && mime.startsWith(t.slice(0, -1))));

/** Refuses a file the policy does not allow, in the user's terms. */
export function checkFile(policy: FilePolicy, file: { name: string; mime: string; size: number }): void {
  if (!policy.enabled) throw new EngineError('FORBIDDEN', 'your organisation\'s policy does not allow sending files');
  if (file.size > policy.maxBytes) throw new EngineError('FORBIDDEN', `${file.name} is ${file.size.toLocaleString('en-US')} bytes; your organisation's policy allows files up to ${policy.maxBytes.toLocaleString('en-US')}`);
  if (!typeAllowed(policy, file.mime)) throw new EngineError('FORBIDDEN', `your organisation's policy does not allow ${file.mime} files (${file.name})`);
}
