// The OS's lock moments: the screen locking, sleep, and waking each lock every profile. Electron's powerMonitor
// (whose runtime cannot run here) is the one stand-in, an EventEmitter; the lock is a real ProfileHost's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { ProfileHost } from '../../../core/host/index.ts';
import { wireAppLock } from '../../../electron/app-lock.ts';
import { tempDir } from '../../support/server-client.ts';

describe('electron: app lock on OS events', () => {
  it('locks on lock-screen, suspend and resume, and logs a failure instead of throwing', async () => {
    const power = new EventEmitter();
    const host = new ProfileHost({ root: path.join(tempDir('wardroom-lock-'), 'profiles') });
    const reasons: string[] = [];
    const logged: string[] = [];
    let fail = false;
    wireAppLock(power, async () => {
      if (fail) throw new Error('the engine process is gone');
      reasons.push('lockAll');
      await host.lockAll('system');
    }, (line) => logged.push(line));
    for (const event of ['lock-screen', 'suspend', 'resume']) power.emit(event);
    power.emit('unlock-screen');
    fail = true;
    power.emit('suspend');
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(reasons, ['lockAll', 'lockAll', 'lockAll']);
    assert.deepEqual(logged, ['app lock: the screen locked', 'app lock: the computer is going to sleep', 'app lock: the computer woke up', 'app lock: the computer is going to sleep', 'app lock: locking failed: the engine process is gone']);
    await host.close();
  });
});
