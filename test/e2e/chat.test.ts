// The conversation features of the desktop app end to end, as two people in one organisation use them in Chromium
// (a web shell each, a real relay on loopback): a quoted reply and the jump to what it answers, an edit (Up on an
// empty composer) shown as edited on the other side, delete for everyone after a confirm, a mention picked from
// the autocomplete counted for the person mentioned, the emoji picker, a reaction and its toggle counted on both
// sides, a thread in the side panel, and search with the matched words highlighted and the jump to the result in
// context. The thread panel and the search results pass axe-core in both themes; they and the emoji picker are
// photographed in both (test-artifacts/screenshots/). The org is set up through the hosts, not the UI (the join
// screens have their own test in workspace.test.ts), so this file spends its time on the conversation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Session } from '../../core/host/index.ts';
import { act, aliceAndBob, inView, mainList, row, say, sidebarItem, type Person } from '../support/e2e-people.ts';
import { startTestServer } from '../support/server-client.ts';
import { checkScreen, eventually, launchBrowser, openApp, screenshots, type AppPage } from '../support/web-app.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;

const threadPanel = (page: Page) => page.getByRole('complementary', { name: 'Thread' });
const composer = (page: Page) => page.getByRole('textbox', { name: /^Message / });

/** Whether the element is inside the scrolling box on screen. */
describe('conversations in the desktop app (web shell, Chromium)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let people: { alice: Person; bob: Person } | undefined;
  let alice: AppPage;
  let bob: AppPage;
  let aliceApi: Session;
  let general = '';

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    people = await aliceAndBob(relay.firstAdminInvite!);
    ({ api: aliceApi } = people.alice);
    general = (await aliceApi.callUntyped('channels.create', { name: 'general', topic: 'Plans and releases' }) as { id: string }).id;
    await aliceApi.callUntyped('channels.add', { conversation: general, username: 'bob' });
    const random = (await aliceApi.callUntyped('channels.create', { name: 'random' }) as { id: string }).id;
    await aliceApi.callUntyped('channels.add', { conversation: random, username: 'bob' });
    alice = await openApp(browser, people.alice.shell.shell.url);
    bob = await openApp(browser, people.bob.shell.shell.url);
    for (const { page } of [alice, bob]) {
      await sidebarItem(page, /^#general/).click();
      await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
    }
  });
  after(async () => {
    await browser?.close();
    await people?.alice.close();
    await people?.bob.close();
    await relay?.close();
  });

  it('shows the channel\'s topic, member count and members with their roles', async () => {
    const { page } = bob;
    await page.getByText('Plans and releases').waitFor();
    await page.getByRole('button', { name: '2 members' }).click();
    const members = page.getByRole('complementary', { name: 'Members' });
    await members.getByRole('listitem').filter({ hasText: 'alice' }).filter({ hasText: 'Owner' }).waitFor();
    await members.getByRole('listitem').filter({ hasText: 'bob' }).filter({ hasText: 'Member' }).waitFor();
    await page.keyboard.press('Escape');
    await members.waitFor({ state: 'detached' });
  });

  it('replies with a quote; the quote jumps to the original, in its place and highlighted', async () => {
    await say(bob.page, 'where is the release checklist? <b>now</b>');
    await row(alice.page, 'where is the release checklist? <b>now</b>').waitFor();
    for (let i = 1; i <= 30; i++) await aliceApi.callUntyped('messages.send', { conversation: general, text: `filler ${i}` });
    await row(bob.page, 'filler 30').waitFor();

    const { page } = alice;
    await act(page, row(page, 'where is the release checklist? <b>now</b>'), 'Reply');
    const replying = page.getByRole('status').filter({ hasText: 'Replying to bob' });
    await replying.waitFor();
    await composer(page).press('Escape');
    await replying.waitFor({ state: 'detached' });
    await act(page, row(page, 'where is the release checklist? <b>now</b>'), 'Reply');
    await say(page, 'in the wiki');

    const answer = row(bob.page, 'in the wiki');
    const quote = answer.getByRole('button', { name: /^Reply to bob: where is the release checklist\?/ });
    await quote.waitFor();
    const original = row(bob.page, 'where is the release checklist? <b>now</b>');
    assert.equal(await original.isVisible() && await inView(original, mainList(bob.page)), false, 'the original is out of view before the jump');
    await quote.click();
    await eventually(async () => inView(original, mainList(bob.page)), 'the original scrolled into view');
    await bob.page.locator('.message-slot.highlighted').filter({ hasText: 'where is the release checklist' }).waitFor();
    const originalId = await original.getAttribute('data-message');
    await eventually(async () => (await bob.page.locator(':focus').getAttribute('data-message')) === originalId, 'the original focused');
    // back to the newest (End in the list): the list follows new messages again
    await bob.page.keyboard.press('End');
    await eventually(async () => inView(row(bob.page, 'in the wiki'), mainList(bob.page)), 'the newest in view again');
  });

  it('edits the last message with Up on an empty composer; the other side shows it edited', async () => {
    const { page } = alice;
    await composer(page).click();
    await composer(page).press('ArrowUp');
    assert.equal(await composer(page).inputValue(), 'in the wiki');
    await page.getByRole('status').filter({ hasText: 'Editing your message' }).waitFor();
    await say(page, 'in the wiki, page 2');
    const edited = row(bob.page, 'in the wiki, page 2');
    await edited.waitFor();
    await edited.getByText('(edited)').waitFor();
    assert.equal(await row(bob.page, 'in the wiki').count(), 0, 'the old text is gone');
  });

  it('deletes for everyone after a confirm', async () => {
    const { page } = alice;
    await say(page, 'oops, wrong channel');
    await row(bob.page, 'oops, wrong channel').waitFor();
    await act(page, row(page, 'oops, wrong channel'), 'Delete for everyone…');
    const confirm = page.getByRole('dialog', { name: 'Delete message' });
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await row(page, 'oops, wrong channel').waitFor({ state: 'detached' });
    await row(bob.page, 'oops, wrong channel').waitFor({ state: 'detached' });
  });

  it('completes a mention from the people in the channel, and counts it for the person mentioned', async () => {
    await sidebarItem(alice.page, /^#random/).click();
    const { page } = bob;
    await composer(page).fill('ping @al');
    await composer(page).press('End');
    const options = page.getByRole('listbox', { name: 'People to mention' });
    await options.getByRole('option', { name: /@alice/ }).waitFor();
    assert.equal(await options.getByRole('option').count(), 1, 'only alice starts with "al"');
    await composer(page).press('Enter');
    assert.equal(await composer(page).inputValue(), 'ping @alice ');
    await composer(page).pressSequentially('please review');
    await composer(page).press('Enter');
    await sidebarItem(alice.page, /^#general, 1 unread, 1 mention$/).waitFor();
  });

  it('inserts an emoji from the picker, searched and picked with the keyboard', async () => {
    const { page } = bob;
    await composer(page).fill('looks good ');
    await page.getByRole('button', { name: 'Insert emoji' }).click();
    const picker = page.getByRole('dialog', { name: 'Insert an emoji' });
    const search = picker.getByRole('searchbox', { name: 'Search emoji' });
    await picker.getByRole('button', { name: 'grinning face', exact: true }).waitFor();
    await screenshots(page, 'emoji-picker');
    await search.fill('thumbs up');
    await search.press('ArrowDown');
    await page.keyboard.press('Enter');
    await picker.waitFor({ state: 'detached' });
    assert.match(await composer(page).inputValue(), /^looks good 👍/u);
    await composer(page).press('Enter');
    await mainList(page).getByRole('article').filter({ hasText: /looks good 👍/u }).waitFor();
  });

  it('reacts from the menu and the picker; the count and who reacted show on both sides, and a reaction toggles', async () => {
    await sidebarItem(alice.page, /^#general/).click();
    const target = (page: Page) => row(page, 'in the wiki, page 2');
    await act(bob.page, target(bob.page), 'Add reaction…');
    const picker = bob.page.getByRole('dialog', { name: 'Add a reaction' });
    await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('thumbs up');
    await picker.getByRole('searchbox', { name: 'Search emoji' }).press('Enter');
    await target(bob.page).getByRole('button', { name: /1, reacted by bob \(you/ }).waitFor();
    const one = target(alice.page).getByRole('button', { name: /1, reacted by bob$/ });
    await one.waitFor();
    assert.equal(await one.getAttribute('aria-pressed'), 'false', 'not alice\'s own');
    await one.click();
    await target(bob.page).getByRole('button', { name: /2, reacted by alice and bob|2, reacted by bob and alice/ }).waitFor();
    const mine = target(alice.page).getByRole('button', { name: /^\S+ 2, reacted by/ });
    assert.equal(await mine.getAttribute('aria-pressed'), 'true');
    await mine.click();
    await target(bob.page).getByRole('button', { name: /1, reacted by bob \(you/ }).waitFor();
  });

  it('replies in a thread in the side panel; the root counts the replies, and the other side reads and answers there', async () => {
    const { page } = bob;
    await act(page, row(page, 'ping @alice please review'), 'Reply in thread');
    const panel = threadPanel(page);
    await panel.getByRole('article').filter({ hasText: 'ping @alice please review' }).waitFor();
    await say(page, 'thread reply from bob', { box: panel.getByRole('textbox', { name: 'Reply in thread' }) });
    await row(page, 'thread reply from bob', panel).waitFor();

    const root = row(alice.page, 'ping @alice please review');
    await root.getByRole('button', { name: '1 reply' }).click();
    assert.equal(await row(alice.page, 'thread reply from bob').count(), 0, 'thread replies stay out of the main list');
    const alicePanel = threadPanel(alice.page);
    await row(alice.page, 'thread reply from bob', alicePanel).waitFor();
    await say(alice.page, 'thread answer from alice', { box: alicePanel.getByRole('textbox', { name: 'Reply in thread' }) });
    await row(page, 'thread answer from alice', panel).waitFor();
    await row(page, 'ping @alice please review').getByRole('button', { name: '2 replies' }).waitFor();
    await checkScreen(alice.page, 'thread-panel');
  });

  it('searches every conversation with the matched words highlighted as text, and jumps to a result in context', async () => {
    const { page } = alice;
    await page.keyboard.press('Control+k');
    const box = page.getByRole('searchbox', { name: 'Search messages' });
    assert.equal(await page.locator(':focus').getAttribute('id'), 'search-input', 'Ctrl+K focuses the search box');
    await box.fill('checklist');
    await box.press('Enter');
    const results = page.getByRole('complementary', { name: 'Search results' });
    const group = results.getByRole('region', { name: '#general' });
    const hit = group.getByRole('button', { name: /where is the release checklist/ });
    await hit.waitFor();
    assert.equal(await hit.locator('mark').innerText(), 'checklist', 'the matched word is highlighted');
    assert.equal(await hit.locator('b').count(), 0, 'markup in a result is text, never HTML');
    assert.match(await hit.innerText(), /<b>now<\/b>/);
    await checkScreen(page, 'search-results');

    await sidebarItem(page, /^#random/).click();
    await hit.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
    const found = row(page, 'where is the release checklist? <b>now</b>');
    await page.locator('.message-slot.highlighted').filter({ hasText: 'where is the release checklist' }).waitFor();
    await eventually(async () => inView(found, mainList(page)), 'the result in view');
    const list = mainList(page);
    const at = await list.evaluate((el) => el.scrollTop);
    await page.waitForTimeout(400);
    assert.equal(await list.evaluate((el) => el.scrollTop), at, 'the scroll position stays where the jump put it');
    assert.ok(await row(page, 'in the wiki, page 2').count() > 0, 'shown in context: the messages after it are there too');
    assert.deepEqual([...alice.problems, ...bob.problems], [], 'no page error, CSP or Trusted Types violation');
  });
});
