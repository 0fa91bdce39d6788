#!/usr/bin/env node
// wardroom-server: `serve` (default) runs the relay; `invite` prints a new invite link from the data directory.
import path from 'node:path';
import { startServer } from './app.ts';
import { ConfigError, helpText, loadConfig } from './config.ts';
import { issueInvite } from './context.ts';
import { openSqliteStore } from './store/sqlite.ts';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return 0;
  }
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  if (command === 'invite') return invite(rest);
  if (command !== 'serve') {
    console.error(`unknown command "${command}"\n\n${helpText()}`);
    return 2;
  }
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

function invite(argv: string[]): number {
  const admin = argv.includes('--admin');
  const config = loadConfig(argv.filter((a) => a !== '--admin'));
  const store = openSqliteStore(path.join(config.dataDir, 'wardroom-server.db'));
  try {
    const server = store.getMeta('public_url');
    if (!server) {
      console.error(`no server has run from ${config.dataDir} yet; start it once first`);
      return 1;
    }
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
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
});
