// The OS's moments to lock: the screen locking and the computer going to sleep lock every open profile (the host's
// app.lockAll: engines stop, vaults close, keys leave memory, the page shows the unlock screen). Waking locks again:
// the lock started at suspend may not have finished before the computer slept, and must hold before anyone sees
// the window. Idle locking needs nothing here: the page reports activity (app.activity) and the host counts from it.
// ('lock-screen' exists on macOS and Windows; on Linux, suspend and the idle timeout remain.)

export interface PowerMonitorLike {
  on(event: 'lock-screen' | 'suspend' | 'resume', listener: () => void): unknown;
}

export function wireAppLock(power: PowerMonitorLike, lockAll: () => Promise<void>, log: (line: string) => void): void {
  const lock = (why: string) => () => {
    log(`app lock: ${why}`);
    lockAll().catch((error: Error) => log(`app lock: locking failed: ${error.message}`));
  };
  power.on('lock-screen', lock('the screen locked'));
  power.on('suspend', lock('the computer is going to sleep'));
  power.on('resume', lock('the computer woke up'));
}
