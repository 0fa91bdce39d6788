// Retention in the app, end to end in Chromium through a web shell over a real relay: when the org's signed policy
// turns retention on, every participant sees a permanent line across the workspace naming the archive, the change is
// announced in the conversation, and the archive joins the channel through a signed membership change everyone sees;
// turned off, the line goes and that is announced too. The set-up (joining, the archive account, the policy change)
// goes through the host's contract, as a script or an admin console would; what is checked is what Bob sees.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createSession, type Session } from '../../core/host/index.ts';
import { startTestServer } from '../support/server-client.ts';
import { checkScreen, launchBrowser, openApp, PASSPHRASE, startUserShell, type AppPage, type UserShell } from '../support/web-app.ts';

const banner = (page: Page) => page.getByRole('status').filter({ hasText: 'Retention is on.' });
const history = (page: Page) => page.getByRole('log');

describe('retention in the app', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Awaited<ReturnType<typeof startTestServer>>;
  const shells: UserShell[] = [];
  const sessions: Session[] = [];
  let aliceApi: Session;
  let bob: AppPage;

  const joined = async (link: string, username: string): Promise<Session> => {
    const shell = await startUserShell();
    shells.push(shell);
    const session = createSession(shell.host);
    sessions.push(session);
    await session.callUntyped('profiles.join', { profile: username, link, username, passphrase: PASSPHRASE });
    await session.callUntyped('profiles.select', { profile: username });
    return session;
  };

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    aliceApi = await joined(relay.firstAdminInvite!, 'alice');
    const invite = async () => (await aliceApi.callUntyped('org.invite', { admin: false }) as { link: string }).link;
    await joined(await invite(), 'bob');
    const archiveApi = await joined(await invite(), 'records');
    await archiveApi.callUntyped('archive.sync', {}); // the archive runs before retention is turned on (docs/retention.md)
    const general = (await aliceApi.callUntyped('channels.create', { name: 'general' }) as { id: string }).id;
    await aliceApi.callUntyped('channels.add', { conversation: general, username: 'bob' });
    bob = await openApp(browser, shells[1]!.shell.url);
    await bob.page.getByRole('button', { name: /^#general/ }).click();
    await bob.page.getByRole('heading', { name: '#general', level: 1 }).waitFor();
  });
  after(async () => {
    assert.deepEqual(bob?.problems ?? [], [], 'no page or console error');
    for (const session of sessions) session.close();
    await browser?.close();
    for (const shell of shells) await shell.close();
    await relay?.close();
  });

  it('shows no retention line while the policy keeps no records', async () => {
    await history(bob.page).getByText('alice added you').waitFor();
    assert.equal(await banner(bob.page).count(), 0);
  });

  it('retention on: a permanent line naming the archive, the change announced, the archive added in the open', async () => {
    await aliceApi.callUntyped('policy.set', { retention: true, archiveAccount: 'records' });
    await banner(bob.page).waitFor({ timeout: 30_000 });
    assert.match(await banner(bob.page).innerText(), /@records/);
    await history(bob.page).getByText(/Retention was turned on: .*\(records\)/).waitFor({ timeout: 30_000 });
    // the archive is a member like any other: added by a signed change of alice's, shown to everyone
    await history(bob.page).getByText('alice added records').waitFor({ timeout: 30_000 });
    await checkScreen(bob.page, 'retention-on');
    await bob.page.emulateMedia({ colorScheme: 'light' });
  });

  it('retention off: the line goes, and that is announced', async () => {
    await aliceApi.callUntyped('policy.set', { retention: false });
    await history(bob.page).getByText(/Retention was turned off/).waitFor({ timeout: 30_000 });
    await banner(bob.page).waitFor({ state: 'detached', timeout: 30_000 });
  });
});
