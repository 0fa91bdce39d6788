// A notification the app showed about a message goes when the message does (expired, burned or deleted), so the
// OS is not left holding word of a message that no longer exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowPresenter } from '../../../electron/presenter.ts';

test('a removed message takes its notification with it, and the window still hears of the removal', async () => {
  const dismissed: string[] = [];
  const toWindow: string[] = [];
  const presenter = new WindowPresenter({
    toWindow: (name) => toWindow.push(name), call: async () => ({ profiles: [] }), showNotification: () => {}, dismissNotification: (id) => dismissed.push(id),
    setContentProtection: () => {}, setBadge: () => {}, isFocused: () => false, log: () => {}, delayMs: 1,
  });
  presenter.onEvent('message.removed', { id: 'AAAAAAAAAAAAAAAAAAAAAA', conversation: 'd:bob', reason: 'expired' }, 1);
  assert.deepEqual(dismissed, ['AAAAAAAAAAAAAAAAAAAAAA']);
  assert.deepEqual(toWindow, ['message.removed']);
  await presenter.settled();
  presenter.close();
});
