// The fuses the packaging step flips before signing (build/fuses.ts): each one the security checklist names, with
// the value it must have. @electron/fuses is not installed, so the list is checked as the checklist it is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FUSES } from '../../../build/fuses.ts';

describe('electron: fuses', () => {
  it('turn off running as Node, NODE_OPTIONS and inspect, and turn on cookie encryption and the checked asar', () => {
    assert.deepEqual(Object.fromEntries(FUSES.map((f) => [f.fuse, f.value])), {
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableCookieEncryption: true,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      GrantFileProtocolExtraPrivileges: false,
    });
    assert.ok(FUSES.every((f) => f.why.length > 20), 'each says why');
  });
});
