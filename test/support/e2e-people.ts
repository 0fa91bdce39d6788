// What people do in the app in the end-to-end tests: join with an invite, get past the recovery kit, write.
// (test/e2e/workspace.test.ts has its own copies from before this file; they can move here.)
import type { Locator, Page } from 'playwright-core';
import { createSession, type Session } from '../../core/host/index.ts';
import { eventually, PASSPHRASE, startUserShell, type UserShell } from './web-app.ts';

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

export async function joinAndContinue(page: Page, username: string, invite?: string): Promise<void> {
  await page.getByRole('heading', { name: 'Join your organisation' }).waitFor();
  if (invite !== undefined) await page.getByRole('textbox', { name: 'Invite link' }).fill(invite);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('heading', { name: 'Your recovery kit' }).waitFor({ timeout: 30_000 });
  await page.getByLabel('I stored my recovery kit somewhere safe').check();
  await page.getByRole('button', { name: 'Continue to Wardroom' }).click();
  await eventually(async () => (await page.getByRole('status', { name: /^Connection:/ }).getAttribute('data-state')) === 'online', 'the relay to be online');
}

export const sidebarItem = (page: Page, name: RegExp) => page.getByRole('navigation', { name: 'Workspace' }).getByRole('button', { name });
export const messageWith = (page: Page, text: string) => page.getByRole('log').getByRole('article').filter({ hasText: text });

export async function say(page: Page, text: string): Promise<void> {
  const composer = page.getByRole('textbox', { name: /^Message / });
  await composer.fill(text);
  await composer.press('Enter');
  await eventually(async () => (await composer.inputValue()) === '', 'the composer to clear after sending');
}

/** The open channel's list of messages (not a thread panel's). */
export const mainList = (page: Page) => page.getByRole('log', { name: /^Messages in #/ });
/** A message in a list whose text (a paragraph) is exactly this. */
export const row = (page: Page, text: string, within: Locator = mainList(page)) => within.getByRole('article').filter({ has: page.locator('.message-text').getByText(text, { exact: true }) });

/** Picks an item of a message's actions menu. */
export async function act(page: Page, message: Locator, action: string): Promise<void> {
  await message.getByRole('button', { name: /^Actions for the message from / }).click();
  await page.getByRole('menuitem', { name: action, exact: true }).click();
}
