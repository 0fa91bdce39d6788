// The `wardroom` command line: the same engine and contract as the desktop app, for scripting, bots and tests.
// It talks to the engine only through the WardroomApi (core/api), so anything it can do the UI can do, and the
// contract's checks apply to both. Non-interactive by design: the passphrase comes from WARDROOM_PASSPHRASE or
// --passphrase-file, and every failure is one line on stderr with a non-zero exit.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { CommandName, CommandRequest, CommandResponse, MessageViewT, WardroomApi } from '../api/contract.ts';
import type { EngineHost, OpenEngine } from '../api/host.ts';
import { ApiError } from '../api/contract.ts';
import { openProfile } from './rpc-client.ts';

export type { EngineHost, LinkOptions, OpenEngine } from '../api/host.ts';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** resolves when the user interrupts (SIGINT, SIGTERM); `read --follow` and `serve` stop then */
  interrupted: Promise<void>;
  /** the process's stdin and stdout, for `serve` */
  stdio?: { input: Readable; output: Writable };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: wardroom --profile DIR [--passphrase-file FILE] COMMAND [ARGS]

  join LINK --username NAME          enrol with an invite link (prints the recovery kit once)
  link LINK --username NAME [--recovery-kit-file FILE | --recovery-kit KIT]
                                     make this profile a new device of an existing account: prints
                                     a code (WDL1.…) and waits until a signed-in device approves it
                                     (LINK: any invite link of the organisation; with the recovery
                                     kit it needs no approval)
  whoami [--json]                    who this profile is
  invite [--admin]                   (admins) print an invite link
  channel create NAME [--topic T] [--open]
                                     create a channel (--open: anyone in the org may join)
  channel join NAME                  join an open channel
  channel add NAME USERNAME          add a member
  channel remove NAME USERNAME       remove a member
  channel leave NAME                 leave a channel
  channel topic NAME TEXT            set the topic
  channels [--json]                  list channels and direct messages
  send TARGET TEXT [--expire S] [--burn S] [--reply ID]
                                     TARGET is #channel, @username or @name,name (a group)
  read TARGET [--json] [--follow] [--limit N] [--peek]
                                     marks what it shows as read (--peek leaves it unread);
                                     --follow prints new messages as they arrive until Ctrl-C
  sync                               fetch and process everything pending, then exit
  search QUERY [--json]
  edit MESSAGE_ID TEXT
  delete MESSAGE_ID                  delete for everyone
  react MESSAGE_ID EMOJI [--remove]
  safety-number USERNAME [--verified | --unverified]
  devices [--json]                   this account's devices
  approve CODE                       approve a device that ran link (from a device with the account key)
  receipts on|off                    send and show delivery and read receipts, or neither
  shred                              run the shredder and print its report
  serve [--socket PATH]              keep the profile open for bots: JSON-RPC on stdin/stdout, or on
                                     PATH (docs/bots.md); other commands then go through it
  --profiles DIR serve [--socket PATH]
                                     serve every profile in the app data directory DIR instead: clients
                                     join, link, unlock, lock and remove profiles (the host's commands)

The passphrase comes from WARDROOM_PASSPHRASE or --passphrase-file (first line). join and link create the
profile (a new directory) locked with it.`;

/** Every command name, checked before anything else so a typo is a usage error (exit 2) at no cost. */
const COMMANDS = new Set(['join', 'link', 'whoami', 'invite', 'channel', 'channels', 'send', 'read', 'sync', 'search', 'edit', 'delete', 'react', 'safety-number', 'devices', 'approve', 'receipts', 'shred', 'serve']);

const options = {
  profile: { type: 'string' },
  profiles: { type: 'string' },
  'passphrase-file': { type: 'string' },
  username: { type: 'string' },
  'recovery-kit': { type: 'string' },
  'recovery-kit-file': { type: 'string' },
  json: { type: 'boolean', default: false },
  follow: { type: 'boolean', default: false },
  peek: { type: 'boolean', default: false },
  admin: { type: 'boolean', default: false },
  remove: { type: 'boolean', default: false },
  verified: { type: 'boolean', default: false },
  unverified: { type: 'boolean', default: false },
  limit: { type: 'string' },
  expire: { type: 'string' },
  burn: { type: 'string' },
  reply: { type: 'string' },
  topic: { type: 'string' },
  open: { type: 'boolean', default: false },
  socket: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Flags = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UsageError(`--${name} takes a whole number of seconds or items above 0`);
  return Number(value);
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

function formatTime(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

export function formatMessage(m: MessageViewT): string {
  const timers = [m.expiresAt ? `expires ${formatTime(m.expiresAt)}` : '', m.burnAfterReadSeconds ? `burns ${m.burnAfterReadSeconds}s after read` : '']
    .filter(Boolean)
    .join(', ');
  const edited = m.editedAt ? ' (edited)' : '';
  return `${m.id}  ${formatTime(m.sentAt)}  @${m.sender}: ${m.text}${edited}${timers ? `  [${timers}]` : ''}`;
}

/** The `read --json` line: the documented fields first, optional ones only when set. */
export function messageJson(m: MessageViewT): string {
  const { id, conversation, sender, text, sentAt, expiresAt, burnAfterReadSeconds, ...rest } = m;
  return JSON.stringify({ id, conversation, sender, text, sentAt, ...(expiresAt ? { expiresAt } : {}), ...(burnAfterReadSeconds ? { burnAfterReadSeconds } : {}), ...rest });
}

function need(positionals: string[], count: number, what: string): string[] {
  if (positionals.length !== count) throw new UsageError(`expected ${what}`);
  return positionals;
}

/** Runs one CLI invocation; returns the exit code. Never throws. */
export async function runCli(argv: string[], host: EngineHost, io: CliIo): Promise<number> {
  let engine: OpenEngine | undefined;
  try {
    const { values: flags, positionals } = parse(argv);
    if (flags.help || positionals.length === 0) {
      io.out(USAGE);
      return flags.help ? 0 : 2;
    }
    const [command, ...args] = positionals as [string, ...string[]];
    if (command === 'serve' && flags.profiles !== undefined) {
      need(args, 0, 'serve [--socket PATH]');
      if (flags.profile !== undefined) throw new UsageError('serve takes --profile DIR or --profiles DIR, not both');
      return await (await import('./serve.ts')).serve({ host, appDir: flags.profiles, passphrase: () => passphraseFrom(flags, io), ...(flags.socket !== undefined ? { socket: flags.socket } : {}), io });
    }
    const profile = flags.profile ?? io.env.WARDROOM_PROFILE;
    if (!profile) throw new UsageError('no profile: pass --profile DIR (or set WARDROOM_PROFILE)');
    if (!COMMANDS.has(command)) throw new UsageError(`unknown command: ${command.slice(0, 64)} (wardroom --help lists them)`);
    // Checked before the engine opens: a typo should not cost an Argon2id unlock.
    const numbers = { expire: positiveInt('expire', flags.expire), burn: positiveInt('burn', flags.burn), limit: positiveInt('limit', flags.limit) };
    if (command === 'receipts' && (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off'))) throw new UsageError('receipts takes on or off');
    // Read when needed: a command that a running serve answers does not unlock the vault.
    const passphrase = () => passphraseFrom(flags, io);

    if (command === 'join') {
      const [link] = need(args, 1, 'join LINK --username NAME');
      if (!flags.username) throw new UsageError('join needs --username NAME');
      const joined = await host.join(profile, link!, flags.username, await passphrase());
      engine = joined;
      const me = await joined.api.call('account.whoami', {});
      io.out(`joined ${me.server} as @${me.username} (device ${me.deviceId})`);
      io.out('');
      io.out('Recovery kit: write this down and keep it offline. It is shown once and is the only way');
      io.out('back into this account if every device is lost:');
      io.out(`  ${joined.recoveryKit}`);
      return 0;
    }

    if (command === 'link') {
      const [link] = need(args, 1, 'link LINK --username NAME');
      if (!flags.username) throw new UsageError('link needs --username NAME');
      if (flags['recovery-kit'] !== undefined && flags['recovery-kit-file'] !== undefined) throw new UsageError('pass --recovery-kit or --recovery-kit-file, not both');
      const recoveryKit = flags['recovery-kit-file'] !== undefined ? await firstLine(flags['recovery-kit-file'], 'recovery kit') : flags['recovery-kit'];
      const username = flags.username;
      const cancel = new AbortController();
      void io.interrupted.then(() => cancel.abort());
      const linked = await host.link(profile, link!, username, await passphrase(), { ...(recoveryKit ? { recoveryKit } : {}), signal: cancel.signal }, (code) => {
        if (recoveryKit) return; // the kit approves at once: there is nothing to show another device
        io.out(code);
        io.err(`waiting for approval: on a device signed in as @${username}, run  wardroom --profile DIR approve CODE  with the code above (Ctrl-C cancels)`);
      });
      engine = linked;
      const me = await linked.api.call('account.whoami', {});
      io.out(`linked as @${me.username} (device ${me.deviceId})`);
      return 0;
    }

    if (command === 'serve') {
      need(args, 0, 'serve [--socket PATH]');
      return await (await import('./serve.ts')).serve({ host, profileDir: profile, passphrase, ...(flags.socket !== undefined ? { socket: flags.socket } : {}), io });
    }

    engine = await openProfile(host, profile, passphrase, io.env);
    const call = <N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandResponse<N>> => engine!.api.call(name, request);
    const print = (value: unknown, human: () => void) => (flags.json ? io.out(JSON.stringify(value)) : human());
    /** `#channel`, `@user` and `@ann,ben` are the CLI's names; the contract takes the conversation's id. */
    const conversationOf = async (target: string) => (await call('conversations.resolve', { target })).id;

    switch (command) {
      case 'whoami': {
        const me = await call('account.whoami', {});
        print(me, () => io.out(`@${me.username} on ${me.server}, device ${me.deviceId}${me.admin ? ' (admin)' : ''}`));
        return 0;
      }
      case 'invite': {
        io.out((await call('org.invite', { admin: flags.admin })).link);
        return 0;
      }
      case 'channel':
        return await channelCommand(args, flags, call, io);
      case 'channels': {
        const { conversations } = await call('conversations.list', {});
        if (flags.json) for (const c of conversations) io.out(JSON.stringify(c));
        else for (const c of conversations) io.out(`${c.kind === 'channel' ? '#' : '@'}${c.name}${c.unread ? ` (${c.unread} unread)` : ''}${c.topic ? ` - ${c.topic}` : ''}`);
        return 0;
      }
      case 'send': {
        const [target, text] = need(args, 2, 'send TARGET TEXT');
        const { expire: expiresInSeconds, burn: burnAfterReadSeconds } = numbers;
        const timers = expiresInSeconds || burnAfterReadSeconds ? { expiresInSeconds, burnAfterReadSeconds } : undefined;
        const sent = await call('messages.send', { conversation: await conversationOf(target!), text: text!, ...(flags.reply ? { replyTo: flags.reply } : {}), ...(timers ? { timers } : {}) });
        print(sent, () => io.out(`${sent.id} ${sent.status}`));
        return 0;
      }
      case 'read': {
        const [target] = need(args, 1, 'read TARGET');
        const conversation = await conversationOf(target!);
        const show = (m: MessageViewT) => io.out(flags.json ? messageJson(m) : formatMessage(m));
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
          await syncForReading(engine.api, io);
          const { messages } = await call('messages.list', { conversation, limit: numbers.limit ?? 50 });
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
      case 'sync': {
        const result = await call('sync.now', {});
        print(result, () => io.out(`received ${result.received}, sent ${result.sent}`));
        return 0;
      }
      case 'search': {
        const [query] = need(args, 1, 'search QUERY');
        const { messages } = await call('messages.search', { query: query!, limit: numbers.limit ?? 50 });
        for (const m of messages) io.out(flags.json ? messageJson(m) : formatMessage(m));
        return 0;
      }
      case 'edit': {
        const [id, text] = need(args, 2, 'edit MESSAGE_ID TEXT');
        await call('messages.edit', { id: id!, text: text! });
        return 0;
      }
      case 'delete': {
        const [id] = need(args, 1, 'delete MESSAGE_ID');
        await call('messages.delete', { id: id! });
        return 0;
      }
      case 'react': {
        const [id, emoji] = need(args, 2, 'react MESSAGE_ID EMOJI');
        await call('messages.react', { id: id!, emoji: emoji!, remove: flags.remove });
        return 0;
      }
      case 'safety-number': {
        const [username] = need(args, 1, 'safety-number USERNAME');
        if (flags.verified || flags.unverified) await call('contacts.markVerified', { username: username!, verified: flags.verified });
        const safety = await call('contacts.safetyNumber', { username: username! });
        print(safety, () => io.out(`${safety.digits}${safety.verified ? '  (verified)' : ''}`));
        return 0;
      }
      case 'devices': {
        const { devices } = await call('devices.list', {});
        if (flags.json) for (const d of devices) io.out(JSON.stringify(d));
        else for (const d of devices) io.out(`${d.id}  ${d.name}  ${d.status}${d.current ? '  (this device)' : ''}`);
        return 0;
      }
      case 'approve': {
        const [code] = need(args, 1, 'approve CODE');
        const device = await call('devices.approve', { code: code! });
        io.out(`approved ${device.id} (${device.name})`);
        return 0;
      }
      case 'receipts': {
        const [state] = args;
        await call('settings.set', { receipts: state === 'on' });
        io.out(`receipts ${state}`);
        return 0;
      }
      case 'shred': {
        const report = await call('vault.shred', {});
        print(report, () => io.out(`shredded ${report.rows} rows, ${report.files} files, ${report.bytes} bytes`));
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    io.err(`wardroom: ${error instanceof UsageError || error instanceof ApiError ? error.message : 'unexpected error (see the log)'}`);
    if (!(error instanceof UsageError) && !(error instanceof ApiError)) io.err(String((error as Error)?.stack ?? error).split('\n')[0]!);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await engine?.close().catch(() => {});
  }
}

async function channelCommand(
  args: string[],
  flags: Flags,
  call: <N extends CommandName>(name: N, request: CommandRequest<N>) => Promise<CommandResponse<N>>,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  const channelId = async (name: string) => (await call('conversations.resolve', { target: `#${name}` })).id;
  switch (sub) {
    case 'create': {
      const [name] = need(rest, 1, 'channel create NAME');
      const created = await call('channels.create', { name: name!, open: flags.open, ...(flags.topic ? { topic: flags.topic } : {}) });
      io.out(`created #${created.name}${flags.open ? ' (open)' : ''}`);
      return 0;
    }
    case 'join': {
      const [name] = need(rest, 1, 'channel join NAME');
      const joined = await call('channels.join', { channel: name! });
      io.out(`joined #${joined.name}`);
      return 0;
    }
    case 'add': {
      const [channel, username] = need(rest, 2, 'channel add NAME USERNAME');
      await call('channels.add', { conversation: await channelId(channel!), username: username! });
      return 0;
    }
    case 'remove': {
      const [channel, username] = need(rest, 2, 'channel remove NAME USERNAME');
      await call('channels.remove', { conversation: await channelId(channel!), username: username! });
      return 0;
    }
    case 'leave': {
      const [channel] = need(rest, 1, 'channel leave NAME');
      await call('channels.leave', { conversation: await channelId(channel!) });
      return 0;
    }
    case 'topic': {
      const [channel, topic] = need(rest, 2, 'channel topic NAME TEXT');
      await call('channels.setTopic', { conversation: await channelId(channel!), topic: topic! });
      return 0;
    }
    default:
      throw new UsageError('channel takes create, join, add, remove, leave or topic');
  }
}

/**
 * Fetches what is waiting on the relay before a read; a relay that cannot be reached ends the wait (instead of
 * sync.now's long timeout), and the read shows what this device already has, with a warning on stderr.
 */
async function syncForReading(api: WardroomApi, io: CliIo): Promise<void> {
  let off: () => void = () => {};
  const offline = new Promise<'offline'>((resolve) => {
    off = api.on('connection.state', ({ state }) => {
      if (state === 'offline') resolve('offline');
    });
  });
  try {
    if ((await Promise.race([api.call('sync.now', {}), offline])) === 'offline') {
      io.err('wardroom: the relay cannot be reached; showing what this device already has');
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
