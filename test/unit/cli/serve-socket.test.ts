// Where `wardroom serve` puts its profile socket (core/cli/serve-socket.ts), and how a socket path is claimed: a
// stale socket is replaced, a live one or any other file is refused, and the socket is 0600 whatever the umask.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { claimSocketPath, listenPrivately, MAX_SOCKET_PATH_BYTES, profileSocket } from '../../../core/cli/serve-socket.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'wardroom-sock-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A directory whose path is `bytes` long. */
function dirOfLength(bytes: number): string {
  const dir = path.join(root, 'd'.repeat(bytes - root.length - 1));
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('profileSocket', () => {
  const runtime = path.join(root, 'run');
  mkdirSync(runtime, { mode: 0o700 });

  it('is PROFILE/wardroom.sock while that fits in a socket address', () => {
    const fits = dirOfLength(MAX_SOCKET_PATH_BYTES - '/wardroom.sock'.length);
    assert.deepEqual(profileSocket(fits, {}), { path: path.join(fits, 'wardroom.sock') });
    assert.deepEqual(profileSocket(path.relative(process.cwd(), fits), {}), { path: path.join(fits, 'wardroom.sock') }, 'relative paths resolve');
    const link = path.join(root, 'short-link');
    symlinkSync(fits, link);
    assert.deepEqual(profileSocket(link, {}), { path: path.join(fits, 'wardroom.sock') }, 'so do symlinks');
  });

  it('moves to a private XDG_RUNTIME_DIR for a deeper profile, named the same for every path to it', () => {
    const deep = dirOfLength(MAX_SOCKET_PATH_BYTES - '/wardroom.sock'.length + 1);
    const place = profileSocket(deep, { XDG_RUNTIME_DIR: runtime });
    assert.ok(place.path?.startsWith(`${runtime}/wardroom-`) && place.path.endsWith('.sock'), JSON.stringify(place));
    const link = path.join(root, 'link');
    symlinkSync(deep, link);
    assert.equal(profileSocket(link, { XDG_RUNTIME_DIR: runtime }).path, place.path, 'a symlink to the profile finds the same socket');
    assert.notEqual(profileSocket(dirOfLength(MAX_SOCKET_PATH_BYTES + 5), { XDG_RUNTIME_DIR: runtime }).path, place.path, 'another profile, another socket');
  });

  it('gives no socket, with the reason, when there is no private runtime directory', () => {
    const deep = dirOfLength(MAX_SOCKET_PATH_BYTES);
    const none = profileSocket(deep, {});
    assert.equal(none.path, null);
    assert.match((none as { reason: string }).reason, /too long for its socket \(\d+ bytes; Unix sockets allow 10[37]\) and XDG_RUNTIME_DIR offers no private directory/);
    const shared = path.join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    assert.equal(profileSocket(deep, { XDG_RUNTIME_DIR: shared }).path, null, 'a runtime directory others can write to is not used');
    assert.equal(profileSocket(deep, { XDG_RUNTIME_DIR: 'relative/run' }).path, null);
  });
});

describe('claiming a socket path', () => {
  it('listens with mode 0600 even under umask 0, replaces a stale socket, and refuses a live one or a plain file', async () => {
    const socketPath = path.join(root, 's.sock');
    const first = net.createServer();
    const umask = process.umask(0);
    try {
      await listenPrivately(first, socketPath);
    } finally {
      process.umask(umask);
    }
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    await assert.rejects(claimSocketPath(socketPath), /another process is listening on/);

    // a socket file nobody listens on any more (what a killed serve leaves)
    const stale = path.join(root, 'stale.sock');
    const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.ok(statSync(stale).isSocket(), 'the killed process left its socket');
    await claimSocketPath(stale);
    assert.ok(!existsSync(stale), 'the stale socket was removed');

    const file = path.join(root, 'not-a-socket');
    writeFileSync(file, 'keep me');
    await assert.rejects(claimSocketPath(file), /exists and is not a socket/);
    assert.ok(existsSync(file), 'never deleted');
    await claimSocketPath(path.join(root, 'absent.sock'));
    first.close();
  });
});
