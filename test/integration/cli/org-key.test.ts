// The org key's backup from the command line: the real `wardroom` binary against a real relay process. The admin
// exports it (the code printed once), restores the account on a new profile with the recovery kit, imports the key
// there (the code from standard input, never argv) and changes the policy, which another member then enforces.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliOrg, wardroom, type CliOrg, type CliRun } from '../../support/cli.ts';

const ok = (run: CliRun, what: string) => assert.equal(run.code, 0, `${what}: ${run.stderr}`);

describe('wardroom org-key (real relay, real binary)', () => {
  let org: CliOrg;
  before(async () => {
    org = await cliOrg(['admin', 'alice']);
    ok(await org.as('admin', ['policy', 'set', '--max-expire', '7d']), 'the first policy registers the org key');
  });
  after(() => org?.close());

  it('exports the key with a code shown once, and a profile restored from the recovery kit imports it and signs the policy', async () => {
    const backup = path.join(org.root, 'org.key');
    const exported = await org.as('admin', ['org-key', 'export', '--out', backup]);
    ok(exported, 'export');
    const code = /^ {2}([A-Z2-7-]{40,})$/m.exec(exported.stdout)?.[1];
    assert.ok(code, exported.stdout);
    assert.equal((await org.as('admin', ['org-key', 'import', backup])).stderr, 'wardroom: org-key import needs --code-file CODEFILE (or --code-file - to read the code from standard input)\n');

    const restored = path.join(org.root, 'admin-restored');
    const invite = (await org.as('admin', ['invite'])).stdout.trim();
    ok(await wardroom(['--profile', restored, 'link', invite, '--username', 'admin', '--recovery-kit-file', '-'], { stdin: `${org.recoveryKit('admin')}\n` }), 'restore with the kit');
    const refused = await wardroom(['--profile', restored, 'policy', 'set', '--max-expire', '1d']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /wardroom org-key import/);
    const wrong = await wardroom(['--profile', restored, 'org-key', 'import', backup, '--code-file', '-'], { stdin: `${code!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}\n` });
    assert.equal(wrong.code, 1);
    const imported = await wardroom(['--profile', restored, 'org-key', 'import', backup, '--code-file', '-'], { stdin: `${code}\n` });
    ok(imported, 'import');
    assert.match(imported.stdout, /^org key [A-Za-z0-9_-]{43} restored: this device can sign policy changes/);
    ok(await wardroom(['--profile', restored, 'policy', 'set', '--max-expire', '1d']), 'policy set on the restored profile');
    const shown = await org.as('alice', ['policy', 'show']);
    ok(shown, 'policy show');
    assert.match(shown.stdout, /^ {2}max expiry: 1 day$/m);
  });
});
