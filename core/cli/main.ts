// The `wardroom` command line: the same engine and contract as the desktop app, for scripting, bots and tests.
// It talks to the engine only through the WardroomApi (core/api), so anything it can do the UI can do, and the
// contract's checks apply to both. Non-interactive by design: the passphrase comes from WARDROOM_PASSPHRASE or
// --passphrase-file, and every failure is one line on stderr with a non-zero exit (1, or 2 for a usage error),
// one JSON object {"code","message"} under --json. Everything it prints that someone else wrote goes through
// format.ts, so it can neither steer the terminal nor pass for the CLI's own output.
import { parseArgs } from 'node:util';
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { CommandName, CommandRequest, CommandResponse, ContactViewT, MessageViewT, SettingsT, WardroomApi } from '../api/contract.ts';
import { PROFILE_LOG_FILE, type EngineHost, type OpenEngine } from '../api/host.ts';
import { ApiError, LIMITS } from '../api/contract.ts';
import { DurationError, formatDuration, parseDuration } from '../api/durations.ts';
import { filePolicyChange, FilePolicyFlagError, filePolicyLines } from './file-policy.ts';
import { formatConversation, formatMessage, jsonLine, messageJson, neutralise } from './format.ts';
import { COMMAND_HELP, COMMANDS, commandHelp, USAGE } from './help.ts';
import { ProgressReporter } from './progress.ts';
import { openProfile as servedOrOpened } from './rpc-client.ts';

export type { EngineHost, LinkOptions, OpenEngine } from '../api/host.ts';
export { USAGE } from './help.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** resolves when the user interrupts (SIGINT); `read --follow` stops then */
  interrupted: Promise<void>;
  /** Standard input up to its first line break or end, at most `maxBytes` + 1 bytes (`--recovery-kit-file -`). */
  stdinLine?(maxBytes: number): Promise<string>;
  /** the process's stdin and stdout, for `serve` */
  stdio?: { input: Readable; output: Writable };
  /** stderr is a terminal: redraw a progress bar in place (`end` finishes its line) */
  redraw?(text: string, end: boolean): void;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const options = {
  profile: { type: 'string' },
  'passphrase-file': { type: 'string' },
  username: { type: 'string' },
  'recovery-kit-file': { type: 'string' },
  'code-file': { type: 'string' },
  json: { type: 'boolean', default: false },
  follow: { type: 'boolean', default: false },
  peek: { type: 'boolean', default: false },
  accept: { type: 'boolean', default: false },
  socket: { type: 'string' },
  profiles: { type: 'string' },
  'device-name': { type: 'string' },
  admin: { type: 'boolean', default: false },
  remove: { type: 'boolean', default: false },
  verified: { type: 'boolean', default: false },
  unverified: { type: 'boolean', default: false },
  limit: { type: 'string' },
  before: { type: 'string' },
  expire: { type: 'string' },
  burn: { type: 'string' },
  reply: { type: 'string' },
  'max-expire': { type: 'string' },
  'max-burn': { type: 'string' },
  'default-expire': { type: 'string' },
  'require-timer': { type: 'boolean' },
  'no-require-timer': { type: 'boolean' },
  file: { type: 'string', multiple: true },
  index: { type: 'string' },
  topic: { type: 'string' },
  open: { type: 'boolean', default: false },
  out: { type: 'string' },
  key: { type: 'string' },
  retention: { type: 'string' },
  'archive-account': { type: 'string' },
  files: { type: 'string' },
  'max-file-size': { type: 'string' },
  'allowed-types': { type: 'string' },
  'preview-only': { type: 'boolean' },
  'no-preview-only': { type: 'boolean' },
  'link-previews': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

type Flags = ReturnType<typeof parse>['values'];

/** A wait longer than this is said on stderr. */
const SLOW_NOTICE_MS = 1000;

/** This device's name for the account's other devices: --device-name, or the computer's host name. */
function deviceName(flags: Flags): string {
  const name = (flags['device-name'] ?? hostname()).trim().slice(0, LIMITS.displayNameMax);
  return name || 'this computer';
}

/** How long a command waits for a profile another wardroom process holds, before saying which one it is. */
const BUSY_WAIT_MS = 5000;
const BUSY_POLL_MS = 250;
/** A message id (16-64 base64url characters) that starts with a dash. */
const DASHED_ID = /^-[A-Za-z0-9_-]{15,63}$/;
/** A recovery kit is one line of a few hundred characters; standard input is read no further than this. */
const KIT_MAX_BYTES = 4096;

function parse(argv: string[]) {
  // Gone for good, with the reason: a secret in argv is readable by every user of the computer (ps).
  if (argv.some((arg) => arg === '--recovery-kit' || arg.startsWith('--recovery-kit='))) {
    throw new UsageError('--recovery-kit would show the kit to everyone on this computer (ps): use --recovery-kit-file FILE, or --recovery-kit-file - to read it from standard input');
  }
  // Message ids are base64url, so one in 64 starts with a dash, which parseArgs would take for an option (or, after
  // --reply, for a missing value). Id-shaped arguments are held out of its sight; one that has only the letters of
  // option names (a-z and dashes) stays, so a mistyped option is still refused as one.
  const held = new Map<string, string>();
  const args = argv.map((arg, i) => {
    if (!DASHED_ID.test(arg) || !/[A-Z0-9_]/.test(arg)) return arg;
    held.set(`\0${i}`, arg);
    return `\0${i}`;
  });
  const back = <T>(value: T): T => (typeof value === 'string' ? (held.get(value) as T | undefined) ?? value : value);
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    const values = Object.fromEntries(Object.entries(parsed.values).map(([name, value]) => [name, back(value)])) as typeof parsed.values;
    return { values, positionals: parsed.positionals.map(back) };
  } catch (error) {
    // Node's wording goes on about '--' and positional arguments: the first sentence is the news.
    throw new UsageError(`${(error as Error).message.split('. ')[0]!.replace(/\.$/, '')} (wardroom help lists the options)`);
  }
}

