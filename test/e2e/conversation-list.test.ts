// The sidebar's conversations and counts when the list's own answers are late, end to end (a web shell each, a real
// relay on loopback, Chromium). conversations.list waits on the relay's channel list before it answers (up to its
// 15 s timeout on a slow relay), so a first DM must not wait for it: the engine's view of the conversation that
// follows every arrival shows it with its count, and a list answer that comes late changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Session } from '../../core/host/index.ts';
import { aliceAndBob, sidebarItem, type Person } from '../support/e2e-people.ts';
import { startTestServer } from '../support/server-client.ts';
import { eventually, launchBrowser, openApp, type AppPage } from '../support/web-app.ts';
import type { Browser } from 'playwright-core';

type Relay = Awaited<ReturnType<typeof startTestServer>>;

describe('the sidebar while the conversation list answers late (web shell, Chromium)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let people: { alice: Person; bob: Person } | undefined;
  let alice: AppPage;
  let bobApi: Session;
  /** while set, the page's conversations.list answers are held here (their order forced: after what they race) */
  let holding = false;
  const held: (() => void)[] = [];
  /** lists asked for while holding whose answers have not come from the shell yet */
  const asked = new Set<number>();
  /** how many lists were asked for while holding: none of their answers reaches the page until released */
  let heldAsked = 0;

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    people = await aliceAndBob(relay.firstAdminInvite!);
    ({ api: bobApi } = people.bob);
    const general = (await people.alice.api.callUntyped('channels.create', { name: 'general' }) as { id: string }).id;
    await people.alice.api.callUntyped('channels.add', { conversation: general, username: 'bob' });
    alice = await openApp(browser, people.alice.shell.shell.url);
    // the page's link to its shell, through the test: requests pass, answers to a list asked for while holding wait
    await alice.context.routeWebSocket(/\/rpc$/, (page) => {
      const shell = page.connectToServer();
      page.onMessage((data) => {
        const request = JSON.parse(String(data)) as { id?: number; method?: string };
        if (holding && request.method === 'conversations.list' && typeof request.id === 'number') {
          asked.add(request.id);
          heldAsked += 1;
        }
        shell.send(data);
      });
      shell.onMessage((data) => {
        const answer = JSON.parse(String(data)) as { id?: number };
        if (typeof answer.id === 'number' && asked.delete(answer.id)) held.push(() => page.send(data));
        else page.send(data);
      });
    });
    await alice.page.reload();
    await sidebarItem(alice.page, /^#general/).click();
    await alice.page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await people?.alice.close();
    await people?.bob.close();
    await relay?.close();
  });

  it('shows a first DM with its count while the list is still to answer, and keeps it when the list answers late', async () => {
    holding = true;
    const dm = await bobApi.callUntyped('conversations.resolve', { target: '@alice' }) as { id: string };
    await bobApi.callUntyped('messages.send', { conversation: dm.id, text: 'a word in private' });
    await sidebarItem(alice.page, /^bob, 1 unread$/).waitFor();
    assert.ok(heldAsked > 0, 'the list asked for on the new conversation has not answered the page');

    await bobApi.callUntyped('messages.send', { conversation: dm.id, text: 'and another' });
    await sidebarItem(alice.page, /^bob, 2 unread$/).waitFor();
    holding = false;
    await eventually(async () => asked.size === 0, 'the held lists answered by the shell');
    for (const answer of held.splice(0)) answer(); // read before the second message: older than what is shown
    // a search's answer reaches the page after those answers (one socket, in order): by then they were taken in
    const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
    await box.fill('nowhere');
    await box.press('Enter');
    await alice.page.getByRole('complementary', { name: 'Search results' }).getByText(/^Nothing found/).waitFor();
    assert.equal(await sidebarItem(alice.page, /^bob, 2 unread$/).count(), 1, 'the late answers do not take the count back');
    assert.deepEqual(alice.problems, []);
  });
});
