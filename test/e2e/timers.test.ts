// Disappearing messages and the org policy in the app, end to end in Chromium through a web shell over a real relay:
// the conversation timer in the header (announced in the history), the composer's timer, each message's remaining
// life counting down until it is gone from the list, the admin's policy section in settings shortening what is
// longer (said on the message and in the history) and refusing a conversation timer over it, and Shred now.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, tempDir } from '../support/server-client.ts';
import { checkScreen, eventually, launchBrowser, openApp, startUserShell, type AppPage, type UserShell } from '../support/web-app.ts';
import { joinAndContinue, messages, messageWith, say as sayIn } from '../support/e2e-people.ts';

const message = messageWith;
const say = (page: Page, text: string, disappears?: string) => sayIn(page, text, { disappears });

async function openSettings(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor();
}

async function closeSettings(page: Page): Promise<void> {
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Done' }).click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'hidden' });
}

describe('disappearing messages in the app', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Awaited<ReturnType<typeof startTestServer>>;
  let shell: UserShell;
  let alice: AppPage;

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer({ dataDir: tempDir('wardroom-e2e-relay-') });
    shell = await startUserShell({ firstInvite: relay.firstAdminInvite! });
    alice = await openApp(browser, shell.shell.url);
    const { page } = alice;
    await joinAndContinue(page, 'alice');
    await page.getByRole('button', { name: 'Create a channel' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('ephemeral');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: '#ephemeral', level: 1 }).waitFor();
  });
  after(async () => {
    assert.deepEqual(alice?.problems ?? [], [], 'no page or console error');
    await browser?.close();
    await shell?.close();
    await relay?.close();
  });

  it('sets the conversation\'s timer in the header, announced in the history', async () => {
    const { page } = alice;
    await page.getByLabel('Disappearing messages').selectOption({ label: 'After 5 minutes' });
    await messages(page).getByText('alice set messages to disappear after 5 minutes').waitFor();
    await say(page, 'under the conversation timer');
    await message(page, 'under the conversation timer').getByText(/disappears in [45] min/).waitFor();
  });

  it('counts a message\'s remaining life down from the composer\'s timer, and drops it at its deadline', async () => {
    const { page } = alice;
    await say(page, 'gone in half a minute', 'after 30 seconds');
    const row = message(page, 'gone in half a minute');
    await row.getByText(/disappears in (2\d|30) s/).waitFor();
    const first = await row.locator('.remaining-life').innerText();
    await eventually(async () => (await row.locator('.remaining-life').innerText()) !== first, 'the countdown to move');
    await checkScreen(page, 'timers');
    await row.waitFor({ state: 'detached', timeout: 45_000 });
    assert.equal(await message(page, 'under the conversation timer').count(), 1, 'the rest stays');
  });

  it('lets the admin set the org policy in settings; longer timers are shortened, and said so', async () => {
    const { page } = alice;
    await openSettings(page);
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByText('No org policy: timers are up to each message and conversation.').waitFor();
    // a cap's "none" is no limit; a default timer's "none" is off (messages that set none do not disappear)
    const options = (label: string) => dialog.getByLabel(label).locator('option').allInnerTexts();
    const expiry = ['30 seconds', '5 minutes', '1 hour', '1 day', '7 days', '30 days'];
    assert.deepEqual(await options('Longest a message may live'), ['No limit', ...expiry]);
    assert.deepEqual(await options('Longest burn after reading'), ['No limit', '10 seconds', '1 minute', '5 minutes', '1 hour']);
    assert.deepEqual(await options('Default timer, for messages that set none'), ['Off', ...expiry]);
    await dialog.getByLabel('Longest a message may live').selectOption({ label: '1 hour' });
    await dialog.getByRole('button', { name: 'Sign and publish' }).click();
    await dialog.getByText('Messages live at most: 1 hour.').waitFor();
    await dialog.getByText('Version 1.', { exact: true }).waitFor();
    await checkScreen(page, 'settings-policy');
    await closeSettings(page);

    await say(page, 'asks for a day', 'after 1 day');
    await message(page, 'asks for a day').getByText(/shortened by the org policy/).waitFor();
    await messages(page).getByText(/The organisation's policy shortens timers here: messages disappear after at most 1 hour/).waitFor();
    await page.getByLabel('Disappearing messages').selectOption({ label: 'After 1 day' });
    assert.match(await page.getByRole('alert').filter({ hasText: 'org policy' }).innerText(), /the org policy lets messages live at most 1 hour/);
  });

  it('shreds on demand from settings and says what it removed', async () => {
    const { page } = alice;
    await openSettings(page);
    await page.getByRole('button', { name: 'Shred now' }).click();
    await page.getByRole('dialog', { name: 'Settings' }).getByText(/^Removed \d+ messages; \d+ pages and \d+ files shredded\.$/).waitFor();
    await closeSettings(page);
  });
});
