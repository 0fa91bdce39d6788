#!/usr/bin/env node
// wardroom-server: `serve` (default) runs the relay; `invite` prints a new invite link from the data directory.
// A failure is one line on stderr (exit 2 for a bad flag or setting, 1 otherwise), never a stack trace.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startServer } from './app.ts';
import { ConfigError, helpText, loadConfig } from './config.ts';
import { issueInvite } from './context.ts';
import { StartError } from './data-dir.ts';
import { openSqliteStore } from './store/sqlite.ts';

const DB_FILE = 'wardroom-server.db';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return 0;
  }
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (command === 'invite') return invite(rest);
  if (command !== 'serve') throw new ConfigError(`unknown command "${command.slice(0, 64)}" (wardroom-server --help lists the commands)`);
  const config = loadConfig(rest);
  const server = await startServer(config);
  // Human-facing lines go to stderr so stdout stays pure JSON log lines for log collectors.
  const banner: string[] = [];
  if (config.insecureHttp) {
    banner.push('!!! WARNING: serving PLAIN HTTP (--insecure-http). No TLS, no pin. Use only for tests on loopback. !!!');
  }
  banner.push(`wardroom-server listening on ${server.url}`);
  if (server.pin) banner.push(`TLS public key pin (SHA-256 of SPKI, base64url): ${server.pin}`);
  if (server.firstAdminInvite) banner.push('First start: one-time ADMIN invite link (keep it secret):', server.firstAdminInvite);
  banner.push('wardroom-server ready (SIGINT or SIGTERM stops it cleanly)');
  process.stderr.write(`${banner.join('\n')}\n`);
  const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keep running
}

/**
 * A new single-use invite (`--admin` for an admin's), straight from the relay's database: it needs no running relay
 * and no admin account, only access to the data directory, which is what an operator has.
 */
function invite(argv: string[]): number {
  const admin = argv.includes('--admin');
  const config = loadConfig(argv.filter((a) => a !== '--admin'));
  const file = path.join(config.dataDir, DB_FILE);
  if (!existsSync(file)) throw new StartError(`no relay has run from ${config.dataDir} yet: start it once first, or pass the --data it runs with`);
  const store = openSqliteStore(file);
  try {
    const server = store.getMeta('public_url');
    if (!server) throw new StartError(`no relay has started successfully from ${config.dataDir} yet: start it once first`);
    const pin = store.getMeta('pin') || null;
    const issued = issueInvite(store, { admin, createdBy: null, ttlSeconds: config.inviteTtlSeconds, server, pin, now: Date.now() });
    store.audit({ at: Date.now(), actor: 'cli', action: 'invite.created', target: null, detail: JSON.stringify({ admin, expiresAt: issued.expiresAt }) });
    console.log(issued.link);
    return 0;
  } finally {
    store.close();
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
}, (error: unknown) => {
  // Operators get the one line that says what to change; anything else is a bug, still as one line.
  const known = error instanceof ConfigError || error instanceof StartError;
  const message = known ? error.message : `could not start: ${String((error as Error)?.message ?? error).split('\n')[0]}`;
  console.error(`wardroom-server: ${message}`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
});
