// orgKey.export and orgKey.import: the org key's backup as a file (protocol/org-key-backup.ts seals it) and the code
// that opens it, shown once. The file alone opens nothing; the code alone is no key. With both, an admin's new or
// restored device signs policy changes as the first admin device did, and the org survives losing that device.
// orgKey.share sends it, end to end, to the account's own other devices (a newly linked one), as an `org-key`
// payload that a device keeps only from its own account (inbound/payloads.ts) and only for the key it pinned.
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../../api/dispatch.ts';
import { fromBase64Url, signingKeyPair, toBase64Url, type SigningKeyPair } from '../../crypto/sodium.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { openOrgKey, sealOrgKey } from '../../protocol/org-key-backup.ts';
import type { EngineContext } from '../context.ts';
import { EngineError } from '../errors.ts';
import type { Outbound } from '../outbound/fanout.ts';
import type { OrgPolicy } from './policy.ts';

type OrgKeyHandlers = Pick<Handlers, 'orgKey.export' | 'orgKey.import' | 'orgKey.share'>;

const PREFIX = 'WOK1.';
/** A backup is a line of about 150 characters: anything far longer is not one. */
const MAX_FILE_BYTES = 4096;

const absolute = (file: string, what: string) => {
  if (!path.isAbsolute(file)) throw new EngineError('INVALID', `the ${what} must be given as an absolute path`);
  return file;
};

/** The org key this device holds, or FORBIDDEN saying where it is. */
async function heldKey(policy: OrgPolicy, what: string): Promise<SigningKeyPair> {
  const keys = await policy.orgKeyPair();
  if (!keys) throw new EngineError('FORBIDDEN', `this device does not hold the organisation key: ${what} it on the admin device that registered it (or holds its backup)`);
  return keys;
}

/** What a device does with an org key its own account's other device sent. */
export const orgKeyFromOwnDevice = (policy: OrgPolicy) => (seed: Uint8Array) => policy.installOrgKey(signingKeyPair(seed), 'this account\'s other device');

export function orgKeyHandlers(ctx: EngineContext, policy: OrgPolicy, outbound: Outbound): OrgKeyHandlers {
  return {
    'orgKey.share': async () => {
      const keys = await heldKey(policy, 'share');
      const devices = (await outbound.currentDevices(ctx.username)).devices.filter((d) => d !== ctx.deviceId);
      if (devices.length === 0) throw new EngineError('NOT_FOUND', 'this account has no other device to send the organisation key to: link one first');
      // the seed only: the receiver derives the pair and checks it against the org key it pinned
      await ctx.lane.run(() => outbound.queueControl(ctx.username, { kind: 'org-key', seed: keys.secretKey.slice(0, 32) }));
      await outbound.flushBounded();
      return { devices: devices.length };
    },
    'orgKey.export': async ({ out }) => {
      const keys = await heldKey(policy, 'export');
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
      await policy.installOrgKey(keys, 'its backup');
      return { org: policy.orgFingerprint! };
    },
  };
}
