// What the user does, as calls through the bridge whose answers land in the stores. The engine holds the logic;
// this only sequences calls and keeps the stores in step (and wipes them on lock: what the user saw leaves memory).
import { api, errorText, inWebShell, launchJoinLink } from '../bridge/index.ts';
import { joinLinkCandidate } from '../lib/launch.ts';
import { useConnection } from './connection.ts';
import { useContacts } from './contacts.ts';
import { useConversations } from './conversations.ts';
import { useMessages } from './messages.ts';
import { useNotices } from './notices.ts';
import { useSession, type LockReason } from './session.ts';
import { useSettings } from './settings.ts';
import type { Settings } from './types.ts';
import type { EventPayload } from '../../../core/api/contract.ts';
import { useTyping } from './typing.ts';
import { useCompose } from './compose.ts';
import { usePanel } from './panel.ts';
import { useSearch } from './search.ts';
import { useDevices } from './devices.ts';
import { useTrust } from './trust.ts';
import { useDownloads } from './downloads.ts';
import { useUploads } from './uploads.ts';
import { dismissAllNotifications } from './notify.ts';
import { useFilePolicy } from './file-policy.ts';

/** Messages per history page, for every list the renderer loads. */
export const PAGE = 50;
/** How far back events.since looks for the relay's current state after a profile opens. */
const STATE_LOOKBACK = 500;

/** Runs a user action; a failure becomes a notice (never silent) and is rethrown for the form that asked. */
export async function attempt<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    useNotices.getState().add(`${what}: ${errorText(error)}`);
    throw error;
  }
}

let launchOffered = false;

/** A join link handed over (a deep link): the join flow opens with it filled in, beside any profiles already here. */
export function offerJoinLink(text: string): void {
  const link = joinLinkCandidate(text);
  if (link) useSession.getState().set({ pendingJoin: link, joining: true });
}

/** Where the window starts: the open profile (the shell kept it open), else unlock, else join. */
export async function start(): Promise<void> {
  try {
    const [welcome, list] = await Promise.all([api().call('app.welcome', {}), api().call('profiles.list', {})]);
    useSession.getState().set({ profiles: list.profiles, welcomeInvite: welcome.invite, failure: undefined });
    if (!launchOffered) {
      launchOffered = true;
      if (launchJoinLink) offerJoinLink(launchJoinLink);
      // the desktop shell keeps the link the OS handed it until the page asks (the web shell has no such command)
      else if (!inWebShell) void api().call('shell.takeJoinLink', {}).then(({ link }) => link && offerJoinLink(link), () => {});
    }
    const open = list.profiles.find((p) => p.name === (useSession.getState().current ?? list.current) && p.state === 'open') ?? list.profiles.find((p) => p.state === 'open');
    if (open) {
      await api().call('profiles.select', { profile: open.name });
      if (useSession.getState().phase !== 'recovery-kit') await enter(open.name);
      return;
    }
    useSession.getState().set({ phase: list.profiles.length > 0 ? 'locked' : 'onboarding', current: useSession.getState().current ?? list.profiles[0]?.name });
  } catch (error) {
    useSession.getState().set({ failure: errorText(error) });
  }
}

/** A profile name for a new profile: the username, or the username and a number when that is taken. */
function freeProfileName(username: string): string {
  const taken = new Set(useSession.getState().profiles.map((p) => p.name));
  let name = username;
  for (let n = 2; taken.has(name); n++) name = `${username}-${n}`;
  return name;
}

export async function join(link: string, username: string, passphrase: string): Promise<void> {
  const profile = freeProfileName(username);
  const joined = await api().call('profiles.join', { profile, link: link.trim(), username, passphrase });
  wipe(); // the window may have shown another profile until now
  useSession.getState().set({ pendingJoin: undefined, current: profile, recoveryKit: joined.recoveryKit, phase: 'recovery-kit', joining: false, welcomeInvite: undefined });
}

/** The user confirmed the recovery kit is stored: it leaves this window's memory, and the workspace opens. */
export async function confirmRecoveryKit(): Promise<void> {
  const { current } = useSession.getState();
  useSession.getState().set({ recoveryKit: undefined });
  if (current) await enter(current);
}

/** User Timing marks (DevTools' Timings track; the benchmark reads them): unlock asked, answered, first page shown. */
export const MARKS = { unlock: 'wardroom:unlock', unlocked: 'wardroom:unlocked', historyLoaded: 'wardroom:history-loaded' } as const;

export async function unlock(profile: string, passphrase: string): Promise<void> {
  useSession.getState().set({ current: profile });
  performance.mark(MARKS.unlock);
  await api().call('profiles.unlock', { profile, passphrase });
  performance.mark(MARKS.unlocked);
  await enter(profile);
}

