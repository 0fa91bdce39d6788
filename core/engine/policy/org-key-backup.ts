// orgKey.export and orgKey.import: the org key's backup as a file (protocol/org-key-backup.ts seals it) and the code
// that opens it, shown once. The file alone opens nothing; the code alone is no key. With both, an admin's new or
// restored device signs policy changes as the first admin device did, and the org survives losing that device.
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../../api/dispatch.ts';
import { fromBase64Url, toBase64Url } from '../../crypto/sodium.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { openOrgKey, sealOrgKey } from '../../protocol/org-key-backup.ts';
import { EngineError } from '../errors.ts';
import type { OrgPolicy } from './policy.ts';

type OrgKeyHandlers = Pick<Handlers, 'orgKey.export' | 'orgKey.import'>;

const PREFIX = 'WOK1.';
/** A backup is a line of about 150 characters: anything far longer is not one. */
const MAX_FILE_BYTES = 4096;

const absolute = (file: string, what: string) => {
  if (!path.isAbsolute(file)) throw new EngineError('INVALID', `the ${what} must be given as an absolute path`);
  return file;
};

export function orgKeyHandlers(policy: OrgPolicy): OrgKeyHandlers {
  return {
    'orgKey.export': async ({ out }) => {
      const keys = await policy.orgKeyPair();
      if (!keys) throw new EngineError('FORBIDDEN', 'this device does not hold the organisation key: export it on the admin device that registered it (or holds its backup)');
      const { backup, code } = sealOrgKey(keys);
      const handle = await open(absolute(out, 'backup file'), 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
        throw new EngineError('INVALID', error.code === 'EEXIST' ? `${out} exists already: choose a new file` : `cannot write ${out}: ${error.code ?? 'failed'}`);
      });
      try {
        await handle.writeFile(`${PREFIX}${toBase64Url(backup)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { file: out, code, org: policy.orgFingerprint! };
    },
    'orgKey.import': async ({ file, code }) => {
      const text = await readFile(absolute(file, 'backup file'), 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new EngineError('NOT_FOUND', `cannot read ${file}: ${error.code ?? 'failed'}`);
      });
      const line = text.length > MAX_FILE_BYTES ? '' : text.trim();
      if (!line.startsWith(PREFIX) || !/^[A-Za-z0-9_-]+$/.test(line.slice(PREFIX.length))) throw new EngineError('INVALID', `${file} is not an org key backup (it starts with ${PREFIX})`);
      let keys;
      try {
        keys = openOrgKey(fromBase64Url(line.slice(PREFIX.length)), code);
      } catch (error) {
        if (error instanceof ProtocolError) throw new EngineError('INVALID', error.code === 'DECRYPT_FAILED' ? 'the code does not open that backup (check it)' : `that backup is damaged or the code mistyped (${error.message})`);
        throw error;
      }
      await policy.installOrgKey(keys);
      return { org: policy.orgFingerprint! };
    },
  };
}
