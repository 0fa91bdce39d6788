// The server stores ciphertext and routing only. Clients encrypt a marker (messages, a file; channel names, topics
// and messages as real engines send them) and we search every byte the server wrote (database, WAL, blobs, logs)
// for the marker in several encodings. The ciphertext itself is found, which proves the search would have seen the
// marker had it been stored.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { aeadEncrypt, randomBytes, sealWithRandomNonce, toBase64Url, toHex, utf8 } from '../../../core/crypto/sodium.ts';
import type { ConversationViewT } from '../../../core/api/contract.ts';
import { idOf, type TestEngine } from '../../support/engines.ts';
import { createOrg, http, tempDir, WsClient } from '../../support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../../support/server-process.ts';
import { orgOn } from '../../support/spawned-org.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** A text in the encodings a careless server might store it in. */
const encodings = (text: string) => [utf8(text), utf8(toHex(utf8(text))), utf8(toBase64Url(utf8(text))), utf8(Buffer.from(text).toString('base64'))];

describe('no plaintext on the server', () => {
  after(killSpawnedServers);

  it('never writes the plaintext marker anywhere in its data directory or logs', { timeout: 60_000 }, async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir, ['--log-level', 'debug']);
    const org = await createOrg(server);
    const alice = await org.addUser('alice');
    const bob = await org.addUser('bob');
    const marker = `WARDROOM-PLAINTEXT-MARKER-${toHex(randomBytes(8))}`;
    const key = randomBytes(32); // known to the clients only

    const nonce = randomBytes(24);
    const envelope = aeadEncrypt(key, nonce, utf8(`message body ${marker}`));
    // names and topics as the engine seals them are the next test's; here the channel only routes the raw send
    const channel = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', { token: alice.token, json: { name: toBase64Url(randomBytes(300)) } });
    await http(server.url, 'POST', `/v1/channels/${channel.body.channelId}/members`, { token: alice.token, json: { accountIds: [bob.accountId] } });
    const socket = await WsClient.connect(server.url, alice.token);
    // Bob is offline, so both envelopes stay queued in the database.
    assert.equal((await socket.sendToDevices([{ device: bob.deviceId, body: envelope }])).t, 'sent');
    assert.equal((await socket.sendToChannel(channel.body.channelId, sealWithRandomNonce(key, utf8(`channel ${marker}`)))).t, 'sent');
    const fileCiphertext = sealWithRandomNonce(key, utf8(`file contents ${marker}`.repeat(50)));
    const blob = await http<{ blobId: string }>(server.url, 'POST', '/v1/blobs', { token: alice.token, json: { size: fileCiphertext.length } });
    await http(server.url, 'PUT', `/v1/blobs/${blob.body.blobId}/data?offset=0`, { token: alice.token, raw: fileCiphertext });
    // A malformed request that echoes nothing: the marker in a refused body must not reach the logs either.
    const refused = await http(server.url, 'POST', '/v1/channels', { token: alice.token, json: { name: `${marker}!`, topic: marker } });
    assert.equal(refused.status, 400);
    await socket.close();
    await server.kill('SIGKILL'); // leave the WAL as it is: it must be clean too

    const contents = filesUnder(dataDir).map((file) => ({ file, bytes: readFileSync(file) }));
    assert.ok(contents.some((c) => c.file.endsWith('server.log') && c.bytes.length > 0), 'the logs were written');
    const needles = encodings(marker);
    for (const { file, bytes } of contents) {
      for (const needle of needles) assert.equal(bytes.indexOf(needle), -1, `${file} contains the marker`);
    }
    assert.ok(contents.some((c) => c.bytes.indexOf(envelope) !== -1), 'the envelope ciphertext itself is stored (the search works)');
    assert.ok(contents.some((c) => c.bytes.indexOf(fileCiphertext) !== -1), 'the blob ciphertext is stored');
  });

  it('never holds a channel name or topic, or a message, as real engines send them', { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir, ['--log-level', 'debug']);
    const engineLog: string[] = [];
    const org = await orgOn(server.firstAdminInvite!, { log: (line) => engineLog.push(line) }, 'alice');
    const hex = toHex(randomBytes(8));
    const marker = `WARDROOM-PLAINTEXT-MARKER-${hex}`;
    const secrets = [`room-${hex}`, marker]; // a private channel's name, and the marker in every topic and message
    const listed = `open-${hex}`; // an open channel's name is listed to the org, and so to the relay (by design)
    try {
      const alice = org.admin;
      const bob = await org.addUser('bob');
      const carol = await org.addUser('carol');
      const view = async (e: TestEngine, id: string) => (await e.engine.api.call('conversations.list', {})).conversations.find((c) => c.id === id);
      const until = async (e: TestEngine, id: string, ok: (v: ConversationViewT | undefined) => boolean) => {
        for (let i = 0; i < 150 && !ok(await view(e, id)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
        assert.ok(ok(await view(e, id)), `${e.username} sees the channel as sealed`);
      };
      const room = (await alice.engine.api.call('channels.create', { name: `room-${hex}`, topic: `first topic ${marker}` })).id;
      await alice.engine.api.call('channels.add', { conversation: room, username: 'bob' });
      await until(bob, room, (v) => v?.topic === `first topic ${marker}`);
      await bob.engine.api.call('channels.setTopic', { conversation: room, topic: `bob's topic ${marker}` });
      await alice.engine.api.call('channels.add', { conversation: room, username: 'carol' });
      await until(carol, room, (v) => v?.name === `room-${hex}` && v.topic === `bob's topic ${marker}`);
      const sent = await alice.engine.api.call('messages.send', { conversation: room, text: `channel message ${marker}` });
      await carol.waitFor(() => carol.received().some((m) => m.id === sent.id), 15_000, 'the channel message');
      await bob.engine.api.call('messages.send', { conversation: await idOf(bob.engine.api, '@carol'), text: `direct message ${marker}` });
      const lobby = (await alice.engine.api.call('channels.create', { name: listed, topic: `open topic ${marker}`, open: true })).id;
      await carol.engine.api.call('channels.join', { channel: listed });
      await until(carol, lobby, (v) => v?.topic === `open topic ${marker}`);
    } finally {
      await org.close();
    }
    await server.kill('SIGKILL');

    const contents = filesUnder(dataDir).map((file) => ({ file, bytes: readFileSync(file) }));
    for (const { file, bytes } of contents) {
      for (const secret of secrets) for (const needle of encodings(secret)) assert.equal(bytes.indexOf(needle), -1, `${file} contains ${secret === marker ? 'a topic or message' : 'the private channel\'s name'}`);
    }
    for (const line of engineLog) for (const secret of secrets) assert.equal(line.includes(secret), false, `an engine logged it: ${line.slice(0, 120)}`);
    assert.ok(contents.some((c) => c.bytes.indexOf(utf8(listed)) !== -1), 'the open channel\'s listed name is stored (as documented), so the search reads the database');
  });
});
