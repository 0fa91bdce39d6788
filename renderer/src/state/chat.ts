// The conversation features as calls through the bridge: replies (quoted, or in a thread), edits, deletes,
// reactions, threads and members in the side panel, search, and jumps to a message in its context. Like app.ts,
// this only sequences calls and keeps the stores in step; a failure becomes a notice and is rethrown.
import { api, errorText } from '../bridge/index.ts';
import { attempt, loadLatest, loadOlder, PAGE } from './app.ts';
import { useConversations } from './conversations.ts';
import { useMessages } from './messages.ts';
import { useNotices } from './notices.ts';
import { threadShown, usePanel } from './panel.ts';
import { useSearch } from './search.ts';
import { useSession } from './session.ts';
import type { Message } from './types.ts';
import { incoming } from './unread.ts';

const SEARCH_LIMIT = 50;

/** A message sent here: into the conversation's window, and its thread panel when it belongs there. */
function sent(message: Message): void {
  useMessages.getState().add(message);
  usePanel.getState().message(message);
  useConversations.getState().noteMessage(message, useSession.getState().me?.username);
}

/** `reply`: a quoted reply in the conversation (`quote`), or a reply in the message's thread. */
/** `timers`: this message's own; none, and the conversation's timer and the org policy decide. */
export async function sendMessage(conversation: string, text: string, reply?: { to: string; quote: boolean }, timers?: { expiresInSeconds?: number; burnAfterReadSeconds?: number }): Promise<void> {
  const message = await attempt('Sending failed', () => api().call('messages.send', {
    conversation, text, ...(reply ? { replyTo: reply.to, ...(reply.quote ? { quote: true } : {}) } : {}), ...(timers ? { timers } : {}),
  }));
  sent(message);
  // as in Slack and Signal: what you send is shown where it went, at the newest, however far back you were reading
  // (a reply in a thread is shown in its panel)
  if (!message.threadRoot) {
    if (useMessages.getState().threads[conversation]?.hasNewer) await loadLatest(conversation);
    useMessages.getState().showNewest(conversation);
  }
}

export const editMessage = (id: string, text: string) => attempt('Editing failed', () => api().call('messages.edit', { id, text }));

export const deleteMessage = (id: string) => attempt('Deleting failed', () => api().call('messages.delete', { id }));

/** Adds the reaction, or takes ours back when we already reacted with it. */
export async function toggleReaction(message: Message, emoji: string): Promise<void> {
  const me = useSession.getState().me?.username;
  const mine = message.reactions.some((r) => r.emoji === emoji && me !== undefined && r.users.includes(me));
  await attempt('Reacting failed', () => api().call('messages.react', { id: message.id, emoji, remove: mine }));
}

export async function openThread(conversation: string, root: string): Promise<void> {
  const panel = usePanel.getState();
  panel.open({ kind: 'thread', conversation, root });
  try {
    const thread = await api().call('messages.thread', { root, limit: 100 });
    if (!isOpen(root)) return;
    usePanel.getState().threadLoaded(thread);
    await markThreadRead(conversation, root);
  } catch (error) {
    if (isOpen(root)) usePanel.getState().failed(errorText(error));
  }
}

const isOpen = (root: string) => {
  const panel = usePanel.getState().panel;
  return panel?.kind === 'thread' && panel.root === root;
};

/** The thread the panel shows, read up to its newest reply: its mentions leave the conversation's count. */
export async function markThreadRead(conversation: string, root: string): Promise<void> {
  const thread = usePanel.getState().thread;
  if (!threadShown(root) || thread?.root.id !== root) return;
  const upTo = thread.replies.at(-1)?.id ?? root;
  const { mentions } = await api().call('messages.markRead', { conversation, upTo, thread: root }).catch(() => ({ mentions: undefined }));
  if (mentions !== undefined) useConversations.getState().mentionsLeft(conversation, mentions);
}

