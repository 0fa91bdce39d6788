// Where a long history puts the user, end to end (a web shell each, a real relay on loopback, Chromium): the
// "Jump to first unread" button goes once the first unread message has been on screen (as Slack's "new messages"
// pill does), and is not offered when it is on screen from the start; sending while scrolled far back (older pages
// loaded, the bounded window without the newest end) jumps to the newest and shows the message sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Session } from '../../core/host/index.ts';
import { aliceAndBob, inView, mainList, row, say, sidebarItem, type Person } from '../support/e2e-people.ts';
import { startTestServer } from '../support/server-client.ts';
import { eventually, launchBrowser, openApp, type AppPage } from '../support/web-app.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;

/** More than the renderer's window holds (300): paging back to the oldest drops the newest end. */
const LONG = 340;

async function open(page: Page, channel: string): Promise<void> {
  await sidebarItem(page, new RegExp(`^#${channel}`)).click();
  await page.getByRole('heading', { name: `#${channel}`, level: 1 }).waitFor();
}

describe('long histories in the desktop app (web shell, Chromium)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let people: { alice: Person; bob: Person } | undefined;
  let alice: AppPage;
  let aliceApi: Session;
  let bobApi: Session;
  const channels: Record<string, string> = {};

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    people = await aliceAndBob(relay.firstAdminInvite!);
    ({ api: aliceApi } = people.alice);
    ({ api: bobApi } = people.bob);
    for (const name of ['general', 'short', 'long']) {
      channels[name] = (await aliceApi.callUntyped('channels.create', { name }) as { id: string }).id;
      await aliceApi.callUntyped('channels.add', { conversation: channels[name], username: 'bob' });
    }
    alice = await openApp(browser, people.alice.shell.shell.url);
    await open(alice.page, 'general');
  });
  after(async () => {
    await browser?.close();
    await people?.alice.close();
    await people?.bob.close();
    await relay?.close();
  });

  const jumpToUnread = () => alice.page.getByRole('button', { name: /^Jump to first unread/ });
  const jumpToNewest = () => alice.page.getByRole('button', { name: 'Jump to the newest' });

  it('offers no jump to the first unread when it is on screen already', async () => {
    for (const text of ['short one', 'short two']) await bobApi.callUntyped('messages.send', { conversation: channels.short, text });
    await sidebarItem(alice.page, /^#short, 2 unread$/).waitFor();
    await open(alice.page, 'short');
    await alice.page.getByRole('separator', { name: 'New messages' }).waitFor();
    await eventually(async () => inView(row(alice.page, 'short one'), mainList(alice.page)), 'the first unread in view');
    await eventually(async () => (await jumpToUnread().count()) === 0, 'no jump to what is on screen');
    await open(alice.page, 'general');
  });

  it('takes the jump to the first unread away once the first unread has been on screen, and a send far back jumps to the newest', async () => {
    for (let i = 1; i <= LONG; i++) await bobApi.callUntyped('messages.send', { conversation: channels.long, text: `long message ${i}` });
    await sidebarItem(alice.page, new RegExp(`^#long, ${LONG} unread$`)).waitFor({ timeout: 60_000 });
    await open(alice.page, 'long');
    const list = mainList(alice.page);
    await eventually(async () => inView(row(alice.page, `long message ${LONG}`), list), 'the newest in view', 30_000);
    await jumpToUnread().waitFor();
    // scrolled up a page at a time (the list loads the older pages on the way) to the first unread message
    const first = row(alice.page, 'long message 1');
    await eventually(async () => {
      if (await first.count() > 0 && await inView(first, list)) return true;
      await list.evaluate((el) => { el.scrollTop = 0; });
      return false;
    }, 'the first unread message scrolled to', 60_000);
    await eventually(async () => (await jumpToUnread().count()) === 0, 'the jump to the first unread gone once it was seen');

    // far back: the window no longer holds the newest end
    await jumpToNewest().waitFor();
    assert.equal(await row(alice.page, `long message ${LONG}`).count(), 0, 'the newest left the window');
    await say(alice.page, 'sent from far back');
    await eventually(async () => inView(row(alice.page, 'sent from far back'), list), 'the message sent in view', 15_000);
    await eventually(async () => (await jumpToNewest().count()) === 0, 'at the newest again');
    assert.deepEqual(alice.problems, []);
  });
});
