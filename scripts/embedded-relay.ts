// The relay `npm start` runs for itself when none is configured: the real server (server/app.ts) on 127.0.0.1, with
// its own TLS key (the invite carries its pin), its data in the app's data directory. It keeps the port it got the
// first time, because the profiles that joined it know it at that address; and it keeps its first admin invite
// (0600) until a profile exists, so quitting before joining does not lose the only way in.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { startServer, type RunningServer } from '../server/app.ts';

const Remembered = z.object({ port: z.number().int().min(1).max(65535) });

export interface EmbeddedRelay {
  relay: RunningServer;
  /** the first admin invite, while it may still be unused */
  invite?: string;
  /** a profile exists: the first invite is not offered any more, and its file goes */
  forgetInvite(): void;
}

export async function startEmbeddedRelay(dir: string): Promise<EmbeddedRelay> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(dir, 'embedded-relay.json');
  const inviteFile = path.join(dir, 'first-admin-invite');
  const remembered = existsSync(stateFile) ? Remembered.safeParse(JSON.parse(readFileSync(stateFile, 'utf8'))) : null;
  const port = remembered?.success ? remembered.data.port : 0;
  let relay: RunningServer;
  try {
    relay = await startServer({
      dataDir: dir, host: '127.0.0.1', port, logLevel: 'warn', logDestination: pino.destination({ dest: path.join(dir, 'relay.log'), mkdir: true, sync: false }),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`the embedded relay's port ${port} is taken (another npm start?): the profiles in this app data directory know their relay at that port`);
    }
    throw error;
  }
  writeFileSync(stateFile, `${JSON.stringify({ port: relay.port })}\n`, { mode: 0o600 });
  if (relay.firstAdminInvite) {
    writeFileSync(inviteFile, `${relay.firstAdminInvite}\n`, { mode: 0o600 });
    chmodSync(inviteFile, 0o600);
  }
  const invite = existsSync(inviteFile) ? readFileSync(inviteFile, 'utf8').trim() : undefined;
  return { relay, ...(invite ? { invite } : {}), forgetInvite: () => rmSync(inviteFile, { force: true }) };
}
