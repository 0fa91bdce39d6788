// Clients that abuse the relay's WebSocket: one that stops reading while signals keep coming for it, and one that
// never reads the relay's pings but sends pongs of its own to look alive. Both must be dropped, and the relay's
// memory for a socket must stay bounded meanwhile. A client that is late with its echo while it still reads what
// it is sent (a backlog on a busy machine) is not dead, and stays.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { randomBytes } from '../../../core/crypto/sodium.ts';
import { MAX_BUFFERED_BYTES } from '../../../server/ws/hub.ts';
import { createOrg, startTestServer, WsClient } from '../../support/server-client.ts';
import type { TestUser } from '../../support/server-client.ts';

const SIGNAL_BYTES = 60 * 1024;
/** Far more than the kernel's socket buffers and the relay's cap together: a relay without a cap keeps taking it. */
const GIVE_UP_BYTES = 96 * 1024 * 1024;

describe('relay: slow and silent consumers', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let alice: TestUser;
  let bob: TestUser;
  const sockets: { close(): unknown }[] = [];

  before(async () => {
    // heartbeats far apart, so only the buffer cap can drop the first test's reader (the second starts its own)
    server = await startTestServer();
    const org = await createOrg(server);
    alice = await org.addUser('alice');
    bob = await org.addUser('bob');
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await server.close();
  });

  it('drops a client that stopped reading while signals pile up for it, its buffer bounded all along', { timeout: 120_000 }, async () => {
    const reader = await WsClient.connect(server.url, bob.token);
    const sender = await WsClient.connect(server.url, alice.token);
    sockets.push(reader, sender);
    reader.socket.pause(); // bob's client stops reading: nothing more leaves the kernel's receive buffer
    let signalled = 0;
    let maxBuffered = 0;
    let dropped = false;
    while (!dropped && signalled < GIVE_UP_BYTES) {
      const burst = Array.from({ length: 16 }, () => sender.request({ t: 'signal', rid: sender.nextRid(), to: bob.deviceId, body: randomBytes(SIGNAL_BYTES) }, 10_000));
      for (const reply of await Promise.all(burst)) {
        if (reply.t === 'signalled') signalled += SIGNAL_BYTES;
        else if (reply.t === 'error' && reply.code === 'offline') dropped = true;
        else assert.fail(`unexpected reply ${JSON.stringify(reply)}`);
      }
      maxBuffered = Math.max(maxBuffered, server.hub.bufferedBytes(bob.deviceId) ?? 0);
    }
    assert.ok(dropped, `the relay still held bob's socket after ${signalled / 1024 ** 2} MiB of signals he never read`);
    assert.ok(maxBuffered <= MAX_BUFFERED_BYTES + SIGNAL_BYTES + 1024, `buffered ${maxBuffered} bytes for one socket`);
    reader.socket.resume();
    await reader.waitForClose();

    // nothing else is affected: bob connects again and signals reach him
    const again = await WsClient.connect(server.url, bob.token);
    sockets.push(again);
    assert.equal((await sender.request({ t: 'signal', rid: sender.nextRid(), to: bob.deviceId, body: randomBytes(16) })).t, 'signalled');
  });

  it('drops a client that never answers the relay\'s pings, however many pongs of its own it sends', async () => {
    const beating = await startTestServer({ heartbeatMs: 250 });
    sockets.push(beating);
    const carol = await (await createOrg(beating)).addUser('carol');
    const silent = new WebSocket(`${beating.url.replace(/^http/, 'ws')}/v1/ws`, { headers: { authorization: `Bearer ${carol.token}` }, autoPong: false });
    sockets.push(silent);
    await once(silent, 'open');
    const unsolicited = setInterval(() => silent.pong(randomBytes(8)), 10);
    try {
      const [code] = await Promise.race([
        once(silent, 'close'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still connected after 40 heartbeats')), 10_000)),
      ]);
      assert.equal(code, 1006, 'terminated, not closed politely');
    } finally {
      clearInterval(unsolicited);
    }

    // an ordinary client (ws echoes each ping) stays connected across many heartbeats
    const honest = await WsClient.connect(beating.url, carol.token);
    sockets.push(honest);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(honest.closeCode, null);
  });

  it('keeps a client that is late with its echo while it still reads what it is sent, and drops it once it stops', async () => {
    const beating = await startTestServer({ heartbeatMs: 200 });
    sockets.push(beating);
    const org = await createOrg(beating);
    const [dan, eve] = [await org.addUser('dan'), await org.addUser('eve')];
    // dan's client reads every frame but never echoes a ping: only what it drains says it is there
    const reader = new WebSocket(`${beating.url.replace(/^http/, 'ws')}/v1/ws`, { headers: { authorization: `Bearer ${dan.token}` }, autoPong: false });
    sockets.push(reader);
    await once(reader, 'open');
    const sender = await WsClient.connect(beating.url, eve.token);
    sockets.push(sender);
    let closed = false;
    reader.once('close', () => (closed = true));
    const flowing = setInterval(() => void sender.request({ t: 'signal', rid: sender.nextRid(), to: dan.deviceId, body: randomBytes(1024) }).catch(() => {}), 20);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // ten heartbeats
    clearInterval(flowing);
    assert.equal(closed, false, 'still connected while it reads');
    const [code] = await Promise.race([
      once(reader, 'close'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still connected long after it had nothing more to read')), 10_000)),
    ]);
    assert.equal(code, 1006, 'then terminated, with no echo and nothing read');
  });
});