export async function lock(): Promise<void> {
  const { current } = useSession.getState();
  if (current) await attempt('Locking failed', () => api().call('profiles.lock', { profile: current }));
}

/** A profile of this window locked (asked for, idle, the system): everything it showed leaves the stores. */
export function locked(profile: string, reason: LockReason | undefined): void {
  const session = useSession.getState();
  if (profile !== session.current || session.phase === 'onboarding') return;
  wipe();
  // a failed unlock leaves the reason it was locked for: the form says why the unlock failed
  const lockReason = reason === 'failed' && session.phase === 'locked' ? session.lockReason : reason;
  session.set({ phase: 'locked', lockReason, me: undefined, profiles: session.profiles.map((p) => (p.name === profile ? { ...p, state: 'locked' } : p)) });
}

function wipe(): void {
  markedUpTo.clear();
  dismissAllNotifications();
  useMessages.getState().clear();
  useConversations.getState().clear();
  useContacts.getState().clear();
  useTyping.getState().clear();
  useUploads.getState().clear();
  useDownloads.getState().clear();
  useFilePolicy.getState().clear();
  useSettings.getState().clear();
  useConnection.getState().reset();
  useNotices.getState().clear();
  useCompose.getState().clear();
  usePanel.getState().clear();
  useSearch.getState().clear();
  useTrust.getState().clear();
  useDevices.getState().clear();
}

/** Who we are again: the org's signed policy changed, and with it perhaps retention (its notice is permanent). */
export async function refreshMe(): Promise<void> {
  const me = await api().call('account.whoami', {});
  useSession.getState().set({ me });
}

/** Loads what the workspace shows first: who we are, the conversations, settings, contacts, the relay's state. */
async function enter(profile: string): Promise<void> {
  useSession.getState().set({ phase: 'opening', current: profile, lockReason: undefined });
  try {
    const [me, list, settings, contacts] = await Promise.all([
      api().call('account.whoami', {}),
      api().call('conversations.list', {}),
      api().call('settings.get', {}),
      api().call('contacts.list', {}),
    ]);
    useConversations.getState().setAll(list.conversations, list.seq);
    useSettings.getState().apply(settings);
    useContacts.getState().setAll(contacts.contacts);
    // The engine reported its relay state before this window listened: find the last report in its replay buffer.
    const replay = await api().call('events.since', { after: Math.max(0, list.seq - STATE_LOOKBACK) });
    const last = replay.events.filter((e) => e.name === 'connection.state' && e.seq <= list.seq).at(-1);
    const state = last?.payload as EventPayload<'connection.state'> | undefined;
    if (state && useConnection.getState().relay === 'unknown') useConnection.getState().setRelay(state.state, state.retryInMs, state.message);
    const profiles = (await api().call('profiles.list', {})).profiles;
    useSession.getState().set({ me, profiles, phase: 'open' });
    const first = list.conversations.find((c) => c.kind === 'channel') ?? list.conversations[0];
    if (first && !useConversations.getState().selected) await openConversation(first.id);
  } catch (error) {
    useSession.getState().set({ phase: 'locked', failure: errorText(error) });
  }
}

/** The conversation list again (a conversation this window did not know appeared: a first DM, an added channel). */
export async function refreshConversations(): Promise<void> {
  const list = await api().call('conversations.list', {});
  useConversations.getState().setAll(list.conversations, list.seq);
}

export async function openConversation(id: string): Promise<void> {
  const counts = useConversations.getState().byId[id];
  useMessages.getState().setUnreadAtOpen(id, counts?.unread ?? 0);
  useConversations.getState().select(id);
  const thread = useMessages.getState().threads[id];
  if (!thread || thread.hasNewer) await loadLatest(id);
  // opening shows no count; the engine's answer puts back the mentions of threads still unread
  await markRead(id, (counts?.mentions ?? 0) > 0);
}

export async function loadLatest(conversation: string): Promise<void> {
  const messages = useMessages.getState();
  messages.loading(conversation, 'latest');
  try {
    messages.setLatest(conversation, await api().call('messages.list', { conversation, limit: PAGE }));
    performance.mark(MARKS.historyLoaded, { detail: { conversation } });
  } catch (error) {
    messages.failed(conversation, errorText(error));
  }
}

export async function loadOlder(conversation: string): Promise<void> {
  const messages = useMessages.getState();
  const thread = messages.threads[conversation];
  if (!thread || !thread.hasOlder || thread.loading || thread.ids.length === 0) return;
  messages.loading(conversation, 'older');
  try {
    messages.prependOlder(conversation, await api().call('messages.list', { conversation, before: thread.ids[0]!, limit: PAGE }));
  } catch (error) {
    messages.failed(conversation, errorText(error));
  }
}

/** The newest message each conversation was marked read up to, so scrolling does not repeat the call. */
const markedUpTo = new Map<string, string>();

