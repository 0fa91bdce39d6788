// JSON-RPC for `wardroom serve` and the web shell (core/api/json-rpc.ts, core/cli/json-rpc.ts, core/cli/rpc-session.ts): the line decoder and its
// size bound (fuzzed against a model, fixed seeds), the request decoder (every malformed line becomes an error with
// the right code, never an exception), the error mapping, and a session fed random bytes answering only JSON-RPC.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { ApiError } from '../../../core/api/contract.ts';
import {
  decodeReply, decodeRequest, encodeCall, encodeError, encodeEvent, encodeResult, MAX_REQUEST_BYTES, rpcErrorOf, type Incoming, type RpcTarget,
} from '../../../core/api/json-rpc.ts';
import { LineDecoder } from '../../../core/cli/json-rpc.ts';
import { startSession } from '../../../core/cli/rpc-session.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

function collect(maxBytes: number) {
  const out: (string | 'OVERSIZED')[] = [];
  let peak = 0;
  const decoder = new LineDecoder(maxBytes, (line) => out.push(line.toString('latin1')), () => out.push('OVERSIZED'));
  const push = (chunk: Uint8Array) => {
    decoder.push(chunk);
    peak = Math.max(peak, decoder.buffered);
  };
  return { out, push, end: () => decoder.end(), peak: () => peak };
}

describe('LineDecoder', () => {
  it('splits lines across chunk boundaries, ends a last line without a newline, keeps empty lines', () => {
    const d = collect(100);
    for (const piece of ['ab', 'c\nde', '\n\nf\ng', 'h']) d.push(bytes(piece));
    assert.deepEqual(d.out, ['abc', 'de', '', 'f']);
    d.end();
    assert.deepEqual(d.out, ['abc', 'de', '', 'f', 'gh']);
  });

  it('accepts a line of exactly the limit; reports a longer one once and skips its rest, however it is chunked', () => {
    const d = collect(8);
    d.push(bytes('12345678\n123456789'));
    for (let i = 0; i < 1000; i++) d.push(bytes('x'.repeat(1000)));
    d.push(bytes('{"tail":1}\nok\n'));
    assert.deepEqual(d.out, ['12345678', 'OVERSIZED', 'ok']);
    assert.ok(d.peak() <= 8, `held ${d.peak()} bytes`);
  });

  it('matches a model on random lines and random chunking, never holding more than the limit (fuzz, fixed seed)', () => {
    const limit = 16;
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b.filter((x) => x !== 0x0a)).toString('latin1')),
      fc.nat(200).map((n) => 'y'.repeat(n)),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 30 }), fc.array(fc.nat(40), { maxLength: 30 }), fc.boolean(), (lines, cuts, finalNewline) => {
      const text = lines.join('\n') + (finalNewline ? '\n' : '');
      const all = Buffer.from(text, 'latin1');
      const d = collect(limit);
      let at = 0;
      for (const cut of cuts) {
        d.push(all.subarray(at, Math.min(all.length, at + cut)));
        at = Math.min(all.length, at + cut);
      }
      d.push(all.subarray(at));
      d.end();
      // every newline ends a line; what follows the last one counts at the end unless it is empty
      const segments = text.split('\n');
      const tail = segments.pop()!;
      const expected = [...segments, ...(tail ? [tail] : [])].map((l) => (Buffer.byteLength(l, 'latin1') > limit ? 'OVERSIZED' : l));
      assert.deepEqual(d.out, expected);
      assert.ok(d.peak() <= limit);
    }), { numRuns: 3000, seed: 1103 });
  });
});

