// What a notification says, in the desktop app and the web shell alike: nothing of the message by default, content
// only when switched on (never a disappearing message's), and none for our own messages, for the history's notices,
// while the user is looking, or below the profile's level.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageViewT } from '../../../core/api/contract.ts';
import { notificationFor, NOTIFICATION_PREVIEW_MAX as PREVIEW_MAX, type NotificationContext } from '../../../core/api/attention.ts';

const message = (change: Partial<MessageViewT> = {}): MessageViewT => ({
  id: 'AAAAAAAAAAAAAAAAAAAAAA', conversation: 'c:general', sender: 'bob', senderDevice: 'd1', text: 'the launch code is 0000',
  sentAt: '2026-01-01T00:00:00.000Z', mentions: [], reactions: [], status: 'delivered', outgoing: false, ...change,
});
const context = (settings: Partial<NotificationContext['settings']> = {}, watching = false): NotificationContext => ({
  settings: { notifications: 'all', notificationContent: false, ...settings }, me: 'alice', watching,
});

describe('notifications', () => {
  it('say that something arrived, and nothing of what or from whom, by default', () => {
    assert.deepEqual(notificationFor(message(), context()), { title: 'Wardroom', body: 'New message' });
    assert.deepEqual(notificationFor(message({ mentions: ['alice'] }), context()), { title: 'Wardroom', body: 'You were mentioned in a new message' });
  });

  it('never carry a disappearing message\'s text, content on or not, and none for the history\'s notices', () => {
    const on = context({ notificationContent: true });
    assert.deepEqual(notificationFor(message({ expiresAt: '2026-01-01T00:01:00.000Z' }), on), { title: 'Wardroom', body: 'New message' });
    assert.deepEqual(notificationFor(message({ burnAfterReadSeconds: 10 }), on), { title: 'Wardroom', body: 'New message' });
    assert.equal(notificationFor(message({ notice: 'timer-changed', text: 'bob set messages to disappear after 1 day' }), on), null);
    assert.equal(notificationFor(message({ notice: 'identity-changed' }), on), null);
  });

  it('show the sender and text only when the user turned content on, as plain text', () => {
    assert.deepEqual(notificationFor(message(), context({ notificationContent: true })), { title: 'bob', body: 'the launch code is 0000' });
    const shown = notificationFor(message({ text: 'line one\n\u202Eevil\u0007 end' }), context({ notificationContent: true }))!;
    assert.equal(shown.body, 'line one evil end');
    const long = notificationFor(message({ text: 'x'.repeat(PREVIEW_MAX * 2) }), context({ notificationContent: true }))!;
    assert.equal(long.body.length, PREVIEW_MAX);
    assert.ok(long.body.endsWith('…'));
  });

  it('follow the level: mentions and direct messages only, or none', () => {
    const mentions = context({ notifications: 'mentions' });
    assert.equal(notificationFor(message(), mentions), null);
    assert.notEqual(notificationFor(message({ mentions: ['alice'] }), mentions), null);
    assert.notEqual(notificationFor(message({ conversation: 'd:bob' }), mentions), null);
    assert.notEqual(notificationFor(message({ conversation: 'g:abc123' }), mentions), null);
    assert.equal(notificationFor(message({ mentions: ['alice'], conversation: 'd:bob' }), context({ notifications: 'none' })), null);
  });

  it('stay quiet for our own messages and while the user is looking, and know no one as "me" before sign-in', () => {
    assert.equal(notificationFor(message({ outgoing: true }), context()), null);
    assert.equal(notificationFor(message(), context({}, true)), null);
    assert.deepEqual(notificationFor(message({ mentions: ['alice'] }), { ...context(), me: undefined }), { title: 'Wardroom', body: 'New message' });
  });
});
