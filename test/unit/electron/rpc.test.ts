// JSON-RPC between main and the engine process, over a real Node MessageChannel (the same messages Electron's
// MessagePortMain carries; Electron's runtime cannot run here, so its ports are the one stand-in): calls both
// ways, the contract's error codes carried, internals never, size limits, malformed messages, and a closed port.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { ApiError } from '../../../core/api/contract.ts';
import { MAX_REQUEST_CHARS, RpcPeer, type PeerOptions } from '../../../electron/rpc.ts';
import { nodePort } from '../../support/node-ports.ts';

function pair(left: Partial<PeerOptions>, right: Partial<PeerOptions>) {
  const { port1, port2 } = new MessageChannel();
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const a = new RpcPeer(nodePort(port1), { maxInboundChars: MAX_REQUEST_CHARS, log, ...left });
  const b = new RpcPeer(nodePort(port2), { maxInboundChars: MAX_REQUEST_CHARS, log, ...right });
  return { a, b, port1, port2, logs, close: () => { a.close(); b.close(); } };
}

const code = (expected: string) => (error: { code?: string }) => error.code === expected;

describe('electron: JSON-RPC over a message port', () => {
  it('calls both ways and answers each with its own result', async () => {
    const { a, b, close } = pair(
      { handle: async (method) => ({ from: 'a', method }) },
      { handle: async (method, params) => ({ from: 'b', method, params }) },
    );
    assert.deepEqual(await a.call('profiles.list', { x: 1 }), { from: 'b', method: 'profiles.list', params: { x: 1 } });
    assert.deepEqual(await b.call('keystore.wrap'), { from: 'a', method: 'keystore.wrap' });
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => a.call(`m${i}`)));
    assert.deepEqual(many.map((r) => (r as { method: string }).method), Array.from({ length: 20 }, (_, i) => `m${i}`));
    close();
  });

  it('carries the contract\'s codes, and never an internal error\'s text', async () => {
    const { a, close } = pair({}, {
      handle: async (method) => {
        if (method === 'locked') throw new ApiError('LOCKED', 'the profile alice is locked: unlock it first');
        throw new Error('SQLITE_CORRUPT at /home/alice/.config/Wardroom/profiles/alice/vault.db');
      },
    });
    await assert.rejects(a.call('locked'), (error: ApiError) => error instanceof ApiError && error.code === 'LOCKED' && error.message === 'the profile alice is locked: unlock it first');
    await assert.rejects(a.call('broken'), (error: ApiError) => error.code === 'INTERNAL' && !error.message.includes('vault.db'));
    close();
  });

  it('answers UNKNOWN_COMMAND where nothing handles calls', async () => {
    const { a, close } = pair({}, {});
    await assert.rejects(a.call('anything'), code('UNKNOWN_COMMAND'));
    close();
  });

  it('delivers notifications (events with their seq)', async () => {
    const seen: unknown[] = [];
    const { b, close } = pair({ onNotification: (method, params) => seen.push([method, params]) }, {});
    b.notify('profile.state', { profile: 'a', state: 'open', seq: 4 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(seen, [['profile.state', { profile: 'a', state: 'open', seq: 4 }]]);
    close();
  });

  it('refuses a request larger than the limit, or that is not JSON data, before sending it', async () => {
    let handled = 0;
    const { a, close } = pair({}, { handle: async () => ++handled });
    await assert.rejects(a.call('messages.send', { text: 'x'.repeat(MAX_REQUEST_CHARS) }), code('BAD_REQUEST'));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await assert.rejects(a.call('messages.send', cycle), code('BAD_REQUEST'));
    await assert.rejects(a.call('messages.send', { n: 1n }), code('BAD_REQUEST'));
    assert.equal(handled, 0);
    close();
  });

  it('drops what is not JSON-RPC text, and answers a malformed request that has an id', async () => {
    let handled = 0;
    const { port1, close, logs } = pair({}, { handle: async () => ++handled, maxInboundChars: 1000 });
    const replies: unknown[] = [];
    port1.on('message', (m) => replies.push(JSON.parse(m as string)));
    port1.postMessage({ jsonrpc: '2.0', id: 1, method: 'not text' });
    port1.postMessage('not json');
    port1.postMessage(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'x', params: {}, extra: true }));
    port1.postMessage(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'x', params: { big: 'y'.repeat(1000) } }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(handled, 0);
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'invalid JSON-RPC request', data: { code: 'BAD_REQUEST' } } }]);
    assert.equal(logs.length, 4);
    close();
  });

  it('refuses calls in flight with DISCONNECTED when the other side goes away, and every call after', async () => {
    let closed = 0;
    const { a, b } = pair({ onClose: () => closed++ }, { handle: () => new Promise(() => {}) });
    const pending = a.call('never.answered');
    b.close();
    await assert.rejects(pending, code('DISCONNECTED'));
    await assert.rejects(a.call('later'), code('DISCONNECTED'));
    assert.equal(closed, 1);
    assert.equal(a.closed, true);
  });
});
