// The dispatcher is the contract's enforcement point: these tests drive it as a transport would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDispatcher, type Handlers } from '../../../core/api/dispatch.ts';
import { ApiError, LIMITS } from '../../../core/api/contract.ts';

const seen: unknown[] = [];
const handlers = {
  'channels.create': async (req: { name: string; topic?: string }) => {
    seen.push(req);
    return { id: `c:${req.name}`, kind: 'channel', name: req.name, members: ['alice'], unread: 0, mentions: 0, role: 'owner' };
  },
  'account.whoami': async () => ({ username: 'NOT VALID', accountId: 'a', deviceId: 'd', server: 's', admin: false }),
  'vault.shred': async () => {
    throw new Error('secret path /home/alice/.wardroom/vault.db');
  },
  'messages.delete': async () => {
    throw new ApiError('NOT_FOUND', 'no such message');
  },
} as unknown as Handlers;

const internal: string[] = [];
const api = createDispatcher(handlers, (command) => internal.push(command));

test('a valid request reaches the handler and its checked answer comes back', async () => {
  const view = await api.call('channels.create', { name: 'ops' });
  assert.equal(view.name, 'ops');
  assert.deepEqual(seen.at(-1), { name: 'ops', open: false }, 'the handler sees the request with its defaults applied');
});

test('unknown commands, unknown fields and oversized fields are refused before any handler runs', async () => {
  const before = seen.length;
  await assert.rejects(api.callUntyped('channels.explode', {}), (e: ApiError) => e.code === 'UNKNOWN_COMMAND');
  await assert.rejects(api.callUntyped('channels.create', { name: 'ops', admin: true }), (e: ApiError) => e.code === 'BAD_REQUEST');
  await assert.rejects(api.callUntyped('channels.create', { name: 'x'.repeat(LIMITS.channelNameMax + 1) }), (e: ApiError) => e.code === 'BAD_REQUEST' && /name/.test(e.message));
  await assert.rejects(api.callUntyped('messages.send', { conversation: 'd:bob', text: 'x'.repeat(LIMITS.messageTextMax + 1) }), (e: ApiError) => /message/.test(e.message));
  await assert.rejects(api.callUntyped('messages.send', { conversation: 'bob', text: 'hi' }), (e: ApiError) => /conversation/.test(e.message));
  await assert.rejects(api.callUntyped('conversations.resolve', { target: 'bob' }), (e: ApiError) => /target/.test(e.message));
  assert.equal(seen.length, before);
});

test('refusals read as sentences in the user\'s terms, never the validator\'s own text', async () => {
  const refusal = async (name: string, request: unknown) => {
    const error = await api.callUntyped(name, request).then(() => assert.fail(`${name} was accepted`), (e: unknown) => e as ApiError);
    assert.equal(error.code, 'BAD_REQUEST');
    assert.doesNotMatch(error.message, /Too (small|big)|[<>]=|expected string|Invalid|messages\.|channels\./, 'no zod text, no command names');
    return error.message;
  };
  const id = 'A'.repeat(22);
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: '' }), 'the message is empty');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: ' \n\t\u00a0 ' }), 'the message is empty', 'whitespace only');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: '\u200b\u202e\u0007' }), 'the message is empty', 'nothing visible');
  assert.equal(await refusal('messages.edit', { id, text: '   ' }), 'the message is empty');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: 'x'.repeat(LIMITS.messageTextMax + 1) }), 'a message has at most 16,000 characters');
  assert.equal(await refusal('channels.setTopic', { conversation: 'c:ops', topic: 't'.repeat(LIMITS.topicMax + 1) }), 'a topic has at most 256 characters');
  assert.equal(await refusal('messages.search', { query: 'hi', limit: 500 }), 'the limit must be at most 200');
  assert.equal(await refusal('messages.search', { query: '' }), 'the search is empty');
  assert.equal(await refusal('messages.react', { id, emoji: '' }), 'the reaction is empty');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob' }), 'the message is empty', 'neither text nor files');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: 5 }), 'a message must be a string');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: 'hi', colour: 'red' }), 'unknown field: colour');
  assert.equal(await refusal('conversations.resolve', { target: 'bob' }), 'a target is #channel, @username or @name,name', 'a schema\'s own message stays');
  assert.equal(await refusal('messages.send', { conversation: 'd:bob', text: 'hi', timers: { expiresInSeconds: 0 } }), 'an expiry timer must be at least 5 seconds');
});

test('an engine answer that breaks the contract becomes an INTERNAL error, not bad data in the UI', async () => {
  await assert.rejects(api.call('account.whoami', {}), (e: ApiError) => e.code === 'INTERNAL');
  assert.ok(internal.includes('account.whoami'));
});

test('engine bugs do not leak their text to callers; deliberate ApiErrors keep code and message', async () => {
  await assert.rejects(api.call('vault.shred', {}), (e: ApiError) => e.code === 'INTERNAL' && !e.message.includes('/home/alice'));
  await assert.rejects(api.call('messages.delete', { id: 'a'.repeat(20) }), (e: ApiError) => e.code === 'NOT_FOUND' && e.message === 'no such message');
});

test('events are checked against the contract as they leave core', () => {
  const received: unknown[] = [];
  const off = api.on('connection.state', (p) => received.push(p));
  api.emit('connection.state', { state: 'online' });
  assert.throws(() => api.emit('connection.state', { state: 'exploded' } as never));
  off();
  api.emit('connection.state', { state: 'offline' });
  assert.deepEqual(received, [{ state: 'online' }]);
});