/**
 * Marks the conversation's list read up to its newest message loaded here (clears its unread count, sends a read
 * receipt); `force`: asks the engine even when nothing new was read, for the mentions it still counts.
 */
export async function markRead(conversation: string, force = false): Promise<void> {
  const thread = useMessages.getState().threads[conversation];
  const newest = thread?.ids.at(-1);
  useConversations.getState().markedRead(conversation);
  if (!newest || document.visibilityState !== 'visible') return;
  if (!force && (thread!.byId[newest]!.outgoing || markedUpTo.get(conversation) === newest)) return;
  markedUpTo.set(conversation, newest);
  try {
    const { mentions } = await api().call('messages.markRead', { conversation, upTo: newest });
    useConversations.getState().mentionsLeft(conversation, mentions);
  } catch {
    markedUpTo.delete(conversation); // the next look at the conversation tries again
  }
}

export async function createChannel(name: string, topic: string, open: boolean): Promise<void> {
  const channel = await api().call('channels.create', { name, open, ...(topic ? { topic } : {}) });
  useConversations.getState().upsert(channel);
  await openConversation(channel.id);
}

export async function addMember(conversation: string, username: string): Promise<void> {
  await api().call('channels.add', { conversation, username });
  await refreshConversations();
}

/** `@user` (or `@ann,ben`) to its conversation, opened (a first message starts it). */
export async function openDirect(usernames: string): Promise<void> {
  const conversation = await api().call('conversations.resolve', { target: `@${usernames}` });
  useConversations.getState().upsert(conversation);
  await openConversation(conversation.id);
}

export async function createInvite(admin: boolean): Promise<string> {
  return (await attempt('Creating the invite failed', () => api().call('org.invite', { admin }))).link;
}

/** Shown at once, saved, and put back if saving fails (the notice says why). */
export async function changeSettings(patch: Partial<Settings>): Promise<void> {
  const settle = useSettings.getState().propose(patch);
  try {
    settle(await attempt('Saving the setting failed', () => api().call('settings.set', patch)));
  } catch (error) {
    settle();
    throw error;
  }
}

let lastActivity = 0;
/** The user did something: idle locking counts from now (reported at most every 20 s). */
export function reportActivity(): void {
  const now = Date.now();
  if (now - lastActivity < 20_000 || useSession.getState().phase !== 'open') return;
  lastActivity = now;
  void api().call('app.activity', {}).catch(() => {});
}

let typingSentAt = 0;
/** Tells the others this user is typing (renewed every 3 s while they type), or stopped. */
export function typing(conversation: string, active: boolean): void {
  if (!useSettings.getState().settings?.typing) return;
  const now = Date.now();
  if (active && now - typingSentAt < 3_000) return;
  typingSentAt = active ? now : 0;
  void api().call('conversations.typing', { conversation, typing: active }).catch(() => {});
}

// ---------------------------------------------------------------- several profiles side by side

/**
 * Makes another profile the one this window shows. An open one keeps running in the host (it kept receiving) and is
 * selected; a locked one is offered for unlocking. What the previous profile showed leaves the stores first.
 */
export async function switchProfile(name: string): Promise<void> {
  const session = useSession.getState();
  if (name === session.current && session.phase === 'open') return;
  const profile = session.profiles.find((p) => p.name === name);
  wipe();
  if (profile?.state === 'open') {
    await attempt('Switching profiles failed', () => api().call('profiles.select', { profile: name }));
    await enter(name);
  } else {
    session.set({ phase: 'locked', current: name, me: undefined, lockReason: undefined, failure: undefined });
  }
}

/** Join another organisation, or link this computer to another account, beside the profiles already here. */
export function addProfile(): void {
  useSession.getState().set({ joining: true });
}

export async function lockAll(): Promise<void> {
  await attempt('Locking failed', () => api().call('app.lockAll', {}));
}

/**
 * Links this install to an existing account: the relay holds the request, the code arrives as a profile.linkCode
 * event (shown until an existing device approves it), and the call answers once it did (at once with a recovery kit).
 */
export async function linkDevice(link: string, username: string, passphrase: string, recoveryKit?: string): Promise<void> {
  const profile = freeProfileName(username);
  useDevices.getState().set({ linking: { profile } });
  try {
    await api().call('profiles.link', { profile, link: link.trim(), username, passphrase, ...(recoveryKit ? { recoveryKit: recoveryKit.trim() } : {}) });
  } finally {
    useDevices.getState().set({ linking: undefined });
  }
  wipe();
  useSession.getState().set({ joining: false, welcomeInvite: undefined });
  await enter(profile);
}

/** Stops waiting for approval: locking the profile that is linking cancels the link. */
export async function cancelLink(): Promise<void> {
  const linking = useDevices.getState().linking;
  if (linking) await api().call('profiles.lock', { profile: linking.profile }).catch(() => {});
}
