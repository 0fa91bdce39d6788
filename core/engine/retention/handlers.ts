// The compliance archive's commands: sync (archive mode on, what is pending processed) and export.
import path from 'node:path';
import type { Handlers } from '../../api/dispatch.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import type { Archive } from './archive.ts';
import type { Retention } from './retention.ts';

type ArchiveHandlers = Pick<Handlers, 'archive.sync' | 'archive.export'>;

export interface ArchiveSteps {
  /** The org policy fetched afresh (a relay that serves a bad one is said in the log; the kept one stays). */
  refreshPolicy(): Promise<void>;
  /** What the relay holds, received and committed (sync.now). */
  syncNow(): Promise<unknown>;
}

export function archiveHandlers(ctx: EngineContext, archive: Archive, retention: Retention, steps: ArchiveSteps): ArchiveHandlers {
  const status = async () => {
    const { on, archiveAccount } = retention.state;
    const fingerprint = archive.fingerprint;
    return {
      archiving: retention.archiving,
      retention: { on, ...(archiveAccount ? { archiveAccount } : {}), ...(retention.notice ? { notice: retention.notice } : {}) },
      records: await archive.count(),
      ...(fingerprint ? { fingerprint } : {}),
    };
  };
  return {
    'archive.sync': async () => {
      await retention.enterArchiveMode();
      await steps.refreshPolicy().catch((error: Error) => ctx.problem(error));
      await steps.syncNow();
      await retention.joinAsArchive().catch((error: Error) => ctx.problem(error));
      // the files of what arrived, fetched before the relay lets them go (their messages may expire soon)
      await archive.files.fetchPending();
      return status();
    },
    'archive.export': async ({ out }) => {
      if (!path.isAbsolute(out)) throw new EngineError('INVALID', 'the export file must be given as an absolute path');
      if (!retention.archiving) throw new EngineError('FORBIDDEN', 'this profile is not the archive: run wardroom archive run (or sync) on the archive account first');
      return { ...(await archive.export(out)), file: out };
    },
  };
}
