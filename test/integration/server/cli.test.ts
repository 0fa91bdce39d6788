// The wardroom-server CLI as an operator runs it: TLS by default with a printed pin that matches the served key,
// a first-start admin invite, more invites from `wardroom-server invite`, and --help.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { parseInviteLink } from '../../../core/relay/invite-link.ts';
import { startTestServer, tempDir } from '../../support/server-client.ts';
import { killSpawnedServers, spawnServer } from '../../support/server-process.ts';

const BIN = path.join(import.meta.dirname, '..', '..', '..', 'server', 'bin.ts');

/** Fetches /v1/server over TLS without CA checks and returns the body with the pin of the key the server used. */
function fetchWithPeerPin(url: string): Promise<{ body: Record<string, unknown>; pin: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/server`, { rejectUnauthorized: false }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate(false);
      const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => resolve({ body: JSON.parse(text) as Record<string, unknown>, pin: createHash('sha256').update(spki).digest('base64url') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('wardroom-server CLI', () => {
  after(killSpawnedServers);

  it('serves TLS with the printed pin, invites carry it, and a restart keeps key and organisation', { timeout: 60_000 }, async () => {
    const dataDir = tempDir();
    const first = await spawnServer(dataDir, [], { tls: true });
    assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(first.pin && first.firstAdminInvite);
    const served = await fetchWithPeerPin(first.url);
    assert.equal(served.pin, first.pin, 'the printed pin is the SPKI hash of the served certificate');
    assert.equal(served.body.pin, first.pin);
    const invite = parseInviteLink(first.firstAdminInvite);
    assert.deepEqual([invite.server, invite.pin], [first.url, first.pin]);

    const more = execFileSync(process.execPath, [BIN, 'invite', '--data', dataDir, '--admin'], { encoding: 'utf8' }).trim();
    const parsed = parseInviteLink(more);
    assert.equal(parsed.pin, first.pin);
    assert.notEqual(parsed.code, invite.code);
    await first.kill('SIGTERM');

    const second = await spawnServer(dataDir, [], { tls: true });
    assert.equal(second.pin, first.pin, 'the key is kept across restarts');
    assert.equal(second.firstAdminInvite, null, 'no second organisation');
    await second.kill('SIGTERM');
  });

  it('warns loudly on plain HTTP, documents itself, and refuses bad flags', { timeout: 30_000 }, async () => {
    const server = await spawnServer(tempDir());
    assert.match(server.stderr, /WARNING: serving PLAIN HTTP/);
    assert.equal(server.pin, null);
    await server.kill('SIGTERM');
    const help = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    assert.match(help, /--insecure-http/);
    assert.throws(() => execFileSync(process.execPath, [BIN, '--port', 'nope'], { stdio: 'pipe' }), /--port/);
  });

  it('a start that fails (busy port) does not use up the first-start admin invite', async () => {
    const busy = await startTestServer();
    const dataDir = tempDir();
    await assert.rejects(startTestServer({ dataDir, port: busy.port }), /already in use/);
    const retried = await startTestServer({ dataDir });
    assert.ok(retried.firstAdminInvite, 'the invite is printed on the first successful start');
    await Promise.all([busy.close(), retried.close()]);
  });
});
