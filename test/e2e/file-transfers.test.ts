// Transfers stopped by the person who started them, in the app (web shell in Chromium, real relay on loopback): an
// upload cancelled from the composer's progress leaves nothing staged in Alice's profile, no blob at the relay and
// no message for Bob; a file Bob saves while the relay is down shows its progress, says it waits for the relay, and
// cancelled saves nothing and keeps nothing in his vault; with the relay back the same Save brings it byte for byte.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { aliceAndBob, messageWith, say, sidebarItem, type Person } from '../support/e2e-people.ts';
import { startTestServer, tempDir } from '../support/server-client.ts';
import { checkScreen, launchBrowser, openApp, type AppPage } from '../support/web-app.ts';

const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length : 0);

describe('cancelling file transfers in the app (web shell, Chromium)', { timeout: 300_000 }, () => {
  const relayDir = tempDir();
  let relay: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  let people: { alice: Person; bob: Person };
  let alice: AppPage;
  let bob: AppPage;
  const profileOf = (person: Person, name: string) => path.join(person.shell.appDir, 'profiles', name);
  const downloads: string[] = [];

  before(async () => {
    relay = await startTestServer({ dataDir: relayDir, maxBlobBytes: 256 * 1024 * 1024 });
    browser = await launchBrowser();
    people = await aliceAndBob(relay.firstAdminInvite!);
    const channel = (await people.alice.api.callUntyped('channels.create', { name: 'quay' }) as { id: string }).id;
    await people.alice.api.callUntyped('channels.add', { conversation: channel, username: 'bob' });
    [alice, bob] = [await openApp(browser, people.alice.shell.shell.url), await openApp(browser, people.bob.shell.shell.url)];
    for (const { page } of [alice, bob]) {
      await sidebarItem(page, /^#quay/).click();
      await page.getByRole('heading', { name: '#quay', level: 1 }).waitFor();
    }
    bob.page.on('download', (download) => downloads.push(download.suggestedFilename()));
  });
  after(async () => {
    await browser?.close();
    await people?.alice.close();
    await people?.bob.close();
    await relay?.close();
  });

  const attach = (page: Page, name: string, bytes: Buffer) => page.locator('.composer input[type=file]').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: bytes });

  it('an upload cancelled from its progress leaves nothing staged, nothing at the relay, and no message', async () => {
    const blobs = filesIn(path.join(relayDir, 'blobs'));
    // a file large enough to take a while to stage, made in the page and dropped on the composer (handing the page
    // 48 MB through the browser's protocol is itself slow on a loaded machine)
    type PageGlobals = { DataTransfer: new () => { items: { add(file: unknown): void } } };
    const dropped = await alice.page.evaluateHandle((size) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) bytes[i] = i & 0xff;
      const data = new (globalThis as unknown as PageGlobals).DataTransfer();
      data.items.add(new File([bytes], 'manifest.bin', { type: 'application/octet-stream' }));
      return data;
    }, 48 * 1024 * 1024);
    await alice.page.locator('.composer').dispatchEvent('drop', { dataTransfer: dropped });
    await alice.page.getByRole('list', { name: 'Files to send' }).getByText('manifest.bin').waitFor();
    await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
    const cancel = alice.page.getByRole('list', { name: 'Uploads' }).getByRole('button', { name: 'Cancel sending manifest.bin' });
    await cancel.click();
    await alice.page.getByRole('list', { name: 'Uploads' }).waitFor({ state: 'detached' });
    await say(alice.page, 'after the cancel');
    await messageWith(bob.page, 'after the cancel').waitFor();
    assert.equal(await bob.page.getByRole('log').getByText('manifest.bin').count(), 0, 'Bob got no file');
    assert.equal(await alice.page.getByRole('log').getByText('manifest.bin').count(), 0, 'nor does Alice\'s list show one');
    assert.equal(filesIn(path.join(profileOf(people.alice, 'alice'), 'staging')), 0, 'nothing left staged in Alice\'s profile');
    assert.equal(filesIn(path.join(relayDir, 'blobs')), blobs, 'no blob left at the relay');
    assert.equal(await alice.page.getByText(/failed/).count(), 0, 'a cancel is not reported as a failure');
  });

  it('a save while the relay is down shows its progress and that it waits; cancelled, nothing is saved or kept', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    await attach(alice.page, 'tides.bin', bytes);
    await say(alice.page, 'the tide tables');
    const files = messageWith(bob.page, 'the tide tables').getByRole('list', { name: 'Files' });
    await files.getByRole('button', { name: 'Save tides.bin' }).waitFor({ timeout: 30_000 });
    const attachments = path.join(profileOf(people.bob, 'bob'), 'attachments');
    const held = filesIn(attachments);

    const port = relay.port;
    await relay.close();
    await files.getByRole('button', { name: 'Save tides.bin' }).click();
    const transfer = files.getByRole('status').filter({ hasText: 'tides.bin' });
    await transfer.getByText('Waiting for the relay to fetch tides.bin').waitFor({ timeout: 30_000 });
    assert.equal(await transfer.getByRole('progressbar', { name: 'Fetching tides.bin' }).count(), 1);
    await checkScreen(bob.page, 'file-fetch-waiting');
    await transfer.getByRole('button', { name: 'Cancel fetching tides.bin' }).click();
    await transfer.waitFor({ state: 'detached' });
    assert.deepEqual(downloads, [], 'nothing was saved');
    assert.equal(filesIn(attachments), held, 'nothing kept in Bob\'s vault');
    assert.equal(await bob.page.getByText(/failed/).count(), 0, 'a cancel is not reported as a failure');

    relay = await startTestServer({ dataDir: relayDir, port, maxBlobBytes: 256 * 1024 * 1024 });
    const [download] = await Promise.all([bob.page.waitForEvent('download', { timeout: 60_000 }), files.getByRole('button', { name: 'Save tides.bin' }).click()]);
    assert.deepEqual(readFileSync((await download.path())!), bytes, 'with the relay back, the same Save brings it whole');
  });

  it('caused no page error, CSP or Trusted Types violation', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});
