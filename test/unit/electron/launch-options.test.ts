// What the desktop app takes from npm start's command line: its data directory and the embedded relay's first
// invite, among Chromium's own switches and a deep link; anything malformed is ignored, never half taken.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatInviteLink } from '../../../core/relay/invite-link.ts';
import { deepLinkInArgv } from '../../../electron/deep-links.ts';
import { launchOptions } from '../../../electron/launch-options.ts';

const pin = 'p'.repeat(43);
const invite = formatInviteLink({ server: 'https://127.0.0.1:8443', pin, org: null, code: 'A'.repeat(22) });
const join = formatInviteLink({ server: 'https://relay.example', pin, org: null, code: 'B'.repeat(22) });

describe('electron: launch options', () => {
  it('reads the data directory and the first invite beside Chromium switches and a deep link', () => {
    const argv = ['/opt/electron', '/app/main.ts', '--no-sandbox', '--profile-dir=/data/wardroom', `--first-invite=${invite}`, join];
    assert.deepEqual(launchOptions(argv), { profileDir: '/data/wardroom', firstInvite: invite });
    assert.equal(deepLinkInArgv(argv), join, 'the first invite is not taken for the deep link');
  });

  it('ignores a relative directory, an invite that is not one, and missing values', () => {
    assert.deepEqual(launchOptions(['electron', '--profile-dir=data', '--first-invite=https://evil.example/join']), {});
    assert.deepEqual(launchOptions(['electron', '--profile-dir', '--first-invite']), {});
    assert.deepEqual(launchOptions(['electron']), {});
  });
});
