// What people do in the app in the end-to-end tests: join with an invite, get past the recovery kit, write.
// (test/e2e/workspace.test.ts has its own copies from before this file; they can move here.)
import type { Page } from 'playwright-core';
import { eventually, PASSPHRASE } from './web-app.ts';

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
