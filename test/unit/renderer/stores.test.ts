// The renderer's logic that runs without a browser: the history window of a conversation (pages in front, live
// messages at the end only when the window reaches the newest, out-of-order arrivals in time order), the sidebar's
// counts (the engine's views, newer than a late snapshot; a mention in a thread of the open channel until the thread
// is read), where the unread messages start once paging back drops the newest, typing signals lapsing, the passphrase hint and day labels. The stores are the real zustand stores the app uses.
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationViewT, MessageViewT } from '../../../core/api/contract.ts';
import { dayLabel } from '../../../renderer/src/lib/time.ts';
import { strengthOf } from '../../../renderer/src/lib/strength.ts';
import { sidebarSections, useConversations } from '../../../renderer/src/state/conversations.ts';
import { WINDOW_MAX } from '../../../renderer/src/state/history-window.ts';
import { firstUnread, useMessages } from '../../../renderer/src/state/messages.ts';
import { TYPING_HOLD_MS, useTyping } from '../../../renderer/src/state/typing.ts';
import { useSettings } from '../../../renderer/src/state/settings.ts';
import type { Settings } from '../../../renderer/src/state/types.ts';

const C = 'c:general';
let clock = Date.parse('2026-03-01T10:00:00Z');

function msg(n: number, patch: Partial<MessageViewT> = {}): MessageViewT {
  return {
    id: `message-${String(n).padStart(8, '0')}`, conversation: C, sender: 'bob', senderDevice: 'd1', text: `text ${n}`,
    sentAt: new Date(clock + n * 1000).toISOString(), mentions: [], reactions: [], status: 'sent', outgoing: false, ...patch,
  };
}

const conversation = (patch: Partial<ConversationViewT> = {}): ConversationViewT => ({
  id: C, kind: 'channel', name: 'general', members: ['ann', 'bob'], unread: 0, mentions: 0, ...patch,
});

