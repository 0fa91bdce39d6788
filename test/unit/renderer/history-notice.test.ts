// The words of history notices: who did what to whom, "you" for this user, names kept as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyNoticeText } from '../../../renderer/src/lib/history-notice.ts';

test('membership notices say who changed what, in the user\'s terms', () => {
  const notice = (sender: string, change: 'created' | 'added' | 'removed' | 'joined' | 'left' | 'role', members: string[], role?: 'owner' | 'admin' | 'member') =>
    historyNoticeText({ notice: 'membership', sender, membership: { change, members, ...(role ? { role } : {}) } }, 'bob');
  assert.equal(notice('alice', 'created', ['alice']), 'alice created this channel');
  assert.equal(notice('alice', 'added', ['bob']), 'alice added you');
  assert.equal(notice('alice', 'added', ['carol', 'dan', 'bob']), 'alice added carol, dan and you');
  assert.equal(notice('bob', 'removed', ['carol']), 'You removed carol');
  assert.equal(notice('carol', 'joined', ['carol']), 'carol joined');
  assert.equal(notice('carol', 'left', ['carol']), 'carol left');
  assert.equal(notice('alice', 'role', ['bob'], 'admin'), 'alice made you an admin');
  assert.equal(historyNoticeText({ sender: 'carol' }, 'bob'), null, 'a message is not a notice');
});

test('retention notices name the archive the org\'s policy named, and say when it stops', () => {
  assert.match(historyNoticeText({ notice: 'retention-on', sender: 'records' }, 'bob')!, /^Retention was turned on: .*\(records\)/);
  assert.match(historyNoticeText({ notice: 'retention-off', sender: 'records' }, 'bob')!, /no longer receives copies/);
});
