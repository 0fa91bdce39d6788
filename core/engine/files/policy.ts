// The org policy's rules for files, as this device enforces them: read from the org policy in force (ctx.policy,
// policy/policy.ts: verified under the org key this profile pinned, the highest version kept, so a relay cannot
// loosen them). The relay enforces the size and the switch itself; allowed types and preview-only only clients can.
import type { z } from 'zod';
import type { FilePolicyView } from '../../api/contract.ts';
import { EngineError } from '../errors.ts';
import type { PolicyDocument } from '../policy/document.ts';
import { MAX_FILE_BYTES } from './blob-format.ts';

export type FilePolicy = z.output<typeof FilePolicyView>;

/** The file fields of the policy document, with what an org that says nothing allows. */
export function filePolicyOf(document: PolicyDocument): FilePolicy {
  return {
    enabled: document.fileSharing ?? true,
    maxBytes: Math.min(document.maxFileBytes ?? MAX_FILE_BYTES, MAX_FILE_BYTES),
    ...(document.allowedFileTypes ? { allowedTypes: document.allowedFileTypes } : {}),
    previewOnly: document.filePreviewOnly ?? false,
  };
}

const typeAllowed = (policy: FilePolicy, mime: string) =>
  !policy.allowedTypes || policy.allowedTypes.some((t) => t === mime || (t.endsWith('/*') && mime.startsWith(t.slice(0, -1))));

/** Refuses a file the policy does not allow, in the user's terms. */
export function checkFile(policy: FilePolicy, file: { name: string; mime: string; size: number }): void {
  if (!policy.enabled) throw new EngineError('FORBIDDEN', 'your organisation\'s policy does not allow sending files');
  if (file.size > policy.maxBytes) throw new EngineError('FORBIDDEN', `${file.name} is ${file.size.toLocaleString('en-US')} bytes; your organisation's policy allows files up to ${policy.maxBytes.toLocaleString('en-US')}`);
  if (!typeAllowed(policy, file.mime)) throw new EngineError('FORBIDDEN', `your organisation's policy does not allow ${file.mime} files (${file.name})`);
}
