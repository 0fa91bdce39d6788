// Trust in the desktop app, end to end: two people in one organisation, each through a real web shell in Chromium
// over a real relay. Alice opens the app from a deep link (#join=…) and joins; Bob joins. They compare safety
// numbers (the same digits on both screens, with a QR code) and Alice marks Bob verified and clears it again. Then
// the relay lies: a hostile relay in front of the real one serves Bob's device list signed by a key of its own.
// Alice's conversation shows the change in place, what she writes is held with a banner saying so, the relay
// cannot make her accept, and "Accept and send" sends it (to the identity the relay made up, so Bob's real device
// reports a message it cannot read: what accepting without comparing numbers costs). Alice's devices are listed and renamed in settings; she
// adds a second profile on another (TLS) relay beside the first and switches between them; when an impostor with
// another certificate takes that relay's address, the alarm says the certificate does not match and nothing is
// being sent. The unread total shows in the title and notifications say only "New message". Each of these screens
// passes axe-core in both themes and is photographed in both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { connection, joinAndContinue, online, say } from '../support/e2e-people.ts';
import { inviteVia, serveForgedIdentity, startHostileRelay, type HostileRelay } from '../support/hostile-relay.ts';
import { startImpostor, type Impostor } from '../support/impostor.ts';
import { startTestServer } from '../support/server-client.ts';
import { checkScreen, eventually, launchBrowser, openApp, PASSPHRASE, startUserShell, type AppPage, type UserShell } from '../support/web-app.ts';

type Relay = Awaited<ReturnType<typeof startTestServer>>;


const log = (page: Page) => page.getByRole('log');
const profilePanel = (page: Page, username: string) => page.getByRole('dialog', { name: `Profile of ${username}` });
const digitsIn = async (page: Page, username: string) => (await profilePanel(page, username).getByRole('group', { name: /^Safety number/ }).getAttribute('data-digits'))!;

async function openDirect(page: Page, username: string): Promise<void> {
  await page.getByRole('button', { name: 'Start a direct message' }).click();
  await page.getByRole('combobox', { name: /^To/ }).fill(username);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByRole('heading', { name: username, level: 1 }).waitFor();
}

/** Wraps the page's Notification so the test sees what each one said (the real one is still shown). */
const RECORD_NOTIFICATIONS = `(() => {
  const Real = window.Notification;
  const seen = [];
  window.__notifications = seen;
  window.__closed = 0;
  class Recorded extends Real {
    constructor(title, options) { super(title, options); seen.push({ title, body: options && options.body }); }
    close() { window.__closed++; super.close(); }
  }
  Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true, writable: true });
})()`;

