// The command line's help: one entry per command, from which both `wardroom --help` (every command, one line
// each) and `wardroom help COMMAND` / `wardroom COMMAND --help` (one command in full) are made, so they cannot
// drift apart. Help needs no profile and no passphrase.

export interface CommandHelp {
  /** each form of the command (without the leading `wardroom`) with its one-line summary for the overview */
  usage: [synopsis: string, summary: string][];
  /** the full explanation, shown by `help COMMAND` */
  details: string;
}

const TARGET = 'TARGET is #channel, @username, or @name,name for a group direct message.';

export const COMMAND_HELP: Record<string, CommandHelp> = {
  join: {
    usage: [['join LINK --username NAME [--device-name NAME]', 'enrol with an invite link (prints the recovery kit once)']],
    details: 'Creates the profile (a new directory, locked with the passphrase) and enrols it with the invite LINK an ' +
      'admin printed (`wardroom invite`, or the relay on its first start). Prints the recovery kit once: write it down ' +
      'and keep it offline; it is the only way back into the account if every device is lost. --device-name names this ' +
      'device for your other devices (default: the computer\'s host name; never sent to the relay).',
  },
  link: {
    usage: [['link LINK --username NAME [--recovery-kit-file FILE] [--device-name NAME]', 'make this profile a new device of an existing account']],
    details: 'Prints a code (WDL1.…) and waits until a device signed in as NAME approves it with `wardroom approve CODE`; ' +
      'Ctrl-C cancels. LINK is any invite link of the organisation (only its relay address and pin are used). With ' +
      'the recovery kit it needs no approval: --recovery-kit-file FILE reads the kit from the first line of FILE, ' +
      '--recovery-kit-file - from standard input. The kit is never taken on the command line, where other users of ' +
      'the computer could read it (ps). --device-name names this device for your other devices (default: the computer\'s ' +
      'host name; never sent to the relay).',
  },
  whoami: { usage: [['whoami', 'who this profile is']], details: 'The username, the relay, this device\'s id, and whether the account is an admin.' },
  invite: { usage: [['invite [--admin]', '(admins) print an invite link']], details: 'A single-use invite link for one new person; --admin makes them an admin too.' },
  channel: {
    usage: [
      ['channel create NAME [--topic TEXT] [--open]', 'create a channel (--open: anyone in the org may join)'],
      ['channel join NAME', 'join an open channel'],
      ['channel add NAME USERNAME', 'add a member'],
      ['channel remove NAME USERNAME', 'remove a member'],
      ['channel leave NAME', 'leave a channel'],
      ['channel topic NAME TEXT', 'set the topic'],
    ],
    details: 'NAME is the channel name without #. --open lets anyone in the organisation join it (`channel join`); other ' +
      'channels are by invitation (`channel add`). Each prints one line saying what changed.',
  },
  channels: { usage: [['channels', 'list channels and direct messages']], details: 'One line per conversation, with its unread count and topic.' },
  send: {
    usage: [['send TARGET [TEXT] [--file PATH]... [--expire DURATION] [--burn DURATION] [--reply ID]', 'send a message, files, or both']],
    details: `${TARGET} --expire deletes the message on every device DURATION after sending; --burn deletes it DURATION ` +
      'after a recipient first reads it (never later than --expire). DURATION is 30s, 5m, 2h, 7d or plain seconds, from 5 ' +
      'seconds to 365 days; without them the conversation\'s timer (wardroom timer) and the org policy apply, and the ' +
      'policy shortens what is longer than it allows. --reply answers the message ID. --file PATH (repeatable, up to 10) sends a file: encrypted on this ' +
      'computer under a key of its own, uploaded to the relay as ciphertext (which never learns its name or type), ' +
      'its key inside the message. A progress bar shows on a terminal; Ctrl-C cancels. An upload cut by a lost ' +
      'connection or a crash continues where it stopped when the profile is next opened. Prints the message id and its state.',
  },
  download: {
    usage: [['download MESSAGE_ID [--out DIR] [--index N]', 'save the files a message carries']],
    details: 'Downloads, verifies and decrypts every file of the message (or only file N, from 0) into DIR (default: ' +
      'the current directory), under its own name made unique ("name (1).ext"), never replacing a file. Nothing is ' +
      'saved unless the whole file verified; a damaged or truncated file is refused. A download cut short continues ' +
      'where it stopped when run again. Ctrl-C cancels. Refused when the organisation\'s policy allows files to be ' +
      'previewed in the app only.',
  },
  read: {
    usage: [['read TARGET [--limit N] [--before ID] [--follow] [--peek]', 'print a conversation, oldest first']],
    details: `${TARGET} Fetches what is waiting on the relay first, and marks what it prints as read (read receipts go ` +
      'out, burn-on-read timers start); --peek leaves it unread, for scripts. --limit N prints the last N messages (default 50, ' +
      'any number: it pages through the history itself); --before ID the ones before message ID. --follow then prints ' +
      'new messages as they arrive, until Ctrl-C (a normal end: exit 0). Times are local, with the zone\'s offset; with ' +
      '--json, ISO 8601 in UTC.',
  },
  timer: {
    usage: [['timer TARGET DURATION|off [--burn DURATION]', 'set how long messages last in a conversation, for everyone in it']],
    details: `${TARGET} Every member's messages there disappear DURATION after sending (--burn: after first reading) unless a ` +
      'message names its own; announced in the conversation. Within the org policy (wardroom policy show). `off` turns it off.',
  },
  policy: {
    usage: [
      ['policy show', 'the org policy this device enforces'],
      ['policy set [--max-expire DURATION|off] [--max-burn DURATION|off] [--default-expire DURATION|off] [--require-timer|--no-require-timer] [--retention on|off] [--archive-account NAME] [--files on|off] [--max-file-size SIZE|off] [--allowed-types TYPES|any] [--preview-only|--no-preview-only] [--link-previews on|off]', '(admins) sign and publish a new org policy'],
    ],
    details: 'The org policy is signed by the organisation key and checked by every device against the key it pinned, so ' +
      'the relay cannot change it. --max-expire caps every message\'s life (messages without a timer get it), --max-burn ' +
      'caps burn-on-read, --default-expire is the timer of messages that name none, --require-timer refuses messages ' +
      'without one. `off` removes a limit. Only admins can set it, on the device that registered the org key (the first ' +
      'admin device to set a policy registers one). --retention on --archive-account NAME makes the account NAME the ' +
      'compliance archive (wardroom help archive): every device copies everything to it and tells its user so, and the ' +
      'change is announced in every conversation; --retention off stops it. --files off stops files being sent or ' +
      'opened; --max-file-size 100MB caps a file (KB, MB, GB of 1024; the relay refuses larger uploads too); ' +
      '--allowed-types image/*,application/pdf lets only those types through (any: all); --preview-only lets files be ' +
      'opened in the app but never saved or downloaded; --link-previews off stops senders attaching link previews.',
  },
  sync: { usage: [['sync', 'fetch and process everything pending, then exit']], details: 'Prints how many items it received and sent.' },
  search: { usage: [['search QUERY [--limit N]', 'search this device\'s messages']], details: 'Searches the local vault only: the relay never sees message text. --limit N: at most N results (default 50, at most 200).' },
  edit: { usage: [['edit MESSAGE_ID TEXT', 'change the text of a message you sent']], details: 'Everyone in the conversation sees the new text, marked (edited).' },
  delete: { usage: [['delete MESSAGE_ID', 'delete a message you sent, for everyone']], details: 'Removes it from every device in the conversation.' },
  react: { usage: [['react MESSAGE_ID EMOJI [--remove]', 'add (or --remove) a reaction']], details: 'EMOJI is the reaction itself, e.g. 👍.' },
  'safety-number': {
    usage: [['safety-number USERNAME [--verified | --unverified | --accept]', 'show (or mark) the safety number with someone']],
    details: 'Compare it with USERNAME in person or over a trusted channel; --verified records that you did, so a key ' +
      'change is flagged. --unverified clears the mark. When their safety number changed, messages to them are held ' +
      'until you accept the new one: --accept does (for someone you had verified, compare again and use --verified).',
  },
  devices: {
    usage: [
      ['devices', 'this account\'s devices'],
      ['devices rename NAME', 'name this device (shown to your other devices only)'],
      ['devices revoke ID', 'take a lost device off the account'],
    ],
    details: 'One line per device: id, name, state, and which one is this. rename sends the name end to end to your ' +
      'other devices (the relay never sees it). revoke, from a device holding the account key, publishes a device list ' +
      'without ID: the relay stops serving it and your contacts stop encrypting to it.',
  },
  'move-relay': {
    usage: [['move-relay LINK', 'follow the organisation\'s relay to a new address']],
    details: 'When the relay moved or restarted at another address, LINK is any invite link of the organisation. The ' +
      'relay there must present the same organisation key and know this device; otherwise nothing changes. The next ' +
      'command connects there.',
  },
  serve: {
    usage: [
      ['serve [--socket PATH]', 'keep the profile open for bots: JSON-RPC on stdin/stdout or PATH'],
      ['--profiles DIR serve [--socket PATH]', 'serve every profile of the app data directory DIR'],
    ],
    details: 'Runs until Ctrl-C (or the end of stdin). Bots speak JSON-RPC 2.0, one object per line; the method names ' +
      'are the contract\'s (docs/bots.md). While serve holds a profile, other commands of that profile go through it. ' +
      'With --profiles nothing is unlocked at start: clients join, link, unlock, lock and remove profiles.',
  },
  approve: { usage: [['approve CODE', 'approve a device that ran link']], details: 'Run on a device signed in to the account, with the WDL1.… code `wardroom link` printed on the new one.' },
  receipts: { usage: [['receipts on|off', 'send and show delivery and read receipts, or neither']], details: 'Whoever turns them off neither sends them nor sees anyone else\'s.' },
  'link-previews': {
    usage: [['link-previews on|off', 'attach a preview of the first link in what you send, or send links as text only']],
    details: 'On by default. This device fetches the page (the site sees its address, never the relay the link); the '
      + 'recipients never contact the site. Off for this profile; an org policy that turns previews off wins either way.',
  },
  'original-images': {
    usage: [['original-images on|off', 'send images as they are, with their metadata, or stripped of it (the default)']],
    details: 'Off by default: GPS position, camera serial, times, XMP, IPTC and comments are removed before sending, the '
      + 'pixels and colour profile kept. On sends every image byte for byte, metadata and all.',
  },
  shred: { usage: [['shred', 'run the shredder and print its report']], details: 'Overwrites and frees what deleted and expired messages left in the vault.' },
  archive: {
    usage: [
      ['archive run', '(the compliance archive) receive and record until stopped'],
      ['archive sync', '(the compliance archive) record what is pending, then exit'],
      ['archive export --out FILE', '(the compliance archive) write the signed, hash-chained record'],
      ['archive verify FILE [--key FINGERPRINT]', 'check an export: exits 1 naming the first bad line'],
    ],
    details: 'The compliance archive is an ordinary account that joined with an invite and that the org policy names ' +
      '(policy set --retention on --archive-account NAME). `archive run` and `archive sync` put its profile in archive ' +
      'mode: it records every message, edit, deletion, reaction and attachment it receives as an event of its own, ' +
      'ignoring expiry and burn-on-read, in its own encrypted vault. `run` stays until Ctrl-C or SIGTERM. `export` ' +
      'writes JSON Lines to FILE (which must not exist): a header with the archive\'s public key, one line per event ' +
      '(messages, edits, deletions, reactions, files, timer, membership and retention changes), each carrying the ' +
      'digest of the line before, and an end line signed with the archive account\'s key; it prints the key\'s ' +
      'fingerprint. The files go in FILE.files beside it, each named by the digest of its content that its record ' +
      'carries (any not fetched yet are fetched first). `verify` needs no profile: it checks the chain, the signature ' +
      'and every file beside the export, and names the first line (or file) that was altered, removed, moved or ' +
      'appended; compare the fingerprint it prints with the archive\'s, or give it with --key.',
  },
  'org-key': {
    usage: [
      ['org-key export --out FILE', '(admins) back up the org key: FILE and a code shown once'],
      ['org-key import FILE --code-file CODEFILE|-', '(admins) restore the org key on this device'],
      ['org-key share', '(admins) send the org key to your own other devices'],
    ],
    details: 'The org key signs the org policy and lives on the admin device that registered it. `export` seals it into ' +
      'FILE (which must not exist) and prints the code that opens it, once: keep the file and the code apart, the code ' +
      'offline. `import` on another admin device (a new one, or a profile restored after the first was lost) keeps the ' +
      'key if it is the one this device pinned; policy set then works there. The code is read from CODEFILE or, with ' +
      '`-`, standard input, never from the command line. `share` sends the key end to end to this account\'s other ' +
      'devices (link a new one first); each keeps it if it is the org key it pinned.',
  },
  help: { usage: [['help [COMMAND]', 'this overview, or one command in full']], details: 'Also `wardroom COMMAND --help`.' },
};

