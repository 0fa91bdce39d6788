// The one place events from window.wardroom enter the stores. Started once; each event goes to the slice it
// concerns. Engine events already in the conversation snapshot (seq at or before the list's) are skipped there.
import type { WardroomBridge } from '../bridge/api.ts';
import { locked, offerJoinLink, refreshConversations, refreshMe, start } from './app.ts';
import { useConnection } from './connection.ts';
import { useContacts } from './contacts.ts';
import { useConversations } from './conversations.ts';
import { useMessages } from './messages.ts';
import { useNotices } from './notices.ts';
import { threadShown, usePanel } from './panel.ts';
import { markThreadRead } from './chat.ts';
import { useSession } from './session.ts';
import { useSettings } from './settings.ts';
import { useTyping } from './typing.ts';
import { useDevices } from './devices.ts';
import { useFilePolicy } from './file-policy.ts';
import { dismissNotification, notifyArrival } from './notify.ts';
import { identityChanged } from './trust-actions.ts';

export function startFeed(bridge: WardroomBridge): void {
  const fresh = (seq: number) => seq > useConversations.getState().seq;

  bridge.on('connection.state', ({ state, retryInMs, message }) => useConnection.getState().setRelay(state, retryInMs, message));
  bridge.on('message.received', (message, seq) => {
    useMessages.getState().add(message);
    usePanel.getState().message(message);
    if (!fresh(seq)) return;
    const conversations = useConversations.getState();
    const me = useSession.getState().me?.username;
    const inShownThread = threadShown(message.threadRoot);
    if (!conversations.byId[message.conversation] && conversations.loaded) void refreshConversations();
    else conversations.noteMessage(message, me, inShownThread);
    // a mention in the thread the user is looking at is read there and then
    if (inShownThread && me !== undefined && message.mentions.includes(me)) void markThreadRead(message.conversation, message.threadRoot!);
    useTyping.getState().set(message.conversation, message.sender, false);
    notifyArrival(message);
  });
  bridge.on('message.updated', (message) => {
    useMessages.getState().update(message);
    usePanel.getState().message(message);
  });
  bridge.on('message.removed', ({ conversation, id }) => {
    useMessages.getState().remove(conversation, id);
    usePanel.getState().removed(id);
    dismissNotification(conversation, id);
  });
  bridge.on('conversation.updated', (conversation, seq) => {
    if (fresh(seq)) useConversations.getState().upsert(conversation, seq);
  });
  let undecryptable = 0;
  bridge.on('message.undecryptable', ({ conversation, sender, reason }) => {
    // in the conversation's history where it names one; the notice says it in any case
    if (conversation) useMessages.getState().noteUndecryptable(conversation, { id: `undecryptable-${++undecryptable}`, at: new Date().toISOString(), reason, ...(sender ? { sender } : {}) });
    useNotices.getState().add(`A message${sender ? ` from ${sender}` : ''} could not be decrypted (${reason}).`);
  });
  bridge.on('contact.updated', (contact) => useContacts.getState().upsert(contact));
  bridge.on('policy.changed', () => {
    void refreshMe().catch(() => {});
    void useFilePolicy.getState().load();
  });
  bridge.on('contact.keyChanged', ({ username }) => {
    identityChanged(username);
    useNotices.getState().add(`${username}'s safety number changed: they may have a new device, or someone may be impersonating them.`, 'info');
  });
  // the relay withholds or forks a channel's membership log: sends there are held until it agrees again
  bridge.on('channel.membershipWarning', ({ state, message }) => useNotices.getState().add(message, state === 'resolved' ? 'info' : 'error'));
  bridge.on('typing', ({ conversation, username, typing }) => {
    if (username !== useSession.getState().me?.username) useTyping.getState().set(conversation, username, typing);
  });
  bridge.on('profile.linkCode', ({ profile, code }) => {
    const { linking } = useDevices.getState();
    if (linking?.profile === profile) useDevices.getState().set({ linking: { profile, code } });
  });
  bridge.on('shell.joinLink', ({ link }) => offerJoinLink(link));
  bridge.on('settings.changed', (settings) => useSettings.getState().apply(settings));
  bridge.on('profile.state', ({ profile, state, reason }) => {
    const session = useSession.getState();
    session.set({ profiles: session.profiles.map((p) => (p.name === profile ? { ...p, state } : p)) });
    if (state === 'locked') locked(profile, reason);
  });

  // A new link to the shell is a new session: select the profile again (it stayed open in the shell). A shell
  // whose link cannot drop starts at once.
  if (bridge.onLink) {
    bridge.onLink((up) => {
      useConnection.getState().setLink(up);
      if (up) void start();
    });
  } else {
    void start();
  }
  window.setInterval(() => useTyping.getState().expire(), 1_000);
}