export async function openMembers(conversation: string): Promise<void> {
  usePanel.getState().open({ kind: 'members', conversation });
  try {
    const { members } = await api().call('channels.members', { conversation });
    const panel = usePanel.getState().panel;
    if (panel?.kind === 'members' && panel.conversation === conversation) usePanel.getState().membersLoaded(members);
  } catch (error) {
    usePanel.getState().failed(errorText(error));
  }
}

export async function search(query: string): Promise<void> {
  const q = query.trim();
  if (!q) return;
  usePanel.getState().open({ kind: 'search' });
  useSearch.getState().started(q);
  try {
    useSearch.getState().done(q, (await api().call('messages.search', { query: q, limit: SEARCH_LIMIT })).messages);
  } catch (error) {
    useSearch.getState().failed(q, errorText(error));
  }
}

/**
 * Shows a message in its conversation: the page around it when the window does not hold it, the list scrolled to
 * it and it highlighted. A reply in a thread shows its root there, and the thread beside it.
 */
export async function jumpTo(conversation: string, id: string, threadRoot?: string): Promise<void> {
  const target = threadRoot ?? id;
  const messages = useMessages.getState();
  try {
    if (!messages.threads[conversation]?.byId[target]) {
      messages.loading(conversation, 'latest');
      messages.setLatest(conversation, await api().call('messages.list', { conversation, around: target, limit: PAGE }));
    }
  } catch (error) {
    messages.failed(conversation, errorText(error));
    useNotices.getState().add(`That message could not be shown: ${errorText(error)}`);
    return;
  }
  useConversations.getState().select(conversation);
  useMessages.getState().focusOn(conversation, target);
  if (threadRoot) await openThread(conversation, threadRoot);
}

/** The window of a conversation reached its end but not the newest message: the next page after it. */
export async function loadNewer(conversation: string): Promise<void> {
  const messages = useMessages.getState();
  const thread = messages.threads[conversation];
  if (!thread || !thread.hasNewer || thread.loading || thread.ids.length === 0) return;
  messages.loading(conversation, 'newer');
  try {
    messages.appendNewer(conversation, await api().call('messages.list', { conversation, after: thread.ids.at(-1)!, limit: PAGE }));
  } catch (error) {
    messages.failed(conversation, errorText(error));
  }
}

/** The newest messages again (the list was showing an older part of the history). */
export async function jumpToLatest(conversation: string): Promise<void> {
  const messages = useMessages.getState();
  messages.loading(conversation, 'latest');
  try {
    const page = await api().call('messages.list', { conversation, limit: PAGE });
    messages.setLatest(conversation, page);
    const newest = page.messages.at(-1);
    if (newest) useMessages.getState().focusOn(conversation, newest.id);
  } catch (error) {
    messages.failed(conversation, errorText(error));
  }
}

/** How far back a jump to the first unread pages at most: beyond it, the oldest message reached is shown. */
const UNREAD_PAGES_MAX = 40;

/**
 * Pages back from the newest until the first unread message is loaded, then jumps to it. The count goes page by
 * page, so it stays right when the bounded window drops the newest on the way.
 */
export async function jumpToFirstUnread(conversation: string): Promise<void> {
  if (useMessages.getState().threads[conversation]?.hasNewer !== false) await loadLatest(conversation);
  let remaining = useMessages.getState().unreadAtOpen[conversation] ?? 0;
  let thread = useMessages.getState().threads[conversation];
  let page = thread?.ids ?? [];
  for (let pages = 0; thread && pages <= UNREAD_PAGES_MAX; pages++) {
    const unread = incoming(thread, page);
    if (unread.length >= remaining && unread.length > 0) return useMessages.getState().focusOn(conversation, unread[unread.length - remaining]!);
    remaining -= unread.length;
    if (!thread.hasOlder) break;
    const oldest = thread.ids[0];
    await loadOlder(conversation);
    thread = useMessages.getState().threads[conversation];
    page = thread ? thread.ids.slice(0, Math.max(0, thread.ids.indexOf(oldest!))) : [];
    if (page.length === 0) break;
  }
  if (thread?.ids[0]) useMessages.getState().focusOn(conversation, thread.ids[0]);
}