describe('trust in the desktop app (web shell)', { timeout: 300_000 }, () => {
  let browser: Browser;
  let relay: Relay;
  let hostile: HostileRelay;
  let tlsRelay: Relay | undefined;
  let impostor: Impostor | undefined;
  let aliceShell: UserShell;
  let bobShell: UserShell;
  let alice: AppPage;
  let bob: AppPage;
  let safetyBefore = '';
  let bobInvite = '';
  let bobLaptopShell: UserShell | undefined;

  before(async () => {
    browser = await launchBrowser();
    relay = await startTestServer();
    hostile = await startHostileRelay(relay.url);
    aliceShell = await startUserShell();
    bobShell = await startUserShell();
  });
  after(async () => {
    await browser?.close();
    await aliceShell?.close();
    await bobLaptopShell?.close();
    await bobShell?.close();
    await hostile?.close();
    await relay?.close();
    await tlsRelay?.close();
    await impostor?.close();
  });

  it('Alice opens the app from a join link (a deep link) and joins through the relay she was given; Bob joins', async () => {
    // Alice's profile reaches the relay through the hostile proxy: it is the relay, for all she can tell
    const aliceInvite = inviteVia(relay.firstAdminInvite!, hostile.url);
    alice = await openApp(browser, `${aliceShell.shell.url}&join=${encodeURIComponent(aliceInvite)}`);
    assert.equal(await alice.page.getByRole('textbox', { name: 'Invite link' }).inputValue(), aliceInvite, 'the join flow opens filled in');
    await alice.page.getByText('From the link you opened.').waitFor();
    assert.doesNotMatch(alice.page.url(), /join|token/, 'the link and the token left the address bar');
    await joinAndContinue(alice.page, 'alice');

    await alice.page.getByRole('button', { name: 'Invite people' }).click();
    await alice.page.getByRole('button', { name: 'Create invite link' }).click();
    bobInvite = await alice.page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    await alice.page.getByRole('button', { name: 'Done' }).click();
    bob = await openApp(browser, bobShell.shell.url);
    await joinAndContinue(bob.page, 'bob', inviteVia(bobInvite, relay.url));
    assert.equal(await bob.page.title(), 'Wardroom');
  });

  it('they compare safety numbers: the same digits on both screens, a QR code, and Alice marks Bob verified', async () => {
    // Bob allowed notifications in his browser; what the page shows is recorded as Chromium draws it
    await bob.context.grantPermissions(['notifications']);
    await bob.page.evaluate(RECORD_NOTIFICATIONS);
    await openDirect(alice.page, 'bob');
    await say(alice.page, 'hello bob, shall we compare numbers?');
    await eventually(async () => ((await bob.page.evaluate('window.__notifications.length')) as number) > 0, 'Bob\'s notification');
    assert.deepEqual(await bob.page.evaluate('window.__notifications'), [{ title: 'Wardroom', body: 'New message' }], 'no sender, no text by default');
    // Bob is looking elsewhere: the unread total is in his title
    await eventually(async () => (await bob.page.title()) === '(1) Wardroom', 'the unread total in Bob\'s title');
    await bob.page.getByRole('navigation', { name: 'Workspace' }).getByRole('button', { name: /^alice/ }).click();
    await log(bob.page).getByText('hello bob, shall we compare numbers?').waitFor();
    await eventually(async () => (await bob.page.title()) === 'Wardroom', 'the title without unread once read');

    await alice.page.getByRole('heading', { name: 'bob', level: 1 }).getByRole('button').click();
    const panel = profilePanel(alice.page, 'bob');
    await panel.getByRole('group', { name: /^Safety number/ }).waitFor();
    safetyBefore = await digitsIn(alice.page, 'bob');
    assert.match(safetyBefore, /^(\d{5} ){11}\d{5}$/);
    await panel.getByRole('img', { name: 'QR code of your safety number with bob' }).waitFor();
    assert.ok(await panel.locator('svg.qr rect').count() > 50, 'the QR code is drawn from its modules');
    await panel.getByText('Not verified').waitFor();
    assert.equal(await panel.locator('.verified-state').getAttribute('data-verified'), 'false');

    // Bob opens Alice's profile from her name on a message
    await log(bob.page).getByRole('button', { name: 'alice', exact: true }).first().click();
    await profilePanel(bob.page, 'alice').getByRole('group', { name: /^Safety number/ }).waitFor();
    assert.equal(await digitsIn(bob.page, 'alice'), safetyBefore, 'the same safety number on both sides');
    assert.equal(await profilePanel(bob.page, 'alice').getByRole('group', { name: /^Safety number/ }).innerText().then((t) => t.replace(/\s+/g, ' ').trim()), safetyBefore, 'shown as the twelve groups');
    await profilePanel(bob.page, 'alice').getByRole('button', { name: 'Close' }).click();

    await checkScreen(alice.page, 'profile-safety-number');
    await panel.getByRole('button', { name: 'Mark verified' }).click();
    await panel.locator('.verified-state[data-verified="true"]').waitFor();
    assert.match(await panel.locator('.verified-state').innerText(), /^\W*Verified$/);
    assert.equal((await aliceShell.host.engineOf('alice')!.api.call('contacts.safetyNumber', { username: 'bob' })).verified, true, 'the engine holds it');
    await panel.getByRole('button', { name: 'Clear verification' }).click();
    await panel.getByText('Not verified').waitFor();
    await panel.getByRole('button', { name: 'Mark verified' }).waitFor();
    await alice.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
  });

  it('a notification is taken back when its message is deleted for everyone', async () => {
    // Bob looks at a channel of his own, so a direct message from Alice notifies him
    await bob.page.getByRole('button', { name: 'Create a channel' }).click();
    await bob.page.getByRole('textbox', { name: 'Name', exact: true }).fill('notes');
    await bob.page.getByRole('button', { name: 'Create', exact: true }).click();
    await bob.page.getByRole('heading', { name: '#notes', level: 1 }).waitFor();
    const before = (await bob.page.evaluate('window.__notifications.length')) as number;
    const closedBefore = (await bob.page.evaluate('window.__closed')) as number;
    await say(alice.page, 'this one I take back');
    await eventually(async () => ((await bob.page.evaluate('window.__notifications.length')) as number) > before, 'Bob\'s notification');
    const message = log(alice.page).getByRole('article').filter({ hasText: 'this one I take back' });
    await message.getByRole('button', { name: /^Actions for the message from / }).click();
    await alice.page.getByRole('menuitem', { name: 'Delete for everyone…', exact: true }).click();
    await alice.page.getByRole('dialog', { name: 'Delete message' }).getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(async () => ((await bob.page.evaluate('window.__closed')) as number) > closedBefore, 'the notification closed with its message');
    await bob.page.getByRole('navigation', { name: 'Workspace' }).getByRole('button', { name: /^alice/ }).click();
    await bob.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
    assert.equal(await log(bob.page).getByText('this one I take back').count(), 0);
  });

  it('a relay serving another key for Bob: the change shows in place, Alice\'s message is held with a banner, and accepting sends it', async () => {
    const aliceDevice = (await aliceShell.host.engineOf('alice')!.api.call('account.whoami', {})).deviceId;
    const bobMe = await bobShell.host.engineOf('bob')!.api.call('account.whoami', {});
    serveForgedIdentity(hostile, bobMe, 99);
    assert.ok(hostile.inject(aliceDevice, { t: 'event', kind: 'device_list', account: bobMe.accountId }), 'Alice\'s device is connected through the hostile relay');

    const { page } = alice;
    await log(page).getByRole('note', { name: 'bob\'s safety number changed' }).waitFor({ timeout: 20_000 });
    const banner = page.getByRole('alert').filter({ hasText: 'bob\'s safety number changed; your messages are held until you accept.' });
    await banner.waitFor();
    await say(page, 'is this still you, bob?');
    const held = log(page).getByRole('article').filter({ hasText: 'is this still you, bob?' });
    await held.getByText('Held: their safety number changed').waitFor();
    await checkScreen(page, 'held-banner');

    // the relay cannot accept for her: announcing the list again changes nothing
    assert.ok(hostile.inject(aliceDevice, { t: 'event', kind: 'device_list', account: bobMe.accountId }));
    await page.waitForTimeout(500);
    await held.getByText('Held: their safety number changed').waitFor();
    assert.equal(await log(bob.page).getByText('is this still you, bob?').count(), 0, 'nothing reached Bob');

    // Review: the profile shows the new number, which differs from the one they compared
    await page.getByRole('button', { name: 'Review' }).click();
    const panel = profilePanel(page, 'bob');
    await panel.getByText('bob\'s safety number changed').waitFor();
    await panel.getByRole('group', { name: /^Safety number/ }).waitFor();
    assert.notEqual(await digitsIn(page, 'bob'), safetyBefore, 'the number changed with the key');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Accept and send' }).click();
    await banner.waitFor({ state: 'hidden' });
    await eventually(async () => (await held.locator('.delivery').getAttribute('data-status')) !== 'held', 'the held message to leave the hold');
    // It went out, encrypted for the identity the relay made up: the relay took it, and Bob's device, whose real
    // identity it was not encrypted for, cannot read it and says so (never silently). Accepting was the user's act alone.
    await eventually(async () => (await held.locator('.delivery').getAttribute('data-status')) === 'sent', 'the relay to take the message');
    await bob.page.locator('.notices').getByText(/could not be decrypted/).waitFor({ timeout: 20_000 });
    assert.equal(await log(bob.page).getByText('is this still you, bob?').count(), 0);
    // the warning that also came as a notice is read and dismissed
    await page.locator('.notices').getByRole('button', { name: 'Dismiss' }).first().click();
  });

  it('a verified contact\'s key changes again: the banner asks to verify again, accepting alone is not offered, and verifying sends', async () => {
    const { page } = alice;
    await page.getByRole('heading', { name: 'bob', level: 1 }).getByRole('button').click();
    const panel = profilePanel(page, 'bob');
    await panel.getByRole('button', { name: 'Mark verified' }).click();
    await panel.locator('.verified-state[data-verified="true"]').waitFor();
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });

    const aliceDevice = (await aliceShell.host.engineOf('alice')!.api.call('account.whoami', {})).deviceId;
    const bobMe = await bobShell.host.engineOf('bob')!.api.call('account.whoami', {});
    serveForgedIdentity(hostile, bobMe, 100);
    assert.ok(hostile.inject(aliceDevice, { t: 'event', kind: 'device_list', account: bobMe.accountId }));
    const banner = page.getByRole('alert').filter({ hasText: 'bob\'s safety number changed; your messages are held until you verify it again.' });
    await banner.waitFor({ timeout: 20_000 });
    await eventually(async () => (await log(page).getByRole('note', { name: 'bob\'s safety number changed' }).count()) === 2, 'the second change in place');
    assert.equal(await page.getByRole('button', { name: 'Accept and send' }).count(), 0, 'a verified contact is verified again, not just accepted');
    await say(page, 'verified again?');
    const held = log(page).getByRole('article').filter({ hasText: 'verified again?' });
    await held.getByText('Held: their safety number changed').waitFor();

    await page.getByRole('button', { name: 'Re-verify to send' }).click();
    await panel.getByText('since you verified it').waitFor();
    await panel.getByText('Not verified').waitFor();
    await panel.getByRole('button', { name: 'Mark verified' }).click();
    await panel.locator('.verified-state[data-verified="true"]').waitFor();
    await page.keyboard.press('Escape');
    await banner.waitFor({ state: 'hidden' });
    await eventually(async () => (await held.locator('.delivery').getAttribute('data-status')) === 'sent', 'the message verified for to be sent');
    await page.locator('.notices').getByRole('button', { name: 'Dismiss' }).first().click();
  });

  it('Alice\'s devices are listed in settings, and she renames this one', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Settings' }).click();
    const devices = page.getByRole('list', { name: 'Your devices' });
    const mine = devices.getByRole('listitem', { name: /this device$/ });
    await mine.waitFor();
    assert.equal(await devices.getByRole('listitem').count(), 1);
    assert.match(await mine.innerText(), /This device/);
    assert.match(await mine.innerText(), /Added .*Active/);
    await mine.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('textbox', { name: 'Name of this device' }).fill('Alice\'s laptop');
    await page.getByRole('button', { name: 'Save name' }).click();
    await devices.getByRole('listitem', { name: 'Alice\'s laptop, this device' }).waitFor();
    await page.getByRole('textbox', { name: 'Link a new device: the code it shows' }).fill('WDL1.not-a-code');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    const refusal = await page.getByRole('dialog', { name: 'Settings' }).getByRole('alert').innerText();
    assert.ok(refusal.length > 0 && !refusal.includes('\n'), `a damaged code is refused in one line: ${refusal}`);
    await page.getByRole('heading', { name: 'Devices' }).scrollIntoViewIfNeeded();
    await checkScreen(page, 'devices-settings');
    await page.getByRole('button', { name: 'Done' }).click();
    // the name reached the engine, not only the screen
    const listed = await aliceShell.host.engineOf('alice')!.api.call('devices.list', {});
    assert.equal(listed.devices.find((d) => d.current)?.name, 'Alice\'s laptop');
  });

  it('Bob links a new computer to his account: it shows a code, his first device approves it, and can revoke it again', async () => {
    bobLaptopShell = await startUserShell();
    const laptop = await openApp(browser, bobLaptopShell.shell.url);
    const { page } = laptop;
    await page.getByRole('button', { name: 'Link to an existing account' }).click();
    await page.getByRole('heading', { name: 'Link to an existing account' }).waitFor();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(inviteVia(bobInvite, relay.url));
    await page.getByRole('textbox', { name: 'Username' }).fill('bob');
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Link this computer' }).click();
    const codeBox = page.getByRole('textbox', { name: 'Link code' });
    await codeBox.waitFor({ timeout: 30_000 }); // shown once the relay holds the request
    const code = await codeBox.inputValue();
    assert.match(code, /^WDL1\./);
    await page.getByText('Waiting for your other device to approve…').waitFor();
    await checkScreen(page, 'link-device-code');

    await bob.page.getByRole('button', { name: 'Settings' }).click();
    await bob.page.getByRole('textbox', { name: 'Link a new device: the code it shows' }).fill(code);
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await bob.page.getByText('Approved: the new device is linking now.').waitFor();
    // the link completes on the new computer: Bob's workspace, with his conversation with Alice
    await online(page);
    await page.getByRole('navigation', { name: 'Workspace' }).getByText('bob', { exact: true }).waitFor();

    const devices = bob.page.getByRole('list', { name: 'Your devices' });
    await eventually(async () => (await devices.getByRole('listitem').count()) === 2, 'both of Bob\'s devices listed');
    const other = devices.getByRole('listitem').filter({ hasNotText: 'This device' });
    assert.match(await other.innerText(), /Active/);
    await other.getByRole('button', { name: 'Revoke…' }).click();
    await other.getByText(/stops receiving messages at once/).waitFor();
    await other.getByRole('button', { name: 'Keep it' }).click();
    assert.equal(await devices.getByRole('listitem').count(), 2, 'keeping it changes nothing');
    await other.getByRole('button', { name: 'Revoke…' }).click();
    await other.getByRole('button', { name: /^Revoke / }).click();
    await eventually(async () => (await devices.getByRole('listitem').count()) === 1, 'the revoked device to leave the list');
    await bob.page.getByText(/^Revoked: /).waitFor();
    await bob.page.getByRole('button', { name: 'Done' }).click();
    const listed = await bobShell.host.engineOf('bob')!.api.call('devices.list', {});
    assert.deepEqual(listed.devices.filter((d) => d.status === 'active').map((d) => d.current), [true], 'the relay serves only the device in use now');
    await laptop.context.close();
  });

  it('Alice adds a second profile on another relay beside the first, and switches between them', async () => {
    tlsRelay = await startTestServer({ insecureHttp: false });
    const { page } = alice;
    // the warnings read so far are dismissed (notices stay until then)
    for (let n = await page.locator('.notices .notice').count(); n > 0; n--) await page.locator('.notices').getByRole('button', { name: 'Dismiss' }).first().click();
    await page.getByRole('button', { name: /^Profiles/ }).click();
    await page.getByRole('dialog', { name: 'Profiles' }).getByRole('button', { name: 'Add another profile' }).click();
    await joinAndContinue(page, 'alice', tlsRelay.firstAdminInvite!);
    // the second organisation: no conversations yet, and the first profile still open in the host
    await page.getByText('No direct messages yet.').waitFor();
    await page.getByRole('button', { name: 'Profiles (2)' }).click();
    const switcher = page.getByRole('dialog', { name: 'Profiles' });
    const entries = switcher.getByRole('list', { name: 'Profiles on this computer' }).getByRole('listitem');
    assert.equal(await entries.count(), 2);
    await switcher.getByText('Showing now').waitFor();
    await checkScreen(page, 'profile-switcher');
    await switcher.getByRole('button', { name: 'Switch to alice', exact: true }).click();
    await page.getByRole('navigation', { name: 'Workspace' }).getByRole('button', { name: /^bob/ }).waitFor();
    await online(page);
    await page.getByRole('button', { name: 'Profiles (2)' }).click();
    await switcher.getByRole('button', { name: 'Switch to alice (alice-2)', exact: true }).click();
    await page.getByText('No direct messages yet.').waitFor();
    await online(page);
  });

  it('an impostor at the second relay\'s address: an alarm that the certificate does not match and nothing is sent, not "reconnecting"', async () => {
    const { page } = alice;
    const port = tlsRelay!.port;
    await tlsRelay!.close();
    tlsRelay = undefined;
    impostor = await startImpostor(port);
    const alarm = page.getByRole('alert').filter({ hasText: 'the relay\'s certificate does not match the pinned one' });
    await alarm.waitFor({ timeout: 45_000 });
    assert.match(await alarm.innerText(), /Messages are not being sent/);
    assert.equal(await connection(page).getAttribute('data-state'), 'untrusted');
    assert.doesNotMatch(await connection(page).innerText(), /reconnecting/i);
    await checkScreen(page, 'untrusted-alarm');

    // Lock all: both profiles lock, and the unlock screen offers either
    await page.getByRole('button', { name: 'Profiles (2)' }).click();
    await page.getByRole('dialog', { name: 'Profiles' }).getByRole('button', { name: 'Lock all profiles' }).click();
    await page.getByRole('heading', { name: 'Wardroom is locked' }).waitFor();
    assert.equal(await page.getByRole('combobox', { name: 'Profile' }).locator('option').count(), 2);
    for (const app of [alice, bob]) assert.deepEqual(app.problems, []);
  });
});