/** Commands that turn one of this device's settings on or off, and the setting each turns. */
const SWITCHES = { receipts: 'receipts', 'link-previews': 'linkPreviews', 'original-images': 'sendOriginalImages' } as const satisfies Record<string, keyof SettingsT>;
const isSwitch = (command: string): command is keyof typeof SWITCHES => Object.hasOwn(SWITCHES, command);

function nonNegativeInt(name: string, value: string): number {
  if (!/^\d{1,3}$/.test(value)) throw new UsageError(`--${name} takes a whole number from 0`);
  return Number(value);
}

/**
 * Runs a long command under an operation id: its progress drawn on stderr, and Ctrl-C cancelling it (the command
 * then fails with CANCELLED, leaving nothing half done behind).
 */
async function withProgress<T>(api: OpenEngine['api'], io: CliIo, json: boolean, what: string, run: (operation: string) => Promise<T>): Promise<T> {
  const operation = `cli-${process.pid}-${Date.now().toString(36)}`;
  const reporter = new ProgressReporter({ ...(io.redraw ? { redraw: io.redraw } : {}), line: io.err }, what, json);
  const stop = api.on('operation.progress', (p) => {
    if (p.operation !== operation) return;
    if (p.waiting) reporter.waiting();
    else reporter.update(p.done, p.total ?? p.done);
  });
  let finished = false;
  void io.interrupted.then(() => {
    if (!finished) void api.call('operations.cancel', { operation }).catch(() => {});
  });
  try {
    return await run(operation);
  } finally {
    finished = true;
    stop();
    reporter.finish();
  }
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError(`--${name} takes a whole number of seconds or items above 0`);
  return Number(value);
}

/** `--expire 30s`: a duration (core/api/durations.ts), as a usage error in the flag's name when it is not one. */
function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof DurationError) throw new UsageError(`--${name}: ${error.message}`);
    throw error;
  }
}

/** A policy limit: a duration, or `off` to remove it; undefined when the flag is absent. */
function limitFlag(name: string, value: string | undefined): number | null | undefined {
  return value === 'off' ? null : duration(name, value);
}

/** The `policy set` flags as a policy.set request (only what was given). */
function policyChange(flags: Flags) {
  if (flags['require-timer'] && flags['no-require-timer']) throw new UsageError('give --require-timer or --no-require-timer, not both');
  const change = {
    ...(flags['max-expire'] !== undefined ? { maxExpireSeconds: limitFlag('max-expire', flags['max-expire']) } : {}),
    ...(flags['max-burn'] !== undefined ? { maxBurnSeconds: limitFlag('max-burn', flags['max-burn']) } : {}),
    ...(flags['default-expire'] !== undefined ? { defaultExpireSeconds: limitFlag('default-expire', flags['default-expire']) } : {}),
    ...(flags['require-timer'] ? { requireTimer: true } : flags['no-require-timer'] ? { requireTimer: null } : {}),
    ...retentionChange(flags),
    ...filesChange(flags),
  };
  if (Object.keys(change).length === 0) {
    throw new UsageError('policy set changes nothing: give --max-expire, --max-burn, --default-expire, --require-timer, --retention, --files, --max-file-size, --allowed-types, --preview-only or --link-previews');
  }
  return change;
}

/** `--retention on|off` and `--archive-account NAME` as policy.set fields (docs/retention.md). */
function retentionChange(flags: Flags): { retention?: boolean; archiveAccount?: string } {
  const retention = flags.retention;
  if (retention !== undefined && retention !== 'on' && retention !== 'off') throw new UsageError('--retention takes on or off');
  return {
    ...(retention !== undefined ? { retention: retention === 'on' } : {}),
    ...(flags['archive-account'] !== undefined ? { archiveAccount: flags['archive-account'].replace(/^@/, '') } : {}),
  };
}

/** The file and link preview flags (file-policy.ts), their mistakes as usage errors. */
function filesChange(flags: Flags) {
  try {
    return filePolicyChange(flags);
  } catch (error) {
    if (error instanceof FilePolicyFlagError) throw new UsageError(error.message);
    throw error;
  }
}

/** The policy in a line per limit, for people. */
function formatPolicy(policy: {
  version: number; maxExpireSeconds?: number | undefined; maxBurnSeconds?: number | undefined; requireTimer?: boolean | undefined; defaultExpireSeconds?: number | undefined;
  retention?: boolean | undefined; archiveAccount?: string | undefined;
} & Parameters<typeof filePolicyLines>[0]): string {
  if (policy.version === 0) return 'no org policy: timers are up to each message and conversation';
  const limit = (seconds: number | undefined) => (seconds === undefined ? 'none' : formatDuration(seconds));
  return [`org policy version ${policy.version}`, `  max expiry: ${limit(policy.maxExpireSeconds)}`, `  max burn after reading: ${limit(policy.maxBurnSeconds)}`,
    `  timer required: ${policy.requireTimer ? 'yes' : 'no'}`, `  default expiry: ${limit(policy.defaultExpireSeconds)}`,
    // said once the policy has ever named an archive (a policy about timers alone reads as before)
    ...(policy.archiveAccount ? [`  retention: ${policy.retention ? 'on' : 'off'}, archive @${neutralise(policy.archiveAccount)}`] : []),
    ...filePolicyLines(policy)].join('\n');
}

