// The org policy's rules for files and link previews in the admin's policy form (PolicySection.tsx), and the lines
// that tell everyone what they are. Sizes are typed in MB (of 1024 KB, as the app shows sizes); types as a list.
import type { Response } from '../bridge/index.ts';
import { formatSize } from '../lib/bytes.ts';

type Policy = Response<'policy.get'>['policy'];
const MB = 1024 * 1024;

/** What the form edits: '' in a text field means no rule. */
export interface FileRules {
  files: boolean;
  maxMb: string;
  types: string;
  previewOnly: boolean;
  linkPreviews: boolean;
}

export function fileRulesOf(policy: Policy): FileRules {
  return {
    files: policy.fileSharing !== false,
    maxMb: policy.maxFileBytes === undefined ? '' : String(Number((policy.maxFileBytes / MB).toFixed(2))),
    types: policy.allowedFileTypes?.join(', ') ?? '',
    previewOnly: policy.filePreviewOnly === true,
    linkPreviews: policy.linkPreviews !== false,
  };
}

/** The rules as policy.set fields (null removes a rule); a size that is not a number is the admin's to fix. */
export function fileRulesChange(rules: FileRules) {
  const mb = rules.maxMb.trim();
  if (mb !== '' && !(Number(mb) >= 0)) throw new Error('The largest file is a number of MB (or empty for no limit).');
  const types = rules.types.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  return {
    fileSharing: rules.files ? null : false,
    maxFileBytes: mb === '' ? null : Math.round(Number(mb) * MB),
    allowedFileTypes: types.length > 0 ? types : null,
    filePreviewOnly: rules.previewOnly || null,
    linkPreviews: rules.linkPreviews ? null : false,
  };
}

export function PolicyFileFields({ rules, onChange }: { rules: FileRules; onChange(next: FileRules): void }) {
  const set = (change: Partial<FileRules>) => onChange({ ...rules, ...change });
  return (
    <fieldset className="policy-files">
      <legend>Files and link previews</legend>
      <div className="check">
        <input type="checkbox" id="policy-files" checked={rules.files} onChange={(e) => set({ files: e.target.checked })} />
        <label htmlFor="policy-files">People can send files</label>
      </div>
      <div className="field">
        <label htmlFor="policy-max-file">Largest file, in MB (empty: no limit)</label>
        <input id="policy-max-file" inputMode="decimal" value={rules.maxMb} disabled={!rules.files} onChange={(e) => set({ maxMb: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="policy-file-types">Allowed types (empty: any), e.g. image/*, application/pdf</label>
        <input id="policy-file-types" value={rules.types} disabled={!rules.files} onChange={(e) => set({ types: e.target.value })} />
      </div>
      <div className="check">
        <input type="checkbox" id="policy-preview-only" checked={rules.previewOnly} disabled={!rules.files} onChange={(e) => set({ previewOnly: e.target.checked })} />
        <label htmlFor="policy-preview-only">Files open in the app only, never saved</label>
      </div>
      <div className="check">
        <input type="checkbox" id="policy-link-previews" checked={rules.linkPreviews} onChange={(e) => set({ linkPreviews: e.target.checked })} />
        <label htmlFor="policy-link-previews">Senders can attach link previews</label>
      </div>
    </fieldset>
  );
}

/** The policy's file rules in sentences, for everyone's settings. */
export function describeFileRules(policy: Policy): string[] {
  if (policy.fileSharing === false) return ['Files: not allowed.', `Link previews: ${policy.linkPreviews === false ? 'off' : 'on'}.`];
  return [
    `Files: ${policy.maxFileBytes !== undefined ? `up to ${formatSize(policy.maxFileBytes)}` : 'any size the relay takes'}${policy.allowedFileTypes ? `, only ${policy.allowedFileTypes.join(', ')}` : ''}${policy.filePreviewOnly ? ', open in the app only' : ''}.`,
    `Link previews: ${policy.linkPreviews === false ? 'off' : 'on'}.`,
  ];
}