describe('renderer: a conversation\'s history window', () => {
  beforeEach(() => useMessages.getState().clear());
  const ids = () => useMessages.getState().threads[C]!.ids.map((id) => Number(id.slice(-8)));

  it('puts older pages in front without repeating what it holds, and keeps hasOlder from the last page', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: [msg(3), msg(4), msg(5)], hasOlder: true, hasNewer: false });
    store.prependOlder(C, { messages: [msg(1), msg(2), msg(3)], hasOlder: false, hasNewer: true });
    assert.deepEqual(ids(), [1, 2, 3, 4, 5]);
    assert.equal(useMessages.getState().threads[C]!.hasOlder, false);
  });

  it('remembers where the unread messages start once paging back has found it, the newest end dropped on the way', () => {
    const store = useMessages.getState();
    store.setUnreadAtOpen(C, 60);
    store.setLatest(C, { messages: Array.from({ length: 50 }, (_, i) => msg(WINDOW_MAX + i)), hasOlder: true, hasNewer: false });
    assert.equal(firstUnread(C), undefined, 'the newest page holds fewer than the 60 unread');
    const older = Array.from({ length: WINDOW_MAX }, (_, i) => msg(i));
    store.prependOlder(C, { messages: older, hasOlder: false, hasNewer: true });
    assert.equal(useMessages.getState().threads[C]!.hasNewer, true, 'the window dropped the newest end');
    assert.equal(firstUnread(C), msg(WINDOW_MAX + 50 - 60).id, 'the 60th from the newest, counted before the drop');
    store.setUnreadAtOpen(C, 0);
    assert.equal(firstUnread(C), undefined, 'opening again starts over');
  });

  it('appends live messages in time order, once, and only to a window that reaches the newest', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: [msg(1), msg(3)], hasOlder: false, hasNewer: false });
    store.add(msg(5));
    store.add(msg(2)); // a late delivery
    store.add(msg(5));
    assert.deepEqual(ids(), [1, 2, 3, 5]);
    store.update(msg(3, { text: 'edited' }));
    assert.equal(useMessages.getState().threads[C]!.byId[msg(3).id]!.text, 'edited');
    store.remove(C, msg(1).id);
    assert.deepEqual(ids(), [2, 3, 5]);

    store.setLatest(C, { messages: [msg(1)], hasOlder: false, hasNewer: true });
    store.add(msg(9));
    assert.deepEqual(ids(), [1], 'a window in the past does not grow a gap');
    store.add({ ...msg(9), conversation: 'c:other' });
    assert.equal(useMessages.getState().threads['c:other'], undefined, 'nothing is kept for a conversation never opened');
  });

  const page = (from: number, count: number) => Array.from({ length: count }, (_, i) => msg(from + i));
  const thread = () => useMessages.getState().threads[C]!;
  const edges = () => [ids()[0], ids().at(-1)];

  it('holds at most WINDOW_MAX messages: older pages push the newest out, and newer pages page them back in', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: page(10_000, 50), hasOlder: true, hasNewer: false });
    for (let from = 9_950; from >= 10_000 - WINDOW_MAX - 100; from -= 50) store.prependOlder(C, { messages: page(from, 50), hasOlder: true, hasNewer: true });
    assert.equal(thread().ids.length, WINDOW_MAX);
    assert.equal(Object.keys(thread().byId).length, WINDOW_MAX, 'what left the window left memory too');
    assert.deepEqual(edges(), [10_000 - WINDOW_MAX - 100, 10_000 - 101], 'the oldest pages kept, the newest dropped');
    assert.equal(thread().hasNewer, true, 'the window no longer reaches the newest');
    store.add(msg(20_000));
    assert.equal(ids().at(-1), 10_000 - 101, 'a live message does not land after a gap');

    store.appendNewer(C, { messages: page(10_000 - 100, 50), hasOlder: true, hasNewer: true });
    assert.equal(thread().ids.length, WINDOW_MAX);
    assert.deepEqual(edges(), [10_000 - WINDOW_MAX - 50, 10_000 - 51], 'a newer page drops as many of the oldest');
    assert.equal(thread().hasOlder, true, 'what was dropped can be paged in again');
    store.appendNewer(C, { messages: page(10_000 - 50, 51), hasOlder: true, hasNewer: false });
    assert.deepEqual([thread().hasNewer, ids().at(-1)], [false, 10_000]);
    store.add(msg(10_001));
    assert.equal(ids().at(-1), 10_001, 'back at the newest: live messages are appended again');
    assert.equal(thread().ids.length, WINDOW_MAX);
  });

  it('keeps a window at the newest bounded under live messages, dropping the end away from where the list is', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: page(1, 50), hasOlder: false, hasNewer: false });
    for (let n = 51; n <= WINDOW_MAX + 100; n++) store.add(msg(n));
    assert.equal(thread().ids.length, WINDOW_MAX, 'reading the newest: the oldest go');
    assert.deepEqual([edges(), thread().hasOlder, thread().hasNewer], [[101, WINDOW_MAX + 100], true, false]);

    store.setAtNewest(C, false);
    for (let n = WINDOW_MAX + 101; n <= WINDOW_MAX + 1_000; n++) store.add(msg(n));
    assert.equal(thread().ids.length, WINDOW_MAX, 'scrolled back while hundreds arrive: the window does not grow');
    assert.deepEqual([edges(), thread().hasNewer], [[101, WINDOW_MAX + 100], true], 'what the user is reading stays; the newest are paged in later');
  });

  it('merges what arrived live while a page reaching the newest was being read', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: page(1, 50), hasOlder: true, hasNewer: true });
    store.loading(C, 'newer');
    store.add(msg(120));
    assert.deepEqual(edges(), [1, 50], 'not put after a gap while the page is on its way');
    store.appendNewer(C, { messages: page(51, 50), hasOlder: true, hasNewer: false });
    assert.deepEqual([edges(), thread().arriving], [[1, 120], undefined]);
    assert.equal(ids().length, 101);
  });

  it('forgets everything, drafts too, when cleared (on lock)', () => {
    const store = useMessages.getState();
    store.setLatest(C, { messages: [msg(1)], hasOlder: false, hasNewer: false });
    store.setDraft(C, 'half a thought');
    store.clear();
    assert.deepEqual([useMessages.getState().threads, useMessages.getState().drafts], [{}, {}]);
  });
});

