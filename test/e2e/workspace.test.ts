// The desktop app end to end, as two people use it: the renderer in Chromium through a web shell each, with their
// own app data directories, over a real relay on loopback. Alice joins with the admin invite the join screen offers,
// invites Bob through the UI, they talk in a channel and a DM (markdown shown as such, links with their real host,
// unread counts, delivery state), Bob pages back through a long history, Alice locks and unlocks, and both see the
// relay go away and come back with nothing typed lost. Every main screen passes axe-core in both themes and is
// photographed in both (test-artifacts/screenshots/); no page error, CSP or Trusted Types violation occurs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createSession } from '../../core/host/index.ts';
import { startTestServer, tempDir } from '../support/server-client.ts';
import { checkScreen, eventually, launchBrowser, openApp, PASSPHRASE, startUserShell, type AppPage, type UserShell } from '../support/web-app.ts';
import { connection, continuePastKit, join, messages, messageWith, online, say, sidebarItem } from '../support/e2e-people.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;

const message = messageWith;
/** A message whose text is exactly this (one paragraph). */
const exactly = (page: Page, text: string) => messages(page).getByRole('article').filter({ has: page.getByText(text, { exact: true }) });

describe('the desktop app in Chromium (web shell)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let relayDir: string;
  let aliceShell: UserShell;
  let bobShell: UserShell;
  let alice: AppPage;
  let bob: AppPage;
  let bobInvite = '';

  before(async () => {
    browser = await launchBrowser();
    relayDir = tempDir('wardroom-e2e-relay-');
    relay = await startTestServer({ dataDir: relayDir });
    aliceShell = await startUserShell({ firstInvite: relay.firstAdminInvite! });
    bobShell = await startUserShell();
  });
  after(async () => {
    await browser?.close();
    await aliceShell?.close();
    await bobShell?.close();
    await relay?.close();
  });

  it('Alice joins with the admin invite the join screen offers, and keeps her recovery kit', async () => {
    alice = await openApp(browser, aliceShell.shell.url);
    await alice.page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
    assert.equal(await alice.page.getByRole('textbox', { name: 'Invite link' }).inputValue(), relay.firstAdminInvite, 'the invite is filled in');
    assert.doesNotMatch(alice.page.url(), /token/, 'the token left the address bar');
    await alice.page.getByRole('textbox', { name: 'Username' }).fill('alice');
    await alice.page.getByLabel('Passphrase', { exact: true }).fill('short');
    assert.match(await alice.page.locator('.strength').innerText(), /Too short/);
    await alice.page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    assert.match(await alice.page.locator('.strength').innerText(), /Good|Strong/);
    await checkScreen(alice.page, 'join');

    const kit = await join(alice.page, 'alice');
    assert.ok(kit.length > 20, 'the recovery kit is shown');
    assert.ok(await alice.page.getByRole('button', { name: 'Continue to Wardroom' }).isDisabled(), 'not before confirming');
    await checkScreen(alice.page, 'recovery-kit');
    await continuePastKit(alice.page);
    await alice.page.getByRole('navigation', { name: 'Workspace' }).getByText('alice', { exact: true }).waitFor();
  });

  it('Alice creates #general and an invite for Bob, who joins with it', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Create a channel' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('general');
    await page.getByLabel('Topic (optional)').fill('Everything and nothing');
    await checkScreen(page, 'create-channel');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
    await page.getByText('No messages in #general yet. Say hello!').waitFor();

    await page.getByRole('button', { name: 'Invite people' }).click();
    await page.getByRole('button', { name: 'Create invite link' }).click();
    bobInvite = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    assert.match(bobInvite, /^wardroom:\/\/join\?/);
    await checkScreen(page, 'invite');
    await page.getByRole('button', { name: 'Done' }).click();

    bob = await openApp(browser, bobShell.shell.url);
    assert.equal(await bob.page.getByRole('textbox', { name: 'Invite link' }).inputValue(), '', 'no invite offered: this app started no relay');
    // a damaged invite is refused in one line, and nothing typed is lost
    await bob.page.getByRole('textbox', { name: 'Invite link' }).fill('wardroom://join?server=nonsense');
    await bob.page.getByRole('textbox', { name: 'Username' }).fill('bob');
    await bob.page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await bob.page.getByLabel('Passphrase again').fill(PASSPHRASE);
    await bob.page.getByRole('button', { name: 'Join' }).click();
    const refusal = await bob.page.getByRole('alert').innerText();
    assert.ok(refusal.length > 0 && !refusal.includes('\n'), `one line: ${refusal}`);
    assert.equal(await bob.page.getByRole('textbox', { name: 'Username' }).inputValue(), 'bob');
    await join(bob.page, 'bob', bobInvite);
    await continuePastKit(bob.page);
    await bob.page.getByText('No channels yet.').waitFor();
  });

  it('they talk in #general: markdown shown as text, links with their real host, unread counts', async () => {
    await alice.page.getByRole('button', { name: 'Add people' }).click();
    await alice.page.getByRole('combobox', { name: 'Username' }).fill('bob');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.getByTitle('alice, bob').waitFor();
    await sidebarItem(bob.page, /^#general/).waitFor();

    await say(alice.page, 'Hello **bob**, the notes are [here](https://example.com/notes) <img src=x onerror=alert(1)>');
    await sidebarItem(bob.page, /^#general, 1 unread$/).waitFor();
    await sidebarItem(bob.page, /^#general/).click();
    const hello = message(bob.page, 'Hello');
    await hello.waitFor();
    assert.equal(await hello.locator('strong').innerText(), 'bob', 'markdown is rendered');
    assert.equal(await hello.getByRole('link', { name: 'here' }).getAttribute('href'), 'https://example.com/notes');
    assert.match(await hello.innerText(), /here \(example\.com\)/, 'the link shows its real host');
    assert.match(await hello.innerText(), /<img src=x onerror=alert\(1\)>/, 'HTML is shown as text');
    assert.equal(await hello.locator('img').count(), 0, 'never rendered as HTML');
    await sidebarItem(bob.page, /^#general$/).waitFor(); // read: the count is gone

    await say(bob.page, 'Hi @alice! `code` and _style_ work');
    const reply = message(alice.page, 'Hi @alice');
    await reply.waitFor();
    assert.equal(await reply.locator('.mention').innerText(), '@alice');
    assert.equal(await reply.locator('code').innerText(), 'code');
    await checkScreen(alice.page, 'workspace-channel');
  });

  it('Bob starts a DM; Alice sees it arrive with its count, and Bob sees his message delivered and read', async () => {
    await bob.page.getByRole('button', { name: 'Start a direct message' }).click();
    await bob.page.getByRole('combobox', { name: /^To/ }).fill('alice');
    await bob.page.getByRole('button', { name: 'Open', exact: true }).click();
    await bob.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
    await say(bob.page, 'a word in private');

    await sidebarItem(alice.page, /^bob, 1 unread$/).waitFor();
    await sidebarItem(alice.page, /^bob/).click();
    await message(alice.page, 'a word in private').waitFor();
    await say(alice.page, 'sure, go ahead');
    await message(bob.page, 'sure, go ahead').waitFor();
    await eventually(async () => /Read/.test(await message(bob.page, 'a word in private').innerText()), 'Bob\'s message to show it was read');
    await checkScreen(bob.page, 'workspace-dm');
  });

  it('Bob pages back through a long history, the message he looked at staying in place', async () => {
    // 130 messages straight through Alice's host (as fast as the engine goes), then read in Bob's window
    const session = createSession(aliceShell.host, 'alice');
    const channel = await session.callUntyped('channels.create', { name: 'history' }) as { id: string };
    await session.callUntyped('channels.add', { conversation: channel.id, username: 'bob' });
    for (let i = 1; i <= 130; i++) await session.callUntyped('messages.send', { conversation: channel.id, text: `history message ${i}` });
    session.close();

    const { page } = bob;
    await sidebarItem(page, /^#history/).click();
    await exactly(page, 'history message 130').waitFor({ timeout: 30_000 });
    const list = messages(page);
    assert.ok(await list.getByRole('article').count() < 60, 'virtualized: only rows near the viewport are in the DOM');
    // at the top of the first page (messages 81-130) the next older page loads, and message 81 stays where it was
    // on screen instead of the view jumping to the top of the longer list
    const box = await list.boundingBox();
    // (again until the load starts: right after opening, the list may still be settling at the bottom). The check
    // and the scroll run in one task in the page, so a page that arrives between them cannot be scrolled past.
    await eventually(async () => {
      const started = await list.evaluate((el) => {
        const texts = [...el.querySelectorAll('.message-text')].map((t) => t.textContent?.trim());
        if (texts.includes('history message 80') || el.parentElement?.querySelector('.loading-older')) return true; // loaded, or loading
        el.scrollTop = 0;
        return false;
      });
      if (!started) await page.waitForTimeout(250);
      return started;
    }, 'the older page to start loading');
    await exactly(page, 'history message 80').waitFor({ timeout: 20_000 });
    await eventually(async () => {
      const at = (await exactly(page, 'history message 81').boundingBox())?.y;
      return at !== undefined && at > box!.y && at < box!.y + 120;
    }, 'message 81 to stay at the top of the view');
    assert.ok(!(await exactly(page, 'history message 31').isVisible()) || (await exactly(page, 'history message 31').boundingBox())!.y < box!.y, 'the view did not jump to the top');
    for (let tries = 0; tries < 20 && !(await page.getByText('This is the beginning of #history.').isVisible()); tries++) {
      await list.evaluate((el) => { el.scrollTop = 0; });
      await page.waitForTimeout(200);
    }
    await page.getByText('This is the beginning of #history.').waitFor();
    await exactly(page, 'history message 1').waitFor();
    await checkScreen(page, 'history');
  });

  it('Alice locks and unlocks: a wrong passphrase is refused, then her conversations are back', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('heading', { name: 'Wardroom is locked' }).waitFor();
    await page.getByText('You locked Wardroom.').waitFor();
    assert.equal(await page.getByText('a word in private').count(), 0, 'nothing of the conversation is left on screen');
    await checkScreen(page, 'locked');
    await page.getByLabel('Passphrase').fill('not the passphrase');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').filter({ hasText: 'That passphrase does not unlock this profile.' }).waitFor({ timeout: 30_000 });
    await checkScreen(page, 'unlock-refused');
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await online(page);
    await sidebarItem(page, /^#general/).click();
    await message(page, 'Hi @alice').waitFor();
  });

  it('both see the relay go away and come back; what Alice sent meanwhile arrives', async () => {
    const port = relay.port;
    await relay.close();
    for (const { page } of [alice, bob]) {
      await eventually(async () => (await connection(page).getAttribute('data-state')) !== 'online', 'the app to show the relay is gone');
    }
    assert.match(await connection(alice.page).innerText(), /Offline|Reconnecting|Connecting/);
    await say(alice.page, 'sent while the relay was away');
    await eventually(async () => /Sending…/.test(await message(alice.page, 'sent while the relay was away').innerText()), 'the message to wait as pending');
    await checkScreen(alice.page, 'relay-offline');

    relay = await startTestServer({ dataDir: relayDir, port });
    for (const { page } of [alice, bob]) await online(page);
    await sidebarItem(bob.page, /^#general/).click();
    await message(bob.page, 'sent while the relay was away').waitFor({ timeout: 30_000 });
    await eventually(async () => !/Sending…/.test(await message(alice.page, 'sent while the relay was away').innerText()), 'the message to leave the pending state');
  });

  it('the keyboard: Alt+Arrow moves between conversations, Escape closes a dialog and focus returns', async () => {
    const { page } = alice;
    const current = () => page.locator('[aria-current="page"]').getAttribute('data-conversation');
    const before = await current();
    await page.getByRole('textbox', { name: /^Message / }).focus();
    await page.keyboard.press('Alt+ArrowDown');
    await eventually(async () => (await current()) !== before, 'the next conversation to open');
    assert.equal(await page.locator(':focus').getAttribute('aria-current'), 'page', 'focus follows to the conversation opened');
    await page.keyboard.press('Alt+ArrowUp');
    await eventually(async () => (await current()) === before, 'the previous conversation again');

    const settings = page.getByRole('button', { name: 'Settings' });
    await settings.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Settings' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'hidden' });
    assert.equal(await page.locator(':focus').innerText(), 'Settings', 'focus is back on what opened the dialog');
  });

  it('settings: the theme follows the choice, and no page error or CSP violation happened', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Settings' }).click();
    await checkScreen(page, 'settings');
    await page.getByLabel('Dark').check();
    await eventually(async () => (await page.locator('html').getAttribute('data-theme')) === 'dark', 'the dark theme');
    await page.getByLabel('Same as the system').check();
    await eventually(async () => (await page.locator('html').getAttribute('data-theme')) === 'system', 'the system theme again');
    await page.getByRole('button', { name: 'Done' }).click();
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});