/** The first line of a secret's file (a passphrase, a recovery kit): secrets stay out of argv and `ps`. */
async function firstLine(file: string, what: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read the ${what} file: ${error.code ?? error.message}`);
  });
  return text.split(/\r?\n/, 1)[0] ?? '';
}

async function passphraseFrom(flags: Flags, io: CliIo): Promise<string> {
  if (flags['passphrase-file']) {
    const passphrase = await firstLine(flags['passphrase-file'], 'passphrase');
    if (!passphrase) throw new UsageError('the passphrase file is empty (the passphrase is its first line)');
    return passphrase;
  }
  const fromEnv = io.env.WARDROOM_PASSPHRASE;
  if (fromEnv) return fromEnv;
  throw new UsageError('no passphrase: set WARDROOM_PASSPHRASE or pass --passphrase-file FILE');
}

/** `--recovery-kit-file FILE`, or `-` for standard input; undefined without the flag. */
const recoveryKitFrom = (flags: Flags, io: CliIo) => secretLineFrom(flags, 'recovery-kit-file', 'recovery kit', io);

/** A secret's first line from the file a flag names, or from standard input for `-`; undefined without the flag. */
async function secretLineFrom(flags: Flags, flag: 'recovery-kit-file' | 'code-file', what: string, io: CliIo): Promise<string | undefined> {
  const file = flags[flag];
  if (file === undefined) return undefined;
  if (file !== '-') return firstLine(file, what);
  if (!io.stdinLine) throw new UsageError(`standard input cannot be read here: pass --${flag} FILE`);
  const text = await io.stdinLine(KIT_MAX_BYTES);
  if (Buffer.byteLength(text) > KIT_MAX_BYTES) throw new UsageError(`standard input does not start with a ${what} (the line is far too long)`);
  const line = text.split(/\r?\n/, 1)[0]!.trim();
  if (!line) throw new UsageError(`no ${what} on standard input (it is the first line)`);
  return line;
}

/** The synopsis of a command ('send') or a channel subcommand ('channel add'), for its usage error. */
function synopsis(command: string): string {
  const usages = COMMAND_HELP[command.split(' ')[0]!]!.usage.map(([synopsis]) => synopsis);
  return usages.find((u) => u === command || u.startsWith(`${command} `)) ?? usages[0]!;
}

function need(positionals: string[], count: number, command: string): string[] {
  if (positionals.length !== count) throw new UsageError(`usage: wardroom ${synopsis(command)}`);
  return positionals;
}

/** A conversation is #channel or @person; a bare word is a usage error that says which was probably meant. */
function checkTarget(target: string): void {
  if (/^[#@]/.test(target)) return;
  const word = neutralise(target.slice(0, 64));
  throw new UsageError(`a target starts with @ or #: did you mean @${word} (a person) or #${word} (a channel)?`);
}

let version: string | undefined;
/** The version in package.json, read only when asked for. */
function cliVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/**
 * The profile's engine: through its `serve` when one holds it, else opened here; if another wardroom process holds
 * it, says so and waits a few seconds for it to finish.
 */
async function openProfile(host: EngineHost, profile: string, passphrase: () => Promise<string>, io: CliIo, notice: (text: string) => void): Promise<OpenEngine> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  let interrupted = false;
  void io.interrupted.then(() => (interrupted = true));
  for (let attempt = 0; ; attempt++) {
    try {
      return await servedOrOpened(host, profile, passphrase, io.env);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'LOCKED')) throw error;
      if (Date.now() >= deadline || interrupted) throw new ApiError('LOCKED', `${error.message}; still busy after ${BUSY_WAIT_MS / 1000} s`);
      if (attempt === 0) notice(`${error.message}: waiting up to ${BUSY_WAIT_MS / 1000} s for it to finish`);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS)), io.interrupted]);
    }
  }
}

/** One failure as one line on stderr (one JSON object under --json); returns the exit code. */
function report(error: unknown, io: CliIo, json: boolean, profile: string | undefined): number {
  const usage = error instanceof UsageError;
  const code = usage ? 'USAGE' : error instanceof ApiError ? error.code : 'INTERNAL';
  let message = usage || error instanceof ApiError ? error.message : 'unexpected error';
  // A bug, not a mistake: the details are in the profile's log, so say where that is.
  if (code === 'INTERNAL' && profile) message += ` (details in ${path.resolve(profile, PROFILE_LOG_FILE)})`;
  io.err(json ? jsonLine({ code, message }) : `wardroom: ${neutralise(message)}`);
  return usage ? 2 : 1;
}

/** `wardroom help [COMMAND]` and `COMMAND --help`: no profile needed. */
function help(name: string | undefined, io: CliIo): number {
  if (name === undefined) {
    io.out(USAGE);
    return 0;
  }
  const text = commandHelp(name);
  if (!text) throw new UsageError(`no command ${neutralise(name.slice(0, 64))} (wardroom help lists them)`);
  io.out(text);
  return 0;
}