/** Commands that need a profile: every command but help. */
export const COMMANDS = new Set(Object.keys(COMMAND_HELP).filter((name) => name !== 'help'));

const COLUMN = 37;

/** `  synopsis   summary`, the summary on a line of its own under a long synopsis. */
const overviewLines = ([synopsis, summary]: [string, string]): string[] =>
  synopsis.length + 2 < COLUMN ? [`  ${synopsis.padEnd(COLUMN - 2)}${summary}`] : [`  ${synopsis}`, `${' '.repeat(COLUMN)}${summary}`];

const GLOBAL = `Options for every command:
  --profile DIR          the profile (default: $WARDROOM_PROFILE)
  --passphrase-file FILE the passphrase is the first line of FILE (default: $WARDROOM_PASSPHRASE)
  --json                 print one JSON object per line; errors as one JSON object {"code","message"} on stderr
  --help, -h             help for the command; --version prints the version

Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.`;

export const USAGE = [
  'usage: wardroom [--profile DIR] [--passphrase-file FILE] [--json] COMMAND [ARGS]',
  '',
  ...Object.values(COMMAND_HELP).flatMap((help) => help.usage.flatMap(overviewLines)),
  '',
  GLOBAL,
  '',
  'join and link create the profile (a new directory) locked with the passphrase. `wardroom help COMMAND` explains one',
  'command in full.',
].join('\n');

/** `wardroom help COMMAND`: the command's synopsis and explanation, wrapped to 100 columns. */
export function commandHelp(name: string): string | undefined {
  const help = Object.hasOwn(COMMAND_HELP, name) ? COMMAND_HELP[name] : undefined;
  if (!help) return undefined;
  return [...help.usage.map(([u], i) => `${i === 0 ? 'usage: ' : '       '}wardroom ${u}`), '', ...wrap(help.details, 100), '', GLOBAL].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
