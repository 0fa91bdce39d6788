// `npm start` where Electron's binary is installed: it starts the embedded relay and hands the desktop app the app
// data directory, the relay's first admin invite and any join link, keeps the relay up while the app runs, and ends
// with the app's exit code. Electron's runtime cannot run here, so a stand-in binary takes its place (through
// ELECTRON_OVERRIDE_DIST_PATH, the electron package's own switch): it records its command line, checks the relay
// answers on the port the invite names, and exits with a code of its own. What the real main process then does
// with those options is electron/launch-options.ts, tested in test/unit/electron/launch-options.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseInviteLink } from '../../../core/relay/invite-link.ts';
import { deepLinkInArgv } from '../../../electron/deep-links.ts';
import { launchOptions } from '../../../electron/launch-options.ts';
import { ROOT } from '../../../scripts/build-renderer.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';

const STAND_IN_EXIT = 7;

/** A directory holding an `electron` that records what it was given. */
function standIn(): { dir: string; record: string } {
  const dir = tempDir('wardroom-electron-stand-in-');
  const record = path.join(dir, 'argv.json');
  const script = path.join(dir, 'stand-in.mjs');
  writeFileSync(script, `
import net from 'node:net';
import { writeFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const invite = argv.find((a) => a.startsWith('--first-invite='));
const server = invite ? new URL(new URLSearchParams(invite.slice(invite.indexOf('?') + 1)).get('server')) : null;
const relayUp = server ? await new Promise((resolve) => net.connect(Number(server.port), server.hostname).once('connect', function () { this.end(); resolve(true); }).once('error', () => resolve(false))) : null;
writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv, relayUp }));
process.exit(${STAND_IN_EXIT});
`);
  const binary = path.join(dir, 'electron');
  writeFileSync(binary, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`);
  chmodSync(binary, 0o755);
  return { dir, record };
}

function npmStart(args: string[], electronDir: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.ts'), ...args], {
    env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: electronDir }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}

describe('npm start with Electron installed (a stand-in binary)', { timeout: 120_000 }, () => {
  it('hands the desktop app its data directory, the embedded relay\'s invite and the join link, with the relay up', async () => {
    const electron = standIn();
    const appDir = tempDir('wardroom-start-desktop-');
    const other = await startTestServer();
    try {
      const { code, stdout } = await npmStart(['--profile-dir', appDir, '--join', other.firstAdminInvite!], electron.dir);
      assert.equal(code, STAND_IN_EXIT, `npm start ends with the app's exit code: ${stdout}`);
      assert.doesNotMatch(stdout, /web shell/, 'no fallback to the web shell');
      const { argv, relayUp } = JSON.parse(readFileSync(electron.record, 'utf8')) as { argv: string[]; relayUp: boolean };
      assert.equal(argv[0], path.join(ROOT, 'electron', 'main.ts'));
      const options = launchOptions(argv);
      assert.equal(options.profileDir, appDir);
      const embedded = parseInviteLink(options.firstInvite!);
      assert.match(embedded.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(stdout, new RegExp(`Embedded relay: ${embedded.server.replace(/[.]/g, '\\.')} `));
      assert.equal(relayUp, true, 'the embedded relay answers while the app runs');
      assert.equal(deepLinkInArgv(argv), other.firstAdminInvite, 'the join link, as the OS hands a deep link over');
    } finally {
      await other.close();
    }
  });
});
