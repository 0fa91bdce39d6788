// Notices (failures and warnings that belong to no form) never cover the controls of the screen they are shown
// over: in a small window, a notice from the workspace is still up when the user goes on to join another
// organisation, and the join button stays visible and clickable, its box clear of every notice's. The screen with
// its notice passes axe-core and is photographed in both themes (join-with-notice-small-window). A real web shell
// and relay, in Chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator } from 'playwright-core';
import { createSession } from '../../core/host/index.ts';
import { startTestServer } from '../support/server-client.ts';
import { assertAccessible, launchBrowser, PASSPHRASE, screenshots, startUserShell, type UserShell } from '../support/web-app.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;
type Box = { x: number; y: number; width: number; height: number };

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Whether a click at the control's centre reaches the control itself, and no notice's box overlaps it. */
async function uncovered(control: Locator, notices: Locator): Promise<{ reached: boolean; overlapping: number }> {
  await control.scrollIntoViewIfNeeded();
  const box = (await control.boundingBox())!;
  const reached = await control.evaluate((el, at) => {
    const hit = el.ownerDocument.elementFromPoint(at.x, at.y);
    return hit !== null && (hit === el || el.contains(hit));
  }, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
  let overlapping = 0;
  for (const notice of await notices.all()) if (overlaps(box, (await notice.boundingBox())!)) overlapping++;
  return { reached, overlapping };
}

describe('notices in a small window (web shell, Chromium)', { timeout: 180_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let shell: UserShell;

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    shell = await startUserShell();
    const api = createSession(shell.host);
    await api.callUntyped('profiles.join', { profile: 'alice', link: relay.firstAdminInvite, username: 'alice', passphrase: PASSPHRASE });
    await api.callUntyped('profiles.select', { profile: 'alice' });
    await api.callUntyped('channels.create', { name: 'general' });
    api.close();
  });
  after(async () => {
    await browser?.close();
    await shell?.close();
    await relay?.close();
  });

  for (const viewport of [{ width: 480, height: 560 }, { width: 800, height: 600 }]) {
    it(`keeps the join button clear of a notice at ${viewport.width}x${viewport.height}`, async () => {
      const context = await browser.newContext({ viewport, colorScheme: 'light' });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      await page.goto(shell.shell.url);
      await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
      // eleven files for one message: the composer keeps ten and says so in a notice
      await page.locator('input[type="file"]').setInputFiles(Array.from({ length: 11 }, (_, i) => ({ name: `note-${i}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`note ${i}`) })));
      const notices = page.locator('.notice');
      await notices.filter({ hasText: 'At most 10 files go in one message' }).waitFor();

      await page.getByRole('button', { name: /^Profiles/ }).click();
      await page.getByRole('button', { name: 'Add another profile' }).click();
      await page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
      assert.equal(await notices.count(), 1, 'the notice is still up');
      const join = page.getByRole('button', { name: 'Join', exact: true });
      assert.deepEqual(await uncovered(join, notices), { reached: true, overlapping: 0 }, 'the join button is clear of the notice');
      assert.equal((await uncovered(page.getByRole('button', { name: 'Dismiss' }), page.locator('.dialog[open]'))).reached, true, 'the notice can be dismissed');
      if (viewport.width < 600) await screenshots(page, 'join-with-notice-small-window');
      await assertAccessible(page, `the join screen with a notice at ${viewport.width}x${viewport.height}`);
      await page.getByRole('button', { name: 'Dismiss' }).click();
      await notices.waitFor({ state: 'detached' });
      await context.close();
    });
  }
});
