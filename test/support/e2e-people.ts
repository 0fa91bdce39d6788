// What people do in the app in the end-to-end tests: join with an invite, get past the recovery kit, wait for the
// relay, find a conversation or a message, write.
import type { Locator, Page } from 'playwright-core';
import { eventually, PASSPHRASE } from './web-app.ts';

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
