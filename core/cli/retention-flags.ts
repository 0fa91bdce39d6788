// `policy set --retention on|off --archive-account NAME`: the record-keeping part of a policy change, checked before
// any profile is opened (docs/retention.md).
export class RetentionFlagError extends Error {
  override readonly name = 'RetentionFlagError';
}

/** The policy.set fields the retention flags ask for (none when neither is given). */
export function retentionChange(flags: { retention?: string | undefined; 'archive-account'?: string | undefined }): { retention?: boolean; archiveAccount?: string } {
  const change: { retention?: boolean; archiveAccount?: string } = {};
  if (flags.retention !== undefined) {
    if (flags.retention !== 'on' && flags.retention !== 'off') throw new RetentionFlagError('--retention takes on or off');
    change.retention = flags.retention === 'on';
  }
  if (flags['archive-account'] !== undefined) change.archiveAccount = flags['archive-account'].replace(/^@/, '');
  return change;
}