describe('renderer: the sidebar\'s counts', () => {
  beforeEach(() => useConversations.getState().clear());
  const view = () => useConversations.getState().byId[C]!;

  it('takes the counts from the engine\'s views, and the preview and order from the messages', () => {
    const store = useConversations.getState();
    store.setAll([conversation(), conversation({ id: 'd:bob', kind: 'direct', name: 'bob' })], 7);
    store.noteMessage(msg(1), 'ann');
    store.noteMessage(msg(2, { mentions: ['ann'] }), 'ann');
    assert.deepEqual([view().unread, view().mentions], [0, 0], 'a message adds nothing up: its conversation\'s view follows it');
    assert.equal(view().lastMessage!.text, 'text 2');
    store.upsert(conversation({ unread: 2, mentions: 1 }), 8);
    assert.deepEqual([view().unread, view().mentions], [2, 1]);
    assert.equal(view().lastMessage!.text, 'text 2', 'a view without a newer message keeps the preview');
    store.select(C);
    assert.deepEqual([view().unread, view().mentions], [0, 0], 'opening it clears them');
    store.noteMessage(msg(6, { text: 'x'.repeat(500) }), 'ann');
    assert.equal(view().lastMessage!.text.length, 200, 'the preview is cut to the contract\'s size');
    store.noteMessage(msg(0), 'ann');
    assert.equal(view().lastMessage!.id, msg(6).id, 'an older arrival does not replace the newest preview');
  });

  it('drops a snapshot older than the one shown, and keeps views newer than a snapshot over it', () => {
    const store = useConversations.getState();
    store.setAll([conversation()], 7);
    store.setAll([conversation({ unread: 1 }), conversation({ id: 'd:bob', kind: 'direct', name: 'bob', unread: 1 })], 12);
    store.setAll([conversation()], 9);
    assert.deepEqual([view().unread, useConversations.getState().byId['d:bob']?.unread], [1, 1], 'the answer of an earlier list, come late, is dropped');
    // a view of a new conversation, and one of another, sent after the next snapshot was read but before it answered
    store.upsert(conversation({ id: 'd:cid', kind: 'direct', name: 'cid', unread: 1 }), 14);
    store.upsert(conversation({ unread: 3 }), 15);
    store.setAll([conversation({ unread: 2 }), conversation({ id: 'd:bob', kind: 'direct', name: 'bob', unread: 1 })], 13);
    assert.equal(view().unread, 3, 'the newer view stays');
    assert.equal(useConversations.getState().byId['d:cid']?.unread, 1, 'and so does a conversation the snapshot did not have yet');
  });

  it('counts a mention in a thread of the open channel until that thread is read, unless the panel shows it', () => {
    const store = useConversations.getState();
    store.setAll([conversation()], 7);
    store.select(C);
    store.noteMessage(msg(1, { threadRoot: 'root', mentions: ['ann'] }), 'ann');
    assert.equal(view().mentions, 1, 'the channel is open, the thread is not');
    store.noteMessage(msg(2, { threadRoot: 'root', mentions: ['ann'] }), 'ann', true);
    assert.equal(view().mentions, 1, 'a mention in the thread on screen is read there');
    store.markedRead(C);
    assert.deepEqual([view().unread, view().mentions], [0, 1], 'reading the list leaves the thread\'s mention');
    store.upsert(conversation({ unread: 1, mentions: 2 }));
    assert.deepEqual([view().unread, view().mentions], [0, 1], 'nor does the engine\'s view of the open channel change it');
    store.mentionsLeft(C, 0);
    assert.equal(view().mentions, 0, 'the thread read: the engine\'s count');
  });

  it('keeps the open conversation at no count when the engine\'s view of it arrives before its markRead', () => {
    const store = useConversations.getState();
    store.setAll([conversation(), conversation({ id: 'c:other', name: 'other' })], 7);
    store.select(C);
    store.upsert(conversation({ unread: 1, mentions: 1, topic: 'new topic' }));
    assert.deepEqual([view().unread, view().mentions, view().topic], [0, 0, 'new topic']);
    store.upsert(conversation({ id: 'c:other', name: 'other', unread: 2 }));
    assert.equal(useConversations.getState().byId['c:other']!.unread, 2, 'another conversation takes the engine\'s count');
  });

  it('lists channels by name and direct messages newest first', () => {
    const sections = sidebarSections({
      a: conversation({ id: 'c:b', name: 'beta' }), b: conversation({ id: 'c:a', name: 'alpha' }),
      c: conversation({ id: 'd:x', kind: 'direct', name: 'x', lastMessageAt: '2026-03-01T10:00:00Z' }),
      d: conversation({ id: 'd:y', kind: 'direct', name: 'y', lastMessageAt: '2026-03-02T10:00:00Z' }),
    });
    assert.deepEqual(sections.channels.map((c) => c.name), ['alpha', 'beta']);
    assert.deepEqual(sections.directs.map((c) => c.name), ['y', 'x']);
  });
});

