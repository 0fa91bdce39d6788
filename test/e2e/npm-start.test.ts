// `npm start` as a new user meets it (scripts/start.ts in its own process): where Electron's binary is missing it
// says so in one line and starts the web shell; with no relay configured it starts an embedded relay (TLS, its pin
// in the invite) and the join screen offers its first admin invite, so joining leads straight into a working
// workspace. Started again on the same app data directory, the relay keeps its address and the profile unlocks.
// The shell's page opened without the launch token says how to open it instead. An invite link given to `npm start`
// (the link itself, as the OS hands a wardroom:// deep link to Electron, or `--join LINK`) opens the join flow with it
// filled in, in place of the embedded relay's invite; a link that is not an invite is one line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT } from '../../scripts/build-renderer.ts';
import { startTestServer, tempDir } from '../support/server-client.ts';
import { eventually, launchBrowser, openApp, PASSPHRASE } from '../support/web-app.ts';

const START = path.join(ROOT, 'scripts', 'start.ts');
const electronMissing = !existsSync(path.join(ROOT, 'node_modules', 'electron', 'dist'));

interface Started {
  child: ChildProcess;
  lines: string[];
  url: string;
  exited: Promise<number | null>;
}

/** Starts `npm start`'s script and waits for the address it prints. */
async function start(appDir: string, extra: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [START, '--profile-dir', appDir, ...(electronMissing ? [] : ['--web']), ...extra], {
    env: { ...process.env, WARDROOM_KDF: 'interactive' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      const found = lines.map((l) => /^\s+(http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}(?:&join=[A-Za-z0-9%._~-]+)?)$/.exec(l)?.[1]).find(Boolean);
      if (found) resolve(found);
    });
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before printing its address: ${lines.join('\n')}\n${stderr}`)));
  });
  return { child, lines, url, exited };
}

async function stop(started: Started): Promise<void> {
  started.child.kill('SIGTERM');
  assert.equal(await started.exited, 0, 'npm start stops cleanly on SIGTERM');
}

describe('npm start', { timeout: 180_000 }, () => {
  let browser: Browser;
  const appDir = tempDir('wardroom-start-');

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('starts the web shell and an embedded relay; the join screen offers its invite, and joining gets to a working workspace', async () => {
    const started = await start(appDir);
    if (electronMissing) {
      assert.equal(started.lines[0], 'Electron\'s binary is not installed here (node_modules/electron/dist is missing): starting the web shell instead.');
    }
    assert.ok(started.lines.some((l) => /^Embedded relay: https:\/\/127\.0\.0\.1:\d+ /.test(l)), started.lines.join('\n'));

    const { page, problems } = await openApp(browser, started.url);
    const invite = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    assert.match(invite, /^wardroom:\/\/join\?server=https%3A%2F%2F127\.0\.0\.1%3A\d+&pin=/, 'the embedded relay\'s invite, pinned');
    await page.getByRole('textbox', { name: 'Username' }).fill('ada');
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByLabel('I stored my recovery kit somewhere safe').check({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Continue to Wardroom' }).click();
    const connection = page.getByRole('status', { name: /^Connection:/ });
    await eventually(async () => (await connection.getAttribute('data-state')) === 'online', 'the embedded relay to be online');
    await page.getByRole('button', { name: 'Create a channel' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('general');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();

    const bare = await openApp(browser, started.url.replace(/#.*$/, ''));
    await bare.page.getByRole('heading', { name: 'Open Wardroom from its own link' }).waitFor();
    await bare.context.close();
    assert.deepEqual(problems, []);
    await stop(started);
  });

  it('started again, keeps the relay\'s address and unlocks the profile; bad options are one line', async () => {
    const port = JSON.parse(readFileSync(path.join(appDir, 'relay', 'embedded-relay.json'), 'utf8')) as { port: number };
    const started = await start(appDir);
    assert.ok(started.lines.some((l) => l.startsWith(`Embedded relay: https://127.0.0.1:${port.port} `)), 'the same relay address');
    assert.ok(!existsSync(path.join(appDir, 'relay', 'first-admin-invite')), 'the used invite is forgotten once a profile exists');
    const { page } = await openApp(browser, started.url);
    await page.getByRole('heading', { name: 'Wardroom is locked' }).waitFor();
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
    await eventually(async () => (await page.getByRole('status', { name: /^Connection:/ }).getAttribute('data-state')) === 'online', 'the relay to be online again');
    await stop(started);

    const bad = spawn(process.execPath, [START, '--relay', 'ftp://example.com'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    assert.equal(await new Promise((resolve) => bad.once('exit', resolve)), 2);
    assert.equal(stderr, 'npm start: --relay is the relay\'s https:// address\nusage: npm start [-- --profile-dir DIR] [--relay URL] [--port N] [--web] [--join LINK | LINK]\n');
  });

  it('opens the join flow with an invite link given as the deep link itself or --join, and joins with it', async () => {
    const relay = await startTestServer();
    try {
      const invite = relay.firstAdminInvite!;
      const started = await start(tempDir('wardroom-start-link-'), [invite]);
      assert.ok(started.lines.includes('The app opens on the join flow with your invite link filled in.'), started.lines.join('\n'));
      const { page, problems } = await openApp(browser, started.url);
      await page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
      assert.equal(await page.getByRole('textbox', { name: 'Invite link' }).inputValue(), invite, 'the link given, not the embedded relay\'s invite');
      await page.getByText('From the link you opened.').waitFor();
      assert.doesNotMatch(page.url(), /join|token/, 'the link and the token left the address bar');
      await page.getByRole('textbox', { name: 'Username' }).fill('grace');
      await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
      await page.getByLabel('Passphrase again').fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByLabel('I stored my recovery kit somewhere safe').check({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Continue to Wardroom' }).click();
      await eventually(async () => (await page.getByRole('status', { name: /^Connection:/ }).getAttribute('data-state')) === 'online', 'the given relay to be online');
      assert.deepEqual(problems, []);
      await stop(started);

      const flagged = await start(tempDir('wardroom-start-link-'), ['--join', invite]);
      const again = await openApp(browser, flagged.url);
      await again.page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
      assert.equal(await again.page.getByRole('textbox', { name: 'Invite link' }).inputValue(), invite);
      await again.context.close();
      await stop(flagged);
    } finally {
      await relay.close();
    }

    const bad = spawn(process.execPath, [START, '--join', 'wardroom://join?server=nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    assert.equal(await new Promise((resolve) => bad.once('exit', resolve)), 2);
    assert.match(stderr, /^npm start: that is not an invite link: .+\nusage: npm start /);
  });
});
