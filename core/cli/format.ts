// How the command line shows text that came from someone else (message text, usernames, channel names, topics,
// device names, the relay's words in errors). Nothing anyone else typed may steer the terminal or pass for the
// CLI's own output:
//
// - Every control and invisible format character is shown as a visible escape instead of being printed: C0 and
//   C1 controls and DEL (ESC, so CSI and OSC sequences, OSC 8 links included; CR, which would return to the start
//   of the line and overprint it) as `\xHH` (`\t`, `\r`, `\n` for the common three); bidi embeddings, overrides and
//   isolates (U+202A-202E, U+2066-2069), marks, zero-width spaces, soft hyphens, tag characters, line and paragraph
//   separators and lone surrogates as `\uHHHH` (or `\u{HHHHH}`). A backslash typed by the sender is shown as it is,
//   so `\x1b` on screen is either an escaped ESC or those four characters, never a raw ESC.
//   One exception: a zero-width joiner or non-joiner between two non-ASCII letters or symbols stays, because emoji
//   sequences and several scripts need it; next to ASCII, spaces or controls it is escaped like the rest.
// - A message's own line breaks continue it on lines that start with CONTINUATION ("  | "). A header line starts
//   with the message id, which never starts with a space, so no text can print a line that looks like a header.
//   (A terminal still wraps an over-long line at its width; the wrapped part is the terminal's, not a new line.)
// - JSON output (--json) is exact: JSON.stringify's escapes, plus \uXXXX for the characters above that it leaves
//   raw (DEL, C1, format characters, U+2028/2029). Parsed, every string is exactly what the sender sent.
import type { ConversationViewT, MessageViewT } from '../api/contract.ts';
import { shortDuration } from '../api/durations.ts';

/** What starts every continuation line of a multi-line message. */
export const CONTINUATION = '  | ';

const SHORT: Record<string, string> = { '\t': '\\t', '\r': '\\r', '\n': '\\n' };
const JOINERS = new Set([0x200c, 0x200d]);
/** Characters never printed raw: controls, format characters, line/paragraph separators, lone surrogates. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
/** What JSON.stringify leaves raw that a terminal could act on or hide (it escapes C0 and lone surrogates itself). */
const RAW_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

function visibleEscape(char: string): string {
  const code = char.codePointAt(0)!;
  if (SHORT[char]) return SHORT[char];
  if (code <= 0x9f) return `\\x${hex(code, 2)}`; // C0, DEL, C1
  return code <= 0xffff ? `\\u${hex(code, 4)}` : `\\u{${hex(code, 5)}}`;
}

/** A joiner keeps its place only between two characters that are neither ASCII nor hidden nor space. */
const joinable = (char: string | undefined) => char !== undefined && char.codePointAt(0)! > 0x7f && !HIDDEN.test(char) && !/\s/u.test(char);

/** One line of someone else's text, safe to print: every control or invisible character shown as an escape. */
export function neutralise(text: string): string {
  const chars = Array.from(text);
  let out = '';
  chars.forEach((char, i) => {
    if (!HIDDEN.test(char)) out += char;
    else if (JOINERS.has(char.codePointAt(0)!) && joinable(chars[i - 1]) && joinable(chars[i + 1])) out += char;
    else out += visibleEscape(char);
  });
  return out;
}

/** Multi-line text: each line neutralised, the second and later ones behind CONTINUATION. CRLF counts as one break. */
export function continued(text: string): string {
  return text.split(/\r?\n/).map(neutralise).join(`\n${CONTINUATION}`);
}

/** One JSON line (--json): exact values, with nothing in it a terminal would act on. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(RAW_IN_JSON, (char) =>
    Array.from({ length: char.length }, (_, i) => `\\u${hex(char.charCodeAt(i), 4)}`).join(''));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time for people: the local date and time to the minute, with the zone's offset (`2026-12-01 18:50 +01:00`). */
export function formatTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return neutralise(iso);
  const offset = -at.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())} ${zone}`;
}

/** "@alice added @bob": who changed a channel's membership, as its signed log says. */
function membershipWords(by: string, change: NonNullable<MessageViewT['membership']>): string {
  const actor = `@${neutralise(by)}`;
  const members = change.members.map((name) => `@${neutralise(name)}`).join(', ');
  switch (change.change) {
    case 'created': return `${actor} created the channel`;
    case 'added': return `${actor} added ${members}`;
    case 'removed': return `${actor} removed ${members}`;
    case 'joined': return `${actor} joined`;
    case 'left': return `${actor} left`;
    case 'role': return `${actor} made ${members} ${change.role ?? 'member'}`;
  }
}

/** `ID  TIME  @sender: text`, continuation lines for the text's own line breaks, then (edited) and the timers. */
export function formatMessage(m: MessageViewT): string {
  const timers = [m.expiresAt ? `expires ${formatTime(m.expiresAt)}` : '', m.burnAfterReadSeconds ? `burns ${shortDuration(m.burnAfterReadSeconds)} after read` : '',
    m.clampedByPolicy ? 'shortened by the org policy' : '']
    .filter(Boolean)
    .join(', ');
  const edited = m.editedAt ? ' (edited)' : '';
  const head = `${neutralise(m.id)}  ${formatTime(m.sentAt)}`;
  // a notice is the CLI's own line, in its own form: no sender's text can take its shape (a message has '@name:')
  if (m.notice === 'retention-on') return `${head}  -- retention was turned on: the archive @${neutralise(m.sender)} keeps a copy of everything from now on --`;
  if (m.notice === 'retention-off') return `${head}  -- retention was turned off: the archive no longer receives copies --`;
  if (m.notice === 'identity-changed') return `${head}  -- the safety number of @${neutralise(m.sender)} changed: compare it (wardroom safety-number ${neutralise(m.sender)}) --`;
  if (m.notice === 'membership' && m.membership) return `${head}  -- ${membershipWords(m.sender, m.membership)} --`;
  if (m.notice === 'timer-changed' || m.notice === 'policy-clamped') return `${head}  -- ${continued(m.text)} --`;
  const held = m.status === 'held' ? '  [held: not sent]' : '';
  // a file's name is the sender's to choose: neutralised like text, and in the CLI's own brackets
  const files = (m.files ?? []).map((f) => `  [file ${f.index}: ${neutralise(f.name)}, ${f.size.toLocaleString('en-US')} bytes]`).join('');
  return `${head}  @${neutralise(m.sender)}: ${continued(m.text)}${edited}${timers ? `  [${timers}]` : ''}${held}${files}`;
}

/** The `read --json` line: the documented fields first, optional ones only when set. */
export function messageJson(m: MessageViewT): string {
  const { id, conversation, sender, text, sentAt, expiresAt, burnAfterReadSeconds, ...rest } = m;
  return jsonLine({ id, conversation, sender, text, sentAt, ...(expiresAt ? { expiresAt } : {}), ...(burnAfterReadSeconds ? { burnAfterReadSeconds } : {}), ...rest });
}

/** `#general (2 unread) - topic` or `@bob`. */
export function formatConversation(c: ConversationViewT): string {
  const unread = c.unread ? ` (${c.unread} unread)` : '';
  return `${c.kind === 'channel' ? '#' : '@'}${neutralise(c.name)}${unread}${c.topic ? ` - ${neutralise(c.topic)}` : ''}`;
}