describe('renderer: hints', () => {
  it('grades passphrases: too short, common words marked down, long ones strong', () => {
    assert.equal(strengthOf('abc', 8).label, 'Too short');
    assert.ok(strengthOf('password123', 8).score <= 1, 'a common word and a run');
    assert.ok(strengthOf('aaaaaaaaaaaa', 8).score <= 1, 'one character repeated');
    assert.ok(strengthOf('correct horse battery staple', 8).score >= 3);
  });

  it('labels days as today, yesterday, or the date', () => {
    clock = Date.parse('2026-03-10T12:00:00');
    const now = new Date(clock);
    assert.equal(dayLabel(new Date(clock - 3600_000).toISOString(), now), 'Today');
    assert.equal(dayLabel(new Date(clock - 24 * 3600_000).toISOString(), now), 'Yesterday');
    assert.match(dayLabel('2026-03-01T12:00:00', now), /1/);
  });
});

describe('renderer: typing', () => {
  it('holds a signal for a few seconds, renewed by the next, and drops it after', () => {
    const store = useTyping.getState();
    store.set(C, 'bob', true, 1_000);
    const before = useTyping.getState().byConversation;
    store.expire(1_000 + TYPING_HOLD_MS - 1);
    assert.equal(useTyping.getState().byConversation, before, 'nothing lapsed: the same state, so nothing re-renders');
    store.set(C, 'bob', true, 4_000);
    store.expire(1_000 + TYPING_HOLD_MS + 1);
    assert.deepEqual(Object.keys(useTyping.getState().byConversation[C]!), ['bob'], 'renewed');
    store.expire(4_000 + TYPING_HOLD_MS);
    assert.deepEqual(useTyping.getState().byConversation[C], {});
    store.set(C, 'bob', true, 0);
    store.set(C, 'bob', false, 0);
    assert.deepEqual(useTyping.getState().byConversation[C], {}, 'a stop signal ends it at once');
  });
});

describe('renderer: settings changed twice before the engine answers', () => {
  const engine: Settings = {
    receipts: true, typing: true, notifications: 'all', notificationContent: false, lockAfterSeconds: 900, theme: 'system',
    screenCaptureProtection: false, linkPreviews: true, sendOriginalImages: false,
  };
  beforeEach(() => { useSettings.getState().clear(); useSettings.getState().apply(engine); });

  it('an older answer or event never undoes a newer click; the last answer stands', () => {
    const first = useSettings.getState().propose({ theme: 'dark' });
    assert.equal(useSettings.getState().theme, 'dark', 'shown at once');
    const second = useSettings.getState().propose({ theme: 'system' });
    first({ ...engine, theme: 'dark' });
    assert.equal(useSettings.getState().theme, 'system', 'the first answer arrived after the second click');
    useSettings.getState().apply({ ...engine, theme: 'dark' });
    assert.equal(useSettings.getState().theme, 'system', 'a settings.changed event for the first change neither');
    second({ ...engine, theme: 'system' });
    assert.equal(useSettings.getState().settings?.theme, 'system');
    assert.deepEqual(useSettings.getState().inFlight, []);
  });

  it('a change that fails falls back to the engine\'s word, keeping other changes in flight', () => {
    const failing = useSettings.getState().propose({ receipts: false });
    useSettings.getState().propose({ typing: false });
    failing();
    assert.equal(useSettings.getState().settings?.receipts, true, 'reverted');
    assert.equal(useSettings.getState().settings?.typing, false, 'still in flight');
  });
});