/** Runs one CLI invocation; returns the exit code. Never throws. */
export async function runCli(argv: string[], host: EngineHost, io: CliIo): Promise<number> {
  let engine: OpenEngine | undefined;
  let json = argv.includes('--json'); // before parsing, so that a parse error is reported as JSON too
  let profile: string | undefined;
  try {
    const { values: flags, positionals } = parse(argv);
    json = flags.json;
    const notice = (text: string) => io.err(json ? jsonLine({ notice: text }) : `wardroom: ${neutralise(text)}`);
    if (flags.version) {
      io.out(json ? jsonLine({ version: cliVersion() }) : `wardroom ${cliVersion()}`);
      return 0;
    }
    const [command, ...args] = positionals as [string | undefined, ...string[]];
    if (command === 'help') return help(args[0], io);
    if (flags.help) return help(command, io);
    if (command === undefined) {
      io.err(USAGE);
      return 2;
    }
    if (!COMMANDS.has(command)) throw new UsageError(`unknown command: ${command.slice(0, 64)} (wardroom help lists them)`);
    if (command === 'serve' && flags.profiles !== undefined) {
      need(args, 0, 'serve');
      if (flags.profile !== undefined) throw new UsageError('serve takes --profile DIR or --profiles DIR, not both');
      return await (await import('./serve.ts')).serve({ host, appDir: flags.profiles, passphrase: () => passphraseFrom(flags, io), ...(flags.socket !== undefined ? { socket: flags.socket } : {}), io });
    }
    // checking an export needs no profile: anyone handed the file can
    if (command === 'archive' && args[0] === 'verify') return await verifyArchive(need(args, 2, 'archive verify')[1]!, flags.key, io, json);
    profile = flags.profile ?? io.env.WARDROOM_PROFILE;
    if (!profile) throw new UsageError('no profile: pass --profile DIR (or set WARDROOM_PROFILE)');
    // Checked before the engine opens: a typo should not cost an Argon2id unlock.
    const numbers = { expire: duration('expire', flags.expire), burn: duration('burn', flags.burn), limit: positiveInt('limit', flags.limit) };
    const change = command === 'policy' && args[0] === 'set' ? policyChange(flags) : null;
    if (command === 'policy' && !(args.length === 1 && (args[0] === 'show' || args[0] === 'set'))) throw new UsageError(`usage: wardroom ${synopsis('policy')}`);
    const timerSetting = command === 'timer' ? limitFlag('expire', need(args, 2, 'timer')[1]) : undefined;
    if (command === 'timer') checkTarget(args[0]!);
    if (isSwitch(command) && (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off'))) throw new UsageError(`${command} takes on or off`);
    if ((command === 'send' || command === 'read') && args[0] !== undefined) checkTarget(args[0]);
    // Read when needed: a command that a running serve answers does not unlock the vault.
    const passphrase = () => passphraseFrom(flags, io);
    const print = (value: unknown, human: string) => io.out(json ? jsonLine(value) : human);

    if (command === 'join') {
      const [link] = need(args, 1, 'join');
      if (!flags.username) throw new UsageError('join needs --username NAME');
      const joined = await host.join(profile, link!, flags.username, await passphrase());
      engine = joined;
      await joined.api.call('devices.rename', { name: deviceName(flags) });
      const me = await joined.api.call('account.whoami', {});
      if (json) {
        io.out(jsonLine({ username: me.username, deviceId: me.deviceId, server: me.server, recoveryKit: joined.recoveryKit }));
        return 0;
      }
      io.out(`joined ${neutralise(me.server)} as @${neutralise(me.username)} (device ${neutralise(me.deviceId)})`);
      io.out('');
      io.out('Recovery kit: write this down and keep it offline. It is shown once and is the only way');
      io.out('back into this account if every device is lost:');
      io.out(`  ${joined.recoveryKit}`);
      return 0;
    }

    if (command === 'link') {
      const [link] = need(args, 1, 'link');
      if (!flags.username) throw new UsageError('link needs --username NAME');
      const recoveryKit = await recoveryKitFrom(flags, io);
      const username = flags.username;
      const cancel = new AbortController();
      void io.interrupted.then(() => cancel.abort());
      const linked = await host.link(profile, link!, username, await passphrase(), { ...(recoveryKit ? { recoveryKit } : {}), signal: cancel.signal }, (code) => {
        if (recoveryKit) return; // the kit approves at once: there is nothing to show another device
        print({ code }, neutralise(code));
        notice(`waiting for approval: on a device signed in as @${username}, run  wardroom --profile DIR approve CODE  with the code above (Ctrl-C cancels)`);
      });
      engine = linked;
      await linked.api.call('devices.rename', { name: deviceName(flags) });
      const me = await linked.api.call('account.whoami', {});
      print({ username: me.username, deviceId: me.deviceId, server: me.server }, `linked as @${neutralise(me.username)} (device ${neutralise(me.deviceId)})`);
      return 0;
    }

    if (command === 'serve') {
      need(args, 0, 'serve');
      return await (await import('./serve.ts')).serve({ host, profileDir: profile, passphrase, ...(flags.socket !== undefined ? { socket: flags.socket } : {}), io });
    }

    engine = await openProfile(host, profile, passphrase, io, notice);
    // null until the engine says (a serve that is online already says nothing)
    let online: boolean | null = null;
    let relay = 'the relay';
    /** the engine's alarm line, once a server at the relay's address failed the pin */
    let alarm: string | null = null;
    engine.api.on('connection.state', (change) => {
      online = change.state === 'online';
      if (change.relay) relay = `the relay at ${change.relay}`;
      if (change.state === 'untrusted') alarm = change.message ?? null;
    });
    const call = <N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandResponse<N>> => engine!.api.call(name, request);
    /** `#channel`, `@user` and `@ann,ben` are the CLI's names; the contract takes the conversation's id. */
    const conversationOf = async (target: string) => (await call('conversations.resolve', { target })).id;

    switch (command) {
      case 'whoami': {
        const me = await call('account.whoami', {});
        print(me, `@${neutralise(me.username)} on ${neutralise(me.server)}, device ${neutralise(me.deviceId)}${me.admin ? ' (admin)' : ''}`);
        if (!json && me.retention?.notice) io.out(`${neutralise(me.retention.notice)} (the archive is @${neutralise(me.retention.archiveAccount ?? '')})`);
        return 0;
      }
      case 'invite': {
        const invite = await call('org.invite', { admin: flags.admin });
        print(invite, neutralise(invite.link));
        return 0;
      }
      case 'channel':
        return await channelCommand(args, flags, call, print);
      case 'channels': {
        const { conversations } = await call('conversations.list', {});
        for (const c of conversations) print(c, formatConversation(c));
        return 0;
      }
      case 'send': {
        const files = flags.file ?? [];
        if (args.length < 1 || args.length > 2 || (args.length === 1 && files.length === 0)) throw new UsageError(`usage: wardroom ${synopsis('send')}`);
        const [target, text] = args;
        const { expire: expiresInSeconds, burn: burnAfterReadSeconds } = numbers;
        const timers = expiresInSeconds || burnAfterReadSeconds ? { expiresInSeconds, burnAfterReadSeconds } : undefined;
        const resolved = await call('conversations.resolve', { target: target! });
        const conversation = resolved.id;
        const request = { conversation, ...(text !== undefined ? { text } : {}), ...(flags.reply ? { replyTo: flags.reply } : {}), ...(timers ? { timers } : {}) };
        const sent = files.length === 0
          ? await call('messages.send', request)
          : await withProgress(engine.api, io, json, files.length === 1 ? 'uploading' : `uploading ${files.length} files`, (operation) =>
            call('messages.send', { ...request, attachments: files.map((file) => ({ path: path.resolve(file) })), operation }));
        if (sent.status === 'held' && conversation.startsWith('c:')) {
          // a channel holds only for its membership log (protocol.md section 5, "Withheld and forked logs")
          throw new ApiError('HOSTILE_SERVER', 'held, not sent: the relay withholds or forks this channel\'s membership changes (a member\'s device has seen changes '
            + 'it does not show this one, or another history); the message goes out once it shows them');
        }
        if (sent.status === 'held') {
          // the people of this conversation whose key changed, each with the one command that accepts them
          const changed = (await call('contacts.list', {})).contacts.filter((c) => c.identity !== 'accepted' && resolved.members.includes(c.username));
          const what = changed.map((c) => identityChange(c.username, c.identity)).join(' ') || 'someone in this conversation has a new safety number.';
          throw new ApiError('FORBIDDEN', `held, not sent: ${what} The message goes out then`);
        }
        // the relay proved an impostor while this send was on its way (before, the engine refuses the send): queued
        // here, and an alarm all the same, never "pending" and exit 0
        if (sent.status === 'pending' && alarm !== null) {
          throw new ApiError('UNTRUSTED_RELAY', `${alarm}. The message (${sent.id}) is kept on this device and goes out once the relay shows its pinned key again: sending it again would send it twice`);
        }
        print(sent, `${sent.id} ${sent.status}`);
        if (sent.status === 'pending' && online === false) notice('queued: the relay cannot be reached; it goes out when the relay is back (with any later command, or a running serve)');
        return 0;
      }
      case 'read': {
        const [target] = need(args, 1, 'read');
        const conversation = await conversationOf(target!);
        const show = (m: MessageViewT) => io.out(json ? messageJson(m) : formatMessage(m));
        // What was displayed is read (receipts go out, burn-on-read starts), unless --peek leaves it for later.
        const markRead = async (m: MessageViewT | undefined) => {
          if (m && !flags.peek) await call('messages.markRead', { conversation, upTo: m.id });
        };
        // Following listens before the history is read, so nothing that arrives in between is lost (or shown twice).
        const follow = flags.follow ? followConversation(engine.api, conversation, (m) => {
          show(m);
          void markRead(m).catch(() => {});
        }) : null;
        try {
          await syncForReading(engine.api, notice);
          // while retention is on, every read says so first (stderr under --json, where stdout is one message a line);
          // the history is shown even if this cannot be asked (the engine keeps the policy it verified either way)
          const { retention } = await call('account.whoami', {}).catch(() => ({ retention: undefined }));
          if (retention?.notice) {
            const line = `${retention.notice} (the archive is @${retention.archiveAccount ?? ''})`;
            if (json) notice(line);
            else io.out(`-- ${neutralise(line)} --`);
          }
          const messages = await history(call, conversation, numbers.limit ?? 50, flags.before);
          if (!follow) {
            for (const m of messages) show(m);
            await markRead(messages.at(-1));
            return 0;
          }
          follow.start(messages, show);
          await markRead(messages.at(-1));
          await io.interrupted;
        } finally {
          follow?.stop();
        }
        return 0;
      }
      case 'download': {
        const [id] = need(args, 1, 'download');
        const dir = path.resolve(flags.out ?? '.');
        const only = flags.index === undefined ? undefined : nonNegativeInt('index', flags.index);
        const created = await mkdir(dir, { recursive: true });
        let savedAny = false;
        try {
          // the message may still be waiting at the relay for this device
          await call('sync.now', {});
          // every file of the message in turn, or the one --index names (numbered from 0, as `read` lists them)
          for (let index = only ?? 0; ; index++) {
            const saved = await withProgress(engine.api, io, json, `downloading file ${index}`, (operation) => call('files.download', { message: id!, index, dir, operation }))
              .catch((error: unknown) => {
                if (only === undefined && index > 0 && error instanceof ApiError && error.code === 'NOT_FOUND') return null;
                throw error;
              });
            if (!saved) break;
            savedAny = true;
            print(saved, `saved ${neutralise(saved.path)} (${saved.size.toLocaleString('en-US')} bytes)`);
            if (only !== undefined) break;
          }
        } catch (error) {
          // refused (preview only, no such file) or cancelled before a file was saved: the directories made for it go
          // too, unless a partial file is kept there for the next try (rmdir leaves a directory that is not empty)
          if (!savedAny && created !== undefined) await removeEmptyDirectories(dir, created);
          throw error;
        }
        return 0;
      }
      case 'sync': {
        // a wait that lasts is said, with where it waits, instead of looking like a hang
        const slow = setTimeout(() => notice(`waiting for ${relay}…`), SLOW_NOTICE_MS);
        const result = await call('sync.now', {}).finally(() => clearTimeout(slow));
        print(result, `received ${result.received}, sent ${result.sent}`);
        return 0;
      }
      case 'search': {
        const [query] = need(args, 1, 'search');
        const { messages } = await call('messages.search', { query: query!, limit: numbers.limit ?? 50 });
        for (const m of messages) io.out(json ? messageJson(m) : formatMessage(m));
        return 0;
      }
      case 'edit': {
        const [id, text] = need(args, 2, 'edit');
        await call('messages.edit', { id: id!, text: text! });
        print({ id, text }, `edited ${neutralise(id!)}`);
        return 0;
      }
      case 'delete': {
        const [id] = need(args, 1, 'delete');
        await call('messages.delete', { id: id! });
        print({ id, deleted: true }, `deleted ${neutralise(id!)} for everyone`);
        return 0;
      }
      case 'react': {
        const [id, emoji] = need(args, 2, 'react');
        await call('messages.react', { id: id!, emoji: emoji!, remove: flags.remove });
        print({ id, emoji, removed: flags.remove }, flags.remove ? `removed ${neutralise(emoji!)} from ${neutralise(id!)}` : `reacted ${neutralise(emoji!)} to ${neutralise(id!)}`);
        return 0;
      }
      case 'safety-number': {
        const [username] = need(args, 1, 'safety-number');
        if (flags.accept) {
          await call('contacts.acceptIdentity', { username: username! }).catch((error: unknown) => {
            // a verified contact is verified again, not just accepted: say with which command
            if (error instanceof ApiError && error.code === 'FORBIDDEN') throw new ApiError('FORBIDDEN', `${error.message} (wardroom safety-number ${username} --verified)`);
            throw error;
          });
        }
        if (flags.verified || flags.unverified) await call('contacts.markVerified', { username: username!, verified: flags.verified });
        const safety = await call('contacts.safetyNumber', { username: username! });
        // digits from a key nobody accepted are not "all is well": said beside them, and how to accept on stderr
        const state = safety.identity !== 'accepted' ? `  (changed, not accepted: messages to @${username} are held)` : safety.verified ? '  (verified)' : '';
        print(safety, `${safety.digits}${state}`);
        if (safety.identity !== 'accepted') notice(identityChange(username!, safety.identity));
        return 0;
      }
      case 'devices': {
        const [sub, value] = args;
        if (sub === 'rename') {
          need(args, 2, 'devices rename');
          const device = await call('devices.rename', { name: value! });
          print(device, `this device is now ${neutralise(device.name)}`);
          return 0;
        }
        if (sub === 'revoke') {
          need(args, 2, 'devices revoke');
          const device = await call('devices.revoke', { deviceId: value! });
          print(device, `revoked ${neutralise(device.id)} (${neutralise(device.name)}): it can no longer read or send`);
          return 0;
        }
        if (sub !== undefined) throw new UsageError('devices takes nothing, rename NAME or revoke ID (wardroom help devices)');
        const { devices } = await call('devices.list', {});
        for (const d of devices) print(d, `${neutralise(d.id)}  ${neutralise(d.name)}  ${d.status}${d.current ? '  (this device)' : ''}`);
        return 0;
      }
      case 'approve': {
        const [code] = need(args, 1, 'approve');
        const device = await call('devices.approve', { code: code! });
        print(device, `approved ${neutralise(device.id)} (${neutralise(device.name)})`);
        return 0;
      }
      case 'receipts':
      case 'link-previews':
      case 'original-images': {
        const setting = SWITCHES[command];
        const settings = await call('settings.set', { [setting]: args[0] === 'on' });
        print({ enabled: settings[setting] }, `${command} ${settings[setting] ? 'on' : 'off'}`);
        return 0;
      }
      case 'move-relay': {
        const [link] = need(args, 1, 'move-relay');
        const moved = await call('account.moveRelay', { link: link! });
        print(moved, `moved to the relay at ${neutralise(moved.server)}; the next command connects there`);
        return 0;
      }
      case 'archive':
        return await archiveCommand(args, flags, call, print, io, notice);
      case 'org-key':
        return await orgKeyCommand(args, flags, call, print, io);
      case 'policy': {
        if (change) {
          const policy = await call('policy.set', change);
          print(policy, `${formatPolicy(policy)}\nsigned and published`);
          return 0;
        }
        const { policy, org, canSign } = await call('policy.get', {});
        print({ ...policy, org, canSign }, `${formatPolicy(policy)}${org ? `\n  org key: ${org}` : ''}`);
        return 0;
      }
      case 'timer': {
        const [target] = args;
        const set = await call('conversations.setTimer', { conversation: await conversationOf(target!), expireSeconds: timerSetting ?? null, burnSeconds: numbers.burn ?? null });
        print(set, set.expireSeconds === null && set.burnSeconds === null ? `disappearing messages off in ${neutralise(target!)}`
          : `messages in ${neutralise(target!)} ${[set.expireSeconds !== null ? `disappear after ${formatDuration(set.expireSeconds)}` : '', set.burnSeconds !== null ? `burn ${formatDuration(set.burnSeconds)} after reading` : ''].filter(Boolean).join(' and ')}`);
        return 0;
      }
      case 'shred': {
        const report = await call('vault.shred', {});
        print(report, `shredded ${report.rows} rows, ${report.pages} pages, ${report.files} files (${report.bytes} bytes), ${report.walBytes} WAL bytes`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    return report(error, io, json, profile);
  } finally {
    await engine?.close().catch(() => {});
  }
}

/** Removes `dir` and its parents up to `top` (the first directory mkdir made), each only if empty. */
async function removeEmptyDirectories(dir: string, top: string): Promise<void> {
  for (let at = dir; ; at = path.dirname(at)) {
    if (!(await rmdir(at).then(() => true, () => false)) || at === top) return;
  }
}

/** `org-key export --out FILE` (the code printed once), `org-key import FILE --code-file CODEFILE|-`, `org-key share`. */
async function orgKeyCommand(args: string[], flags: Flags, call: Call, print: (value: unknown, human: string) => void, io: CliIo): Promise<number> {
  if (args[0] === 'export') {
    need(args, 1, 'org-key export');
    if (!flags.out) throw new UsageError('org-key export needs --out FILE');
    const exported = await call('orgKey.export', { out: path.resolve(flags.out) });
    print(exported, [`org key ${exported.org} backed up to ${neutralise(exported.file)}`, '',
      'Code: write this down and keep it offline, apart from the file. It is shown once, and the file opens with it alone:',
      `  ${exported.code}`].join('\n'));
    return 0;
  }
  if (args[0] === 'import') {
    const [, file] = need(args, 2, 'org-key import');
    const code = await secretLineFrom(flags, 'code-file', 'code', io);
    if (!code) throw new UsageError('org-key import needs --code-file CODEFILE (or --code-file - to read the code from standard input)');
    const imported = await call('orgKey.import', { file: path.resolve(file!), code });
    print(imported, `org key ${imported.org} restored: this device can sign policy changes (wardroom policy set)`);
    return 0;
  }
  if (args[0] === 'share') {
    need(args, 1, 'org-key share');
    const shared = await call('orgKey.share', {});
    print(shared, `org key sent end to end to ${shared.devices} other device${shared.devices === 1 ? '' : 's'} of this account`);
    return 0;
  }
  throw new UsageError(`usage: wardroom ${synopsis('org-key')}`);
}

/** `archive verify FILE`: exit 0 with the count and the signer's fingerprint, or 1 naming the first bad line. */
async function verifyArchive(file: string, key: string | undefined, io: CliIo, json: boolean): Promise<number> {
  const { verifyExport } = await import('../host/index.ts');
  const result = await verifyExport(path.resolve(file), key);
  if (result.ok) {
    io.out(json ? jsonLine(result) : `verified ${result.records} records by @${neutralise(result.archive)}, signed by key ${result.fingerprint}${key ? ' (the one given)' : ' (compare it with the archive\'s, or pass --key)'}${result.files ? `; ${result.files} files beside it match` : ''}`);
    return 0;
  }
  const where = result.line > 0 ? `line ${result.line}: ` : '';
  io.err(json ? jsonLine({ code: 'INVALID', line: result.line, message: result.reason, ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}), ...(result.file ? { file: result.file } : {}) }) : `wardroom: ${neutralise(file)}: ${where}${result.reason}`);
  return 1;
}

/** How often `archive run` says how many events it holds, when that changed. */
const ARCHIVE_REPORT_MS = 5_000;

async function archiveCommand(args: string[], flags: Flags, call: Call, print: (value: unknown, human: string) => void, io: CliIo, notice: (text: string) => void): Promise<number> {
  const [sub] = args;
  const describe = (s: CommandResponse<'archive.sync'>) => `${s.records} records; retention ${s.retention.on ? `on, archive @${s.retention.archiveAccount}` : 'off'}`
    + (s.retention.archiveAccount && !s.retention.on ? ` (archive @${s.retention.archiveAccount})` : '');
  switch (sub) {
    case 'sync': {
      need(args, 1, 'archive sync');
      const status = await call('archive.sync', {});
      print(status, `archive: ${describe(status)}`);
      return 0;
    }
    case 'run': {
      need(args, 1, 'archive run');
      let status = await call('archive.sync', {});
      print(status, `archive: ${describe(status)}; running until stopped (Ctrl-C)`);
      if (status.retention.archiveAccount === undefined) notice('the org policy names no archive yet: an admin runs  wardroom policy set --retention on --archive-account NAME');
      // the engine keeps receiving on its own; this loop only reports, and stops at Ctrl-C or SIGTERM
      let stopped = false;
      void io.interrupted.then(() => (stopped = true));
      while (!stopped) {
        await Promise.race([new Promise((resolve) => setTimeout(resolve, ARCHIVE_REPORT_MS).unref()), io.interrupted]);
        if (stopped) break;
        const next = await call('archive.sync', {}).catch((error: unknown) => {
          notice(`sync failed: ${(error as Error).message}; still running`);
          return status;
        });
        if (next.records !== status.records || next.retention.on !== status.retention.on) print(next, `archive: ${describe(next)}`);
        status = next;
      }
      print({ stopped: true, records: status.records }, `archive: stopped with ${status.records} records`);
      return 0;
    }
    case 'export': {
      need(args, 1, 'archive export');
      if (!flags.out) throw new UsageError('archive export needs --out FILE');
      const exported = await call('archive.export', { out: path.resolve(flags.out) });
      print(exported, `exported ${exported.records} records to ${neutralise(exported.file)}, signed by key ${exported.fingerprint}`
        + (exported.files + exported.unavailable ? `; ${exported.files} files in ${neutralise(exported.file)}.files${exported.unavailable ? `, ${exported.unavailable} no longer available (named in their records)` : ''}` : ''));
      return 0;
    }
    default:
      throw new UsageError('archive takes run, sync, export --out FILE or verify FILE (wardroom help archive)');
  }
}

type Call = <N extends CommandName>(name: N, request: CommandRequest<N>) => Promise<CommandResponse<N>>;

/** The last `limit` messages of a conversation (before message `before`, if given), oldest first, in pages the contract allows. */
async function history(call: Call, conversation: string, limit: number, before: string | undefined): Promise<MessageViewT[]> {
  const pages: MessageViewT[][] = [];
  let count = 0;
  let cursor = before;
  while (count < limit) {
    const want = Math.min(LIMITS.historyPageMax, limit - count);
    const page = await call('messages.list', { conversation, limit: want, ...(cursor ? { before: cursor } : {}) });
    pages.unshift(page.messages);
    count += page.messages.length;
    if (!page.hasOlder || page.messages.length === 0) break;
    cursor = page.messages[0]!.id;
  }
  return pages.flat();
}

async function channelCommand(args: string[], flags: Flags, call: Call, print: (value: unknown, human: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  const channelId = async (name: string) => (await call('conversations.resolve', { target: `#${name}` })).id;
  switch (sub) {
    case 'create': {
      const [name] = need(rest, 1, 'channel create');
      const created = await call('channels.create', { name: name!, open: flags.open, ...(flags.topic ? { topic: flags.topic } : {}) });
      print(created, `created #${neutralise(created.name)}${flags.open ? ' (open)' : ''}`);
      return 0;
    }
    case 'join': {
      const [name] = need(rest, 1, 'channel join');
      const joined = await call('channels.join', { channel: name! });
      print(joined, `joined #${neutralise(joined.name)}`);
      return 0;
    }
    case 'add': {
      const [channel, username] = need(rest, 2, 'channel add');
      await call('channels.add', { conversation: await channelId(channel!), username: username! });
      print({ channel, username, member: true }, `added @${neutralise(username!)} to #${neutralise(channel!)}`);
      return 0;
    }
    case 'remove': {
      const [channel, username] = need(rest, 2, 'channel remove');
      await call('channels.remove', { conversation: await channelId(channel!), username: username! });
      print({ channel, username, member: false }, `removed @${neutralise(username!)} from #${neutralise(channel!)}`);
      return 0;
    }
    case 'leave': {
      const [channel] = need(rest, 1, 'channel leave');
      await call('channels.leave', { conversation: await channelId(channel!) });
      print({ channel, left: true }, `left #${neutralise(channel!)}`);
      return 0;
    }
    case 'topic': {
      const [channel, topic] = need(rest, 2, 'channel topic');
      await call('channels.setTopic', { conversation: await channelId(channel!), topic: topic! });
      print({ channel, topic }, `set the topic of #${neutralise(channel!)}: ${neutralise(topic!)}`);
      return 0;
    }
    default:
      throw new UsageError('channel takes create, join, add, remove, leave or topic (wardroom help channel)');
  }
}

/** A contact's changed identity key in one sentence, with the command that accepts it (verifying again if it was verified). */
function identityChange(username: string, identity: ContactViewT['identity']): string {
  return identity === 'changed-while-verified'
    ? `@${username}'s safety number changed since you verified it. Compare the new one with them (wardroom safety-number ${username}), then verify it again: wardroom safety-number ${username} --verified.`
    : `@${username}'s safety number changed. Compare the new one with them (wardroom safety-number ${username}), then accept it: wardroom safety-number ${username} --accept.`;
}

/**
 * Fetches what is waiting on the relay before a read; a relay that cannot be reached ends the wait (instead of
 * sync.now's long timeout), and the read shows what this device already has, with a warning on stderr.
 */
async function syncForReading(api: WardroomApi, notice: (text: string) => void): Promise<void> {
  let off: () => void = () => {};
  const offline = new Promise<'offline'>((resolve) => {
    off = api.on('connection.state', ({ state }) => {
      if (state === 'offline') resolve('offline');
    });
  });
  try {
    if ((await Promise.race([api.call('sync.now', {}), offline])) === 'offline') {
      notice('the relay cannot be reached; showing what this device already has');
    }
  } finally {
    off();
  }
}

/**
 * `read TARGET --follow`: prints the history it is given, then every message that arrives in the conversation,
 * each once, in arrival order.
 */
function followConversation(api: WardroomApi, conversation: string, show: (m: MessageViewT) => void) {
  const shown = new Set<string>();
  let started = false;
  const held: MessageViewT[] = [];
  const deliver = (m: MessageViewT) => {
    if (m.conversation !== conversation || shown.has(m.id)) return;
    shown.add(m.id);
    show(m);
  };
  const off = api.on('message.received', (m) => (started ? deliver(m) : held.push(m)));
  return {
    /** Prints the history (with `showHistory`), then what arrived meanwhile and from now on (with `show`). */
    start(history: MessageViewT[], showHistory: (m: MessageViewT) => void) {
      for (const m of history) {
        shown.add(m.id);
        showHistory(m);
      }
      started = true;
      for (const m of held.splice(0)) deliver(m);
    },
    stop: off,
  };
}
