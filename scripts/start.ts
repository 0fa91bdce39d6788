// `npm start`: the desktop app. Electron when its binary is installed; where it is not (this machine, CI), one line
// says so and the web shell starts instead, serving the same renderer on 127.0.0.1 and printing its address with
// this launch's token. With no relay configured it also starts an embedded relay on loopback and offers its first
// admin invite on the join screen, so a new user is in a working workspace in under a minute.
//
//   npm start [-- --profile-dir DIR] [--relay URL] [--port N] [--web] [--join LINK | LINK]
//     --profile-dir DIR  the app data directory (default .wardroom-dev/ in the repository): profiles/, relay/
//     --relay URL        use this relay (join with an invite from its admin); no embedded relay
//     --port N           the web shell's port (default: any free one)
//     --web              the web shell even where Electron could run
//     --join LINK, LINK  an invite link (wardroom://join?…): the app opens on the join flow with it filled in, as
//                        when the OS hands Electron a wardroom:// deep link
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ProfileHost } from '../core/host/index.ts';
import { startWebShell } from '../core/shell/index.ts';
import { parseDeepLink } from '../electron/deep-links.ts';
import { ensureRendererBuilt, RENDERER_DIST, ROOT } from './build-renderer.ts';
import { startEmbeddedRelay, type EmbeddedRelay } from './embedded-relay.ts';

const USAGE = 'usage: npm start [-- --profile-dir DIR] [--relay URL] [--port N] [--web] [--join LINK | LINK]';
/** The Electron shell's entry (electron/). */
const ELECTRON_MAIN = path.join(ROOT, 'electron', 'main.ts');

class UsageError extends Error {}

/** A path as short as it can be said: relative when it is under the current directory. */
const shown = (dir: string) => (path.relative(process.cwd(), dir).startsWith('..') ? dir : path.relative(process.cwd(), dir) || '.');

function options(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, strict: true, allowPositionals: true,
      options: { 'profile-dir': { type: 'string' }, relay: { type: 'string' }, port: { type: 'string' }, web: { type: 'boolean' }, join: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port is a TCP port: 0-65535');
  if (values.relay !== undefined) {
    const url = URL.parse(values.relay);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new UsageError('--relay is the relay\'s https:// address');
  }
  return { help: values.help ?? false, web: values.web ?? false, appDir: path.resolve(values['profile-dir'] ?? path.join(ROOT, '.wardroom-dev')), relay: values.relay, port, join: joinLink(values.join, positionals) };
}

/** The invite link to open the join flow with (`--join LINK`, or the link itself), checked as the join flow will check it. */
function joinLink(option: string | undefined, positionals: string[]): string | undefined {
  const given = [...(option === undefined ? [] : [option]), ...positionals];
  if (given.length > 1) throw new UsageError('one invite link at most');
  if (given.length === 0) return undefined;
  const parsed = parseDeepLink(given[0]);
  if (!parsed.ok) throw new UsageError(`that is not an invite link: ${parsed.reason}`);
  return parsed.value.link;
}

/**
 * The Electron binary the `electron` package would run, or null when it was never downloaded (no require: that would
 * try to). ELECTRON_OVERRIDE_DIST_PATH points elsewhere, as the package itself allows (the tests' stand-in uses it).
 */
function electronBinary(): string | null {
  const dir = path.join(ROOT, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? path.join(override, executable ?? 'electron') : executable && path.join(dir, 'dist', executable);
  return binary && existsSync(binary) ? binary : null;
}

async function main(argv: string[]): Promise<number> {
  const { help, web, appDir, relay: relayUrl, port, join } = options(argv);
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const electron = web ? null : electronBinary();
  const desktop = electron && existsSync(ELECTRON_MAIN) ? electron : null;
  if (web) console.log('Starting the web shell (--web).');
  else if (electron && !desktop) console.log(`Electron is installed but its shell (${path.relative(ROOT, ELECTRON_MAIN)}) is not here yet: starting the web shell instead.`);
  else if (!electron) console.log('Electron\'s binary is not installed here (node_modules/electron/dist is missing): starting the web shell instead.');

  mkdirSync(appDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(appDir, 'wardroom-shell.log');
  const log = (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  // both shells serve renderer/dist (Electron through its app:// protocol)
  if ((await ensureRendererBuilt()) === 'built') console.log('Built the renderer (renderer/dist).');

  let embedded: EmbeddedRelay | null = null;
  if (relayUrl) {
    console.log(`Relay: ${relayUrl} (join with an invite from its admin).`);
  } else {
    embedded = await startEmbeddedRelay(path.join(appDir, 'relay'));
    console.log(`Embedded relay: ${embedded.relay.url} (its data in ${shown(path.join(appDir, 'relay'))}).`);
  }
  const host = new ProfileHost({ root: path.join(appDir, 'profiles'), log, ...(embedded?.invite ? { firstInvite: embedded.invite } : {}) });
  const fresh = host.list().length === 0;
  if (!fresh) embedded?.forgetInvite();

  if (desktop) {
    // the desktop app runs its own host (in its engine process) over the same profiles directory: this one only looked
    await host.close();
    const invite = fresh ? embedded?.invite : undefined;
    // our options as --name=value, each one argument, so only the join link (an argument of its own, as the OS hands
    // it over) is found by its scheme (electron/deep-links.ts); electron/launch-options.ts reads the rest
    const args = [ELECTRON_MAIN, `--profile-dir=${appDir}`, ...(invite ? [`--first-invite=${invite}`] : []), ...(join ? [join] : [])];
    const child = spawn(desktop, args, { stdio: 'inherit' });
    const code = await new Promise<number>((resolve) => child.once('exit', (exit) => resolve(exit ?? 1)));
    await embedded?.relay.close();
    return code;
  }
  const shell = await startWebShell({ host, staticDir: RENDERER_DIST, port, log });
  // the join link rides in the fragment beside the token, never sent over the network (renderer/src/lib/launch.ts)
  const url = join ? `${shell.url}&join=${encodeURIComponent(join)}` : shell.url;
  if (join) console.log('The app opens on the join flow with your invite link filled in.');
  console.log(`Wardroom is running. Open this address in your browser (it holds this launch's secret token):\n  ${url}\nCtrl+C stops it.`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await shell.close();
  await host.close();
  await embedded?.relay.close();
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  console.error(error instanceof UsageError ? `npm start: ${error.message}\n${USAGE}` : `npm start: ${(error as Error).message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
