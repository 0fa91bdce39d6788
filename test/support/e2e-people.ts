// What people do in the app in the end-to-end tests: join with an invite, get past the recovery kit, wait for the
// relay, find a conversation or a message, write.
import type { Browser, Locator, Page } from 'playwright-core';
import { createSession, type Session } from '../../core/host/index.ts';
import { startTestServer } from './server-client.ts';
import { eventually, launchBrowser, openApp, PASSPHRASE, startUserShell, type AppPage, type UserShell } from './web-app.ts';

export interface Person {
  shell: UserShell;
  /** a session of the person's host, with their profile selected: to set things up without the UI */
  api: Session;
  close(): Promise<void>;
}

/**
 * Alice (the admin, with the relay's first invite) and Bob (with her invite) in one organisation, a web shell each,
 * joined through their hosts rather than the UI (the join screens have their own tests).
 */
export async function aliceAndBob(firstAdminInvite: string): Promise<{ alice: Person; bob: Person }> {
  const join = async (name: string, link: string): Promise<Person> => {
    const shell = await startUserShell();
    const api = createSession(shell.host);
    await api.callUntyped('profiles.join', { profile: name, link, username: name, passphrase: PASSPHRASE });
    await api.callUntyped('profiles.select', { profile: name });
    return {
      shell, api,
      async close() {
        api.close();
        await shell.close();
      },
    };
  };
  const alice = await join('alice', firstAdminInvite);
  const { link } = await alice.api.callUntyped('org.invite', { admin: false }) as { link: string };
  return { alice, bob: await join('bob', link) };
}

export interface ChannelOfTwo {
  browser: Browser;
  people: { alice: Person; bob: Person };
  alice: AppPage;
  bob: AppPage;
  /** the channel's conversation id */
  channel: string;
  close(): Promise<void>;
}

/** A relay, Chromium, and Alice and Bob (as aliceAndBob) in a channel Alice made, each with the app open on it. */
export async function channelOfTwo(name: string): Promise<ChannelOfTwo> {
  const browser = await launchBrowser();
  const relay = await startTestServer();
  const people = await aliceAndBob(relay.firstAdminInvite!);
  const channel = (await people.alice.api.callUntyped('channels.create', { name }) as { id: string }).id;
  await people.alice.api.callUntyped('channels.add', { conversation: channel, username: 'bob' });
  const [alice, bob] = [await openApp(browser, people.alice.shell.shell.url), await openApp(browser, people.bob.shell.shell.url)];
  for (const { page } of [alice, bob]) {
    await sidebarItem(page, new RegExp(`^#${name}`)).click();
    await page.getByRole('heading', { name: `#${name}`, level: 1 }).waitFor();
  }
  return {
    browser, people, alice, bob, channel,
    async close() {
      await browser.close();
      await people.alice.close();
      await people.bob.close();
      await relay.close();
    },
  };
}

/** Fills the join screen and submits it; resolves with the recovery kit the app shows once. */
export async function join(page: Page, username: string, invite?: string): Promise<string> {
  await page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
  if (invite !== undefined) await page.getByRole('textbox', { name: 'Invite link' }).fill(invite);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByRole('heading', { name: 'Your recovery kit' }).waitFor({ timeout: 30_000 });
  return page.getByRole('textbox', { name: 'Recovery kit' }).inputValue();
}

export async function continuePastKit(page: Page): Promise<void> {
  await page.getByLabel('I stored my recovery kit somewhere safe').check();
  await page.getByRole('button', { name: 'Continue to Wardroom' }).click();
  await online(page);
}

export async function joinAndContinue(page: Page, username: string, invite?: string): Promise<void> {
  await join(page, username, invite);
  await continuePastKit(page);
}

export const connection = (page: Page) => page.getByRole('status', { name: /^Connection:/ });
export const online = (page: Page) => eventually(async () => (await connection(page).getAttribute('data-state')) === 'online', 'the relay to be online', 30_000);

export const sidebarItem = (page: Page, name: RegExp) => page.getByRole('navigation', { name: 'Workspace' }).getByRole('button', { name });
export const messages = (page: Page) => page.getByRole('log');
export const messageWith = (page: Page, text: string) => messages(page).getByRole('article').filter({ hasText: text });

/** Sends from the conversation's composer (or another box, a thread's), with a timer chosen first if given. */
export async function say(page: Page, text: string, options: { box?: Locator; disappears?: string } = {}): Promise<void> {
  if (options.disappears) await page.getByLabel('Disappears').selectOption({ label: options.disappears });
  const box = options.box ?? page.getByRole('textbox', { name: /^Message / });
  await box.fill(text);
  await box.press('Enter');
  await eventually(async () => (await box.inputValue()) === '', 'the composer to clear after sending');
}

/** The open channel's list of messages (not a thread panel's). */
export const mainList = (page: Page) => page.getByRole('log', { name: /^Messages in #/ });
/** A message in a list whose text (a paragraph) is exactly this. */
export const row = (page: Page, text: string, within: Locator = mainList(page)) => within.getByRole('article').filter({ has: page.locator('.message-text').getByText(text, { exact: true }) });

/** Whether the element is wholly inside the box (a message inside its list's viewport). */
export async function inView(element: Locator, box: Locator): Promise<boolean> {
  const [e, b] = [await element.boundingBox(), await box.boundingBox()];
  return e !== null && b !== null && e.y >= b.y - 1 && e.y + e.height <= b.y + b.height + 1;
}

/** Picks an item of a message's actions menu. */
export async function act(page: Page, message: Locator, action: string): Promise<void> {
  await message.getByRole('button', { name: /^Actions for the message from / }).click();
  await page.getByRole('menuitem', { name: action, exact: true }).click();
}
