// The server stores ciphertext and routing only. Clients encrypt a marker (messages, channel names, a file) and
// we search every byte the server wrote (database, WAL, blobs, logs) for the marker in several encodings.
// The ciphertext itself is found, which proves the search would have seen the marker had it been stored.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { aeadEncrypt, randomBytes, sealWithRandomNonce, toBase64Url, toHex, utf8 } from '../../../core/crypto/sodium.ts';
import { createOrg, http, tempDir, WsClient } from '../../support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../../support/server-process.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

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
    const channel = await http<{ channelId: string }>(server.url, 'POST', '/v1/channels', {
      token: alice.token, json: { name: toBase64Url(sealWithRandomNonce(key, utf8(`name ${marker}`))), topic: toBase64Url(sealWithRandomNonce(key, utf8(`topic ${marker}`))) },
    });
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
    const needles = [utf8(marker), utf8(toHex(utf8(marker))), utf8(toBase64Url(utf8(marker))), utf8(Buffer.from(marker).toString('base64'))];
    for (const { file, bytes } of contents) {
      for (const needle of needles) assert.equal(bytes.indexOf(needle), -1, `${file} contains the marker`);
    }
    assert.ok(contents.some((c) => c.bytes.indexOf(envelope) !== -1), 'the envelope ciphertext itself is stored (the search works)');
    assert.ok(contents.some((c) => c.bytes.indexOf(fileCiphertext) !== -1), 'the blob ciphertext is stored');
  });
});
