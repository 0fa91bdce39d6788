// The org policy's rules for files, as this device enforces them: read from the org policy in force (ctx.policy,
// policy/policy.ts: verified under the org key this profile pinned, the highest version kept, so a relay cannot
// loosen them). The relay enforces the size and the switch itself; allowed types and preview-only only clients can.
import path from 'node:path';
import type { z } from 'zod';
import type { FilePolicyView } from '../../api/contract.ts';
import { EngineError } from '../errors.ts';
import type { PolicyDocument } from '../policy/document.ts';
import { MAX_FILE_BYTES } from './blob-format.ts';
import { typeOfName } from './names.ts';

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

/** Sending a file, or receiving one (opening it in the app or saving it): said in the refusal. */
export type FileUse = 'send' | 'receive';
const DOING: Record<FileUse, string> = { send: 'sending', receive: 'opening or saving' };

/**
 * The types a file counts as: the one its sender declared, and the one its name gives it. A saved file is opened by
 * its name, so "tool.exe" declared image/png is judged as a program too (a name with no extension adds nothing).
 */
function typesOf(file: { name: string; mime: string }): string[] {
  const named = path.extname(file.name) ? typeOfName(file.name) : file.mime;
  return named === file.mime ? [file.mime] : [file.mime, named];
}

/** Refuses, in the user's terms, files when they are off, and a file above the size the policy allows. */
export function checkFileSize(policy: FilePolicy, file: { name: string; size: number }, use: FileUse): void {
  if (!policy.enabled) throw new EngineError('FORBIDDEN', `your organisation's policy does not allow ${DOING[use]} files`);
  if (file.size > policy.maxBytes) throw new EngineError('FORBIDDEN', `${file.name} is ${file.size.toLocaleString('en-US')} bytes; your organisation's policy allows files up to ${policy.maxBytes.toLocaleString('en-US')}`);
}

/** Refuses a file the policy does not allow, in the user's terms: the sender's device and every receiver's judge it. */
export function checkFile(policy: FilePolicy, file: { name: string; mime: string; size: number }, use: FileUse): void {
  checkFileSize(policy, file, use);
  const refused = typesOf(file).find((type) => !typeAllowed(policy, type));
  if (refused) throw new EngineError('FORBIDDEN', `your organisation's policy does not allow ${refused} files (${file.name})`);
}
