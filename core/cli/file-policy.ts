// The org policy's file and link preview rules on the command line: `policy set --files off --max-file-size 100MB
// --allowed-types image/*,application/pdf --preview-only --link-previews off`, and the lines `policy show` prints.
import { MediaTypePattern } from '../api/contract.ts';
import { neutralise } from './format.ts';

/** The flags this module reads, as parseArgs gives them. */
export interface FilePolicyFlags {
  files?: string | undefined;
  'max-file-size'?: string | undefined;
  'allowed-types'?: string | undefined;
  'preview-only'?: boolean | undefined;
  'no-preview-only'?: boolean | undefined;
  'link-previews'?: string | undefined;
}

export interface FilePolicyFields {
  fileSharing?: boolean | null | undefined;
  maxFileBytes?: number | null | undefined;
  allowedFileTypes?: string[] | null | undefined;
  filePreviewOnly?: boolean | null | undefined;
  linkPreviews?: boolean | null | undefined;
}

/** A flag's problem in its own name (main.ts turns it into a usage error, exit code 2). */
export class FilePolicyFlagError extends Error {
  override readonly name = 'FilePolicyFlagError';
}

// as the app shows sizes (renderer/src/lib/bytes.ts): a KB is 1024 bytes; KiB and friends are accepted as the same
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Bytes for `100MB`, `1.5GB`, `512KB` or `1000`; throws FilePolicyFlagError naming the flag otherwise. */
export function parseSize(flag: string, text: string): number {
  const match = /^\s*(\d{1,12}(?:\.\d{1,3})?)\s*([a-z]{0,3})\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new FilePolicyFlagError(`--${flag}: "${text.slice(0, 40)}" is not a size: write it like 100MB, 1.5GB or 512KB`);
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new FilePolicyFlagError(`--${flag}: ${text.slice(0, 40)} is too large`);
  return bytes;
}

/** "100 MB", "1.5 GB", "512 B": the policy's sizes as people read them. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

const onOff = (flag: string, value: string | undefined): boolean | undefined => {
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw new FilePolicyFlagError(`--${flag} takes on or off`);
  return value === 'on';
};

/** The file flags as policy.set fields (only those given; `off`, `any` and --no-preview-only remove a rule). */
export function filePolicyChange(flags: FilePolicyFlags): FilePolicyFields {
  if (flags['preview-only'] && flags['no-preview-only']) throw new FilePolicyFlagError('give --preview-only or --no-preview-only, not both');
  const files = onOff('files', flags.files);
  const linkPreviews = onOff('link-previews', flags['link-previews']);
  const size = flags['max-file-size'];
  const types = flags['allowed-types'];
  return {
    ...(files !== undefined ? { fileSharing: files } : {}),
    ...(size !== undefined ? { maxFileBytes: size === 'off' ? null : parseSize('max-file-size', size) } : {}),
    ...(types !== undefined ? { allowedFileTypes: types === 'any' ? null : mediaTypes(types) } : {}),
    ...(flags['preview-only'] ? { filePreviewOnly: true } : flags['no-preview-only'] ? { filePreviewOnly: null } : {}),
    ...(linkPreviews !== undefined ? { linkPreviews } : {}),
  };
}

function mediaTypes(list: string): string[] {
  const types = list.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  if (types.length === 0) throw new FilePolicyFlagError('--allowed-types takes a list such as image/*,application/pdf (or any)');
  for (const type of types) {
    if (!MediaTypePattern.safeParse(type).success) throw new FilePolicyFlagError(`--allowed-types: ${neutralise(type.slice(0, 60))} is not a media type such as image/png or image/*`);
  }
  return [...new Set(types)];
}

/** `policy show`'s lines about files and link previews: said once the policy names any of them. */
export function filePolicyLines(policy: FilePolicyFields): string[] {
  const { fileSharing, maxFileBytes, allowedFileTypes, filePreviewOnly, linkPreviews } = policy;
  if ([fileSharing, maxFileBytes, allowedFileTypes, filePreviewOnly, linkPreviews].every((field) => field === undefined || field === null)) return [];
  if (fileSharing === false) return ['  files: off', `  link previews: ${linkPreviews === false ? 'off' : 'on'}`];
  return [
    `  files: on${filePreviewOnly ? ', open in the app only (no saving)' : ''}`,
    `  largest file: ${typeof maxFileBytes === 'number' ? formatSize(maxFileBytes) : 'no limit but the relay\'s'}`,
    `  file types: ${allowedFileTypes ? allowedFileTypes.map((t) => neutralise(t)).join(', ') : 'any'}`,
    `  link previews: ${linkPreviews === false ? 'off' : 'on'}`,
  ];
}