describe('decodeRequest', () => {
  const decode = (text: string) => decodeRequest(bytes(text));
  const errorOf = (incoming: Incoming) => (incoming.kind === 'invalid' ? { id: incoming.id, code: incoming.error.code, data: incoming.error.data.code, message: incoming.error.message } : null);

  it('reads calls, notifications and blank lines', () => {
    assert.deepEqual(decode('{"jsonrpc":"2.0","id":7,"method":"account.whoami"}'), { kind: 'call', id: 7, method: 'account.whoami', params: undefined });
    assert.deepEqual(decode('{"jsonrpc":"2.0","id":"a","method":"m","params":{"x":1}}\r'), { kind: 'call', id: 'a', method: 'm', params: { x: 1 } });
    assert.deepEqual(decode('{"jsonrpc":"2.0","id":null,"method":"m"}'), { kind: 'call', id: null, method: 'm', params: undefined });
    assert.deepEqual(decode('{"jsonrpc":"2.0","method":"m","params":[1]}'), { kind: 'notification', method: 'm', params: [1] });
    assert.deepEqual(decode(' \t\r'), { kind: 'blank' });
  });

  it('answers each malformed line with its JSON-RPC code and one line of explanation', () => {
    assert.deepEqual(errorOf(decode('not json')), { id: null, code: -32700, data: 'BAD_REQUEST', message: 'parse error: the request is not JSON (one JSON-RPC request per line or message, UTF-8)' });
    assert.equal(errorOf(decodeRequest(Uint8Array.of(0x22, 0xff, 0x22)))!.code, -32700, 'not UTF-8');
    for (const notAnObject of ['42', '"text"', 'null', 'true']) assert.equal(errorOf(decode(notAnObject))!.code, -32600, notAnObject);
    assert.match(errorOf(decode('[{"jsonrpc":"2.0","id":1,"method":"m"}]'))!.message, /batch requests are not supported/);
    assert.deepEqual(errorOf(decode('{"id":3,"method":"m"}'))!.id, 3, 'the id is echoed when it can be read');
    assert.equal(errorOf(decode('{"jsonrpc":"1.0","id":3,"method":"m"}'))!.code, -32600);
    assert.equal(errorOf(decode('{"jsonrpc":"2.0","id":{},"method":"m"}'))!.id, null);
    assert.match(errorOf(decode('{"jsonrpc":"2.0","id":1,"method":"m","extra":1}'))!.message, /check: extra/);
    assert.deepEqual(errorOf(decode('{"jsonrpc":"2.0","id":4,"method":"m","params":[1,2]}')), { id: 4, code: -32602, data: 'BAD_REQUEST', message: 'm: params is the request object (by name), not an array' });
    assert.equal(errorOf(decode('{"jsonrpc":"2.0","id":4,"method":"m","params":null}'))!.code, -32602);
    assert.equal(errorOf(decode('{"jsonrpc":"2.0","id":1,"method":5}'))!.code, -32600);
  });

  it('survives a megabyte of nesting', () => {
    assert.equal(decodeRequest(bytes('['.repeat(MAX_REQUEST_BYTES))).kind, 'invalid');
    assert.equal(decodeRequest(bytes(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`)).kind, 'call');
  });

  it('never throws, and anything it calls is a well-formed request (fuzz, fixed seed)', () => {
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.jsonValue().map((v) => bytes(JSON.stringify(v))),
      fc.record({ jsonrpc: fc.oneof(fc.constant('2.0'), fc.jsonValue()), id: fc.jsonValue(), method: fc.oneof(fc.string(), fc.jsonValue()), params: fc.jsonValue() }, { requiredKeys: [] })
        .map((v) => bytes(JSON.stringify(v))),
    );
    fc.assert(fc.property(line, (input) => {
      const incoming = decodeRequest(input);
      if (incoming.kind === 'invalid') {
        assert.ok([-32700, -32600, -32602].includes(incoming.error.code));
        assert.ok(!incoming.error.message.includes('\n'));
      }
      if (incoming.kind === 'call') {
        assert.equal(typeof incoming.method, 'string');
        assert.ok(incoming.params === undefined || (typeof incoming.params === 'object' && incoming.params !== null && !Array.isArray(incoming.params)));
      }
    }), { numRuns: 5000, seed: 1104 });
  });
});

describe('errors and replies', () => {
  it('maps the contract codes onto JSON-RPC codes, and hides what is not an ApiError', () => {
    assert.deepEqual(rpcErrorOf(new ApiError('UNKNOWN_COMMAND', 'unknown command: x')), { code: -32601, message: 'unknown command: x', data: { code: 'UNKNOWN_COMMAND' } });
    assert.equal(rpcErrorOf(new ApiError('BAD_REQUEST', 'b')).code, -32602);
    assert.deepEqual(rpcErrorOf(new ApiError('NOT_FOUND', 'no such channel')), { code: -32000, message: 'no such channel', data: { code: 'NOT_FOUND' } });
    const internal = rpcErrorOf(new Error('/home/me/secret path'));
    assert.equal(internal.data.code, 'INTERNAL');
    assert.doesNotMatch(internal.message, /secret/);
  });

  it('decodes what the encoders write, and nothing else', () => {
    assert.deepEqual(decodeReply(bytes(encodeResult(1, { a: 1 }))), { kind: 'result', id: 1, result: { a: 1 } });
    const error = decodeReply(bytes(encodeError(2, rpcErrorOf(new ApiError('NOT_FOUND', 'gone')))));
    assert.ok(error?.kind === 'error' && error.error instanceof ApiError && error.error.code === 'NOT_FOUND' && error.error.message === 'gone');
    assert.deepEqual(decodeReply(bytes(encodeEvent('message.removed', { id: 'x', reason: 'burned' }, 9))), { kind: 'event', method: 'message.removed', payload: { id: 'x', reason: 'burned' }, seq: 9 });
    assert.equal(decodeReply(bytes(encodeCall(1, 'm', {}))), null, 'a request is not a reply');
    assert.equal(decodeReply(bytes('{"jsonrpc":"2.0","method":"e","params":{}}')), null, 'an event without its seq');
    assert.equal(decodeReply(bytes('nonsense')), null);
  });
});

describe('a session', () => {
  /** A target that answers every call with its name, or refuses it, so only the framing is under test. */
  const target: RpcTarget = {
    callUntyped: async (name) => {
      if (name === 'refuse') throw new ApiError('NOT_FOUND', 'refused');
      return { name };
    },
    onAny: () => () => {},
  };

  async function feed(chunks: Uint8Array[]) {
    const input = new PassThrough();
    const output = new PassThrough();
    let written = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const session = startSession(target, input, output, { log: () => {}, label: 'test' });
    for (const chunk of chunks) input.write(chunk);
    input.end();
    await session.finished;
    return written.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('answers calls in any order by id, errors with codes, and never notifications', async () => {
    const replies = await feed([bytes('{"jsonrpc":"2.0","id":1,"method":"a"}\n{"jsonrpc":"2.0","method":"quiet"}\n{"jsonrpc":"2.0","id":2,"me'), bytes('thod":"refuse"}\nbad\n')]);
    assert.deepEqual(replies.find((r) => r.id === 1), { jsonrpc: '2.0', id: 1, result: { name: 'a' } });
    assert.deepEqual(replies.find((r) => r.id === 2), { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'refused', data: { code: 'NOT_FOUND' } } });
    assert.equal(replies.length, 3);
  });

  it('answers random bytes with one JSON-RPC response per line that is not blank or a notification (fuzz, fixed seed)', async () => {
    const newline = fc.constant(Uint8Array.of(0x0a));
    const call = fc.constant(bytes('{"jsonrpc":"2.0","id":1,"method":"a"}\n'));
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), newline, call), { maxLength: 20 }), async (chunks) => {
      const replies = await feed(chunks);
      const lines = Buffer.concat(chunks).toString('latin1').split('\n');
      if (lines.at(-1) === '') lines.pop();
      const answered = lines.filter((line) => !['blank', 'notification'].includes(decodeRequest(Buffer.from(line, 'latin1')).kind));
      assert.equal(replies.length, answered.length);
      for (const reply of replies) {
        assert.equal(reply.jsonrpc, '2.0');
        assert.ok('result' in reply || 'error' in reply);
      }
    }), { numRuns: 300, seed: 1105 });
  });
});
