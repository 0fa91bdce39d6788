// Two defects of the workspace seen end to end (a web shell each, a real relay on loopback, Chromium): a reaction
// picked from the emoji picker on a message that arrived while the reacting user was in another conversation
// reaches the other side; and the "New messages" line marks the first unread message of the main list only, never
// a thread reply (those are in the side panel), so replies in a thread alone draw no line in the main list.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Session } from '../../core/host/index.ts';
import { act, aliceAndBob, mainList, row, say, sidebarItem, type Person } from '../support/e2e-people.ts';
import { startTestServer } from '../support/server-client.ts';
import { eventually, launchBrowser, openApp, type AppPage } from '../support/web-app.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;

async function open(page: Page, channel: string): Promise<void> {
  await sidebarItem(page, new RegExp(`^#${channel}`)).click();
  await page.getByRole('heading', { name: `#${channel}`, level: 1 }).waitFor();
}

describe('reactions and unread lines in the desktop app (web shell, Chromium)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let people: { alice: Person; bob: Person } | undefined;
  let alice: AppPage;
  let bob: AppPage;
  let aliceApi: Session;
  let bobApi: Session;
  const channels: Record<string, string> = {};

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    people = await aliceAndBob(relay.firstAdminInvite!);
    ({ api: aliceApi } = people.alice);
    ({ api: bobApi } = people.bob);
    for (const name of ['general', 'releases', 'design']) {
      channels[name] = (await aliceApi.callUntyped('channels.create', { name }) as { id: string }).id;
      await aliceApi.callUntyped('channels.add', { conversation: channels[name], username: 'bob' });
    }
    alice = await openApp(browser, people.alice.shell.shell.url);
    bob = await openApp(browser, people.bob.shell.shell.url);
    await open(alice.page, 'general');
    await open(bob.page, 'releases');
  });
  after(async () => {
    await browser?.close();
    await people?.alice.close();
    await people?.bob.close();
    await relay?.close();
  });

  it('a reaction picked while the emoji data still loads, on a message that arrived elsewhere, reaches the sender', async () => {
    const text = 'the release notes are up';
    await say(bob.page, text);
    await sidebarItem(alice.page, /^#releases, 1 unread/).waitFor();

    // The first picker of a page loads ~700 KB of emoji data: held back here until the search is typed and Enter
    // pressed, as a slow machine does (the pick was dropped silently then, and nothing reached Bob).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await alice.page.route('**/assets/compact-*.js', async (route) => {
      await held;
      await route.continue();
    });
    await open(alice.page, 'releases');
    await act(alice.page, row(alice.page, text), 'Add reaction…');
    const picker = alice.page.getByRole('dialog', { name: 'Add a reaction' });
    const search = picker.getByRole('searchbox', { name: 'Search emoji' });
    await search.fill('thumbs up');
    await search.press('Enter');
    await picker.getByRole('status').filter({ hasText: 'Loading emoji' }).waitFor();
    release();
    await picker.waitFor({ state: 'detached' });
    await row(alice.page, text).getByRole('button', { name: /^👍\S* 1, reacted by alice \(you/u }).waitFor();
    await row(bob.page, text).getByRole('button', { name: /^👍\S* 1, reacted by alice$/u }).waitFor();
    await alice.page.unroute('**/assets/compact-*.js');
  });

  it('replies in a thread alone draw no "New messages" line and no unread count; a mention in one counts; a new message in the list does', async () => {
    const list = mainList(alice.page);
    const newLine = list.getByRole('separator', { name: 'New messages' });
    const today = list.getByRole('separator', { name: 'Today' });
    await open(alice.page, 'design');
    await open(bob.page, 'design');
    // Bob's first message here comes with his keys for the channel: the engine's view of #design that follows must
    // not count it as unread while Alice is looking at it
    await say(bob.page, 'mockups for the new sidebar');
    await row(alice.page, 'mockups for the new sidebar').waitFor();
    await open(alice.page, 'general');
    await sidebarItem(alice.page, /^#design$/).waitFor();

    const root = await bobApi.callUntyped('messages.send', { conversation: channels.design, text: 'thread root' }) as { id: string };
    await sidebarItem(alice.page, /^#design, 1 unread$/).waitFor();
    await open(alice.page, 'design');
    await newLine.waitFor();
    await open(alice.page, 'general');
    await bobApi.callUntyped('messages.send', { conversation: channels.design, text: 'first thread reply', replyTo: root.id });
    await bobApi.callUntyped('messages.send', { conversation: channels.design, text: '@alice does this work for you?', replyTo: root.id });
    await sidebarItem(alice.page, /^#design, 1 mention$/).waitFor();
    await open(alice.page, 'design');
    await row(alice.page, 'thread root').getByRole('button', { name: '2 replies' }).waitFor();
    assert.equal(await newLine.count(), 0, 'no "New messages" line: nothing new in the list itself');
    assert.equal(await alice.page.getByRole('button', { name: /^Jump to first unread/ }).count(), 0);
    assert.equal(await today.count(), 1, 'one day separator for today');

    await open(alice.page, 'general');
    await bobApi.callUntyped('messages.send', { conversation: channels.design, text: 'a new message in the channel' });
    await bobApi.callUntyped('messages.send', { conversation: channels.design, text: 'another thread reply', replyTo: root.id });
    // the mention in the thread still counts: Alice opened the channel, never the thread
    await sidebarItem(alice.page, /^#design, 1 unread, 1 mention$/).waitFor();
    await open(alice.page, 'design');
    await row(alice.page, 'a new message in the channel').waitFor();
    // the line is drawn in the slot of the message it marks, above it (MessageList.tsx: separators ride in their row)
    const next = await newLine.evaluate((line) => {
      const article = line.closest('.message-slot')?.querySelector('article');
      return article && line.compareDocumentPosition(article) & 4 /* DOCUMENT_POSITION_FOLLOWING */ ? article.textContent ?? '' : '';
    });
    assert.match(next, /a new message in the channel/, 'the line is right above the first unread message of the list');
    assert.equal(await today.count(), 1, 'the line does not repeat the day');
    assert.deepEqual(alice.problems, []);
  });

  it('a mention in a thread reply counts until its thread is read: at once while the thread is open, else when it opens', async () => {
    const counts = async () => {
      const { conversations } = await aliceApi.callUntyped('conversations.list', {}) as { conversations: { id: string; unread: number; mentions: number }[] };
      const general = conversations.find((c) => c.id === channels.general)!;
      return { unread: general.unread, mentions: general.mentions };
    };
    const panel = alice.page.getByRole('log', { name: 'Messages in this thread' });
    await open(alice.page, 'general');
    const root = await bobApi.callUntyped('messages.send', { conversation: channels.general, text: 'who takes the on-call rota?' }) as { id: string };
    await row(alice.page, 'who takes the on-call rota?').waitFor();
    await bobApi.callUntyped('messages.send', { conversation: channels.general, text: '@alice could you?', replyTo: root.id });
    // the channel is open, its thread is not: the mention counts, in the sidebar and in the engine
    await sidebarItem(alice.page, /^#general, 1 mention$/).waitFor();
    // a message of the channel's list read meanwhile does not read the thread
    await bobApi.callUntyped('messages.send', { conversation: channels.general, text: 'or anyone else' });
    await row(alice.page, 'or anyone else').waitFor();
    await eventually(async () => (await counts()).unread === 0, 'the list read in the engine');
    assert.deepEqual(await counts(), { unread: 0, mentions: 1 });
    await sidebarItem(alice.page, /^#general, 1 mention$/).waitFor();

    await row(alice.page, 'who takes the on-call rota?').getByRole('button', { name: '1 reply' }).click();
    await row(alice.page, '@alice could you?', panel).waitFor();
    await sidebarItem(alice.page, /^#general$/).waitFor();
    await eventually(async () => (await counts()).mentions === 0, 'the thread read in the engine');

    // with the thread open and in view, a mention there is read as it arrives
    await bobApi.callUntyped('messages.send', { conversation: channels.general, text: '@alice it is yours then', replyTo: root.id });
    await row(alice.page, '@alice it is yours then', panel).waitFor();
    await eventually(async () => (await counts()).mentions === 0, 'the mention in the open thread read in the engine');
    assert.equal(await sidebarItem(alice.page, /^#general$/).count(), 1, 'and never counted in the sidebar');
    assert.deepEqual(alice.problems, []);
  });
});
