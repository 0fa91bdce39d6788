// The one contract between the engine (core/) and whatever drives it: the CLI today, the Electron shell and the web
// shell next. Every command is a name with a request and a response schema; every event a name with a payload
// schema. Transports route names to the same handlers and check these schemas where data crosses their boundary
// (IPC, WebSocket), so no transport carries business logic and none can smuggle an unchecked shape into core.
//
// The renderer imports this file for types only (`import type`); the lint rule in eslint.config.js enforces that.
import { z } from 'zod';
import { CodedError } from '../crypto/coded-error.ts';
import { MAX_TIMER_SECONDS, MIN_TIMER_SECONDS } from './durations.ts';

// ---------------------------------------------------------------- shared shapes and limits

/** Limits a UI or script can hit; the engine refuses more with a clear error instead of truncating silently. */
export const LIMITS = {
  usernameMax: 32,
  channelNameMax: 64,
  topicMax: 256,
  messageTextMax: 16_000,
  searchQueryMax: 256,
  historyPageMax: 200,
  passphraseMin: 8,
  passphraseMax: 1024,
  linkMax: 2048,
  previewMax: 200,
  displayNameMax: 64,
  /** files in one message */
  filesPerMessage: 10,
  fileNameMax: 255,
  /** bytes of a file one files.read or files.stageChunk call carries */
  fileChunkMax: 1024 * 1024,
  /** bytes of a still a caller hands in as a video's or a PDF's preview (re-encoded far smaller as its thumbnail) */
  previewInputBytes: 256 * 1024,
} as const;

export const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, 'usernames are 2-32 characters: a-z, 0-9, dot, dash, underscore');
export const ChannelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'channel names are 1-64 characters: a-z, 0-9, dash, underscore');
export const MessageId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a message id');
/**
 * A conversation's stable name in the contract: `c:` + the relay's channel id, `d:` + the other person's username,
 * `g:` + a group's id. Opaque to callers: get one from conversations.list or conversations.resolve.
 */
export const ConversationId = z.string().regex(/^[cdg]:[A-Za-z0-9._-]{1,64}$/, 'not a conversation id (conversations.resolve turns #channel or @user into one)');
export const IsoTime = z.iso.datetime({ offset: true });
/**
 * A message's text: at most LIMITS.messageTextMax characters, with something to see in it (whitespace, control
 * and invisible format characters alone are no message).
 */
export const MessageText = z.string().max(LIMITS.messageTextMax).regex(/[^\s\p{Cc}\p{Cf}]/u, 'the message is empty');
export const Passphrase = z.string().min(LIMITS.passphraseMin, `passphrases have at least ${LIMITS.passphraseMin} characters`).max(LIMITS.passphraseMax);

/** `#channel`, `@username`, or `@ann,ben` for a group direct message: how the CLI and the UI name a conversation. */
export const Target = z.string().max(1100).regex(/^(#[a-z0-9][a-z0-9_-]{0,63}|@[a-z0-9][a-z0-9._-]{1,31}(,[a-z0-9][a-z0-9._-]{1,31}){0,31})$/, 'a target is #channel, @username or @name,name');

/** A timer in whole seconds: 5 s to 365 days (core/api/durations.ts reads `10s`, `5m`, `2h`, `7d` for the CLI). */
export const TimerSeconds = z.number().int().min(MIN_TIMER_SECONDS).max(MAX_TIMER_SECONDS);

/** Timers travel inside the encrypted payload; the engine clamps them to the org policy's caps. */
export const Timers = z.object({
  expiresInSeconds: TimerSeconds.optional(),
  burnAfterReadSeconds: TimerSeconds.optional(),
});

export const ConversationKind = z.enum(['channel', 'direct', 'group']);
export const Role = z.enum(['owner', 'admin', 'member']);

/** The newest message of a conversation, as a sidebar shows it (text cut to a preview). */
export const LastMessageView = z.object({
  id: MessageId,
  sender: Username,
  text: z.string().max(LIMITS.previewMax),
  sentAt: IsoTime,
});

export const ConversationView = z.object({
  id: ConversationId,
  kind: ConversationKind,
  name: z.string(),
  topic: z.string().optional(),
  role: Role.optional(),
  members: z.array(Username),
  /** unread messages of the conversation's own list (a reply in a thread is not one; a mention in it counts below) */
  unread: z.number().int().nonnegative(),
  /** unread messages that mention this user */
  mentions: z.number().int().nonnegative(),
  lastMessageAt: IsoTime.optional(),
  lastMessage: LastMessageView.optional(),
  /** the conversation's default timers, set by a member (conversations.setTimer); empty once turned off */
  timer: z.object({ expireSeconds: TimerSeconds.optional(), burnSeconds: TimerSeconds.optional() }).optional(),
});

export const Theme = z.enum(['light', 'dark', 'system']);
/** What a notification may say: everything, only mentions and direct messages, or nothing. */
export const NotifyLevel = z.enum(['all', 'mentions', 'none']);

/** Typed per-profile settings; settings.set takes any subset and answers with the whole. */
export const Settings = z.object({
  /** delivery and read receipts in direct messages (both ways: who turns them off neither sends nor asks for them) */
  receipts: z.boolean(),
  /** typing indicators, both ways like receipts */
  typing: z.boolean(),
  notifications: NotifyLevel,
  /** notifications show the sender and text; off shows only that something arrived */
  notificationContent: z.boolean(),
  /** lock the app after this long without activity; 0 never */
  lockAfterSeconds: z.number().int().nonnegative().max(7 * 24 * 3600),
  theme: Theme,
  /** the desktop app's window cannot be captured by screenshots or screen sharing (where the OS supports it) */
  screenCaptureProtection: z.boolean(),
  /** this device fetches a preview of the first link in a message it sends (the site sees this device's address) */
  linkPreviews: z.boolean(),
  /** images are sent as they are, with their metadata (GPS, camera, time); off: stripped first */
  sendOriginalImages: z.boolean(),
}).strict();

/** `changed`: a new identity key the user has not accepted; sends to them are held (`changed-while-verified`: verify again) */
export const IdentityView = z.enum(['accepted', 'changed', 'changed-while-verified']);

export const ContactView = z.object({
  username: Username,
  /** the name this contact chose for themselves (shown beside the username, never instead of it) */
  displayName: z.string().max(LIMITS.displayNameMax).optional(),
  verified: z.boolean(),
  identity: IdentityView,
});

/** A recorded event: what events.since replays to a client that lost its connection. */
export const RecordedEventView = z.object({ seq: z.number().int().positive(), name: z.string(), payload: z.unknown() });

/** Long commands take an id chosen by the caller: progress events name it, and operations.cancel stops it. */
export const OperationId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an operation id is 1-64 characters: letters, digits, dash, underscore');

export const Reaction = z.object({ emoji: z.string().min(1).max(16), users: z.array(Username) });

/** A channel membership change, as the member who made it signed it: `sender` did it, to `members`. */
export const MembershipNotice = z.object({
  change: z.enum(['created', 'added', 'removed', 'joined', 'left', 'role']),
  members: z.array(Username).max(1000),
  role: Role.optional(),
});
export type MembershipNotice = z.infer<typeof MembershipNotice>;

/**
 * A link preview the sender's device fetched and sent inside the message (the recipient's device never contacts the
 * site): text only, and a small JPEG thumbnail as base64 that a UI shows from a blob: URL, never from the site.
 */
export const LinkPreviewView = z.object({
  url: z.string().max(LIMITS.linkMax),
  title: z.string().min(1).max(400),
  description: z.string().max(800).optional(),
  image: z.object({ jpeg: z.string().max(65_536), width: z.number().int().positive().max(1024), height: z.number().int().positive().max(1024) }).optional(),
});

/** A file's name as shown and saved: no path separators, no control characters. */
export const FileName = z.string().min(1).max(LIMITS.fileNameMax).regex(/^[^/\\\p{Cc}]+$/u, 'a file name has no slashes or control characters');
export const MimeType = z.string().max(127).regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'not a media type');
/** Bytes uploaded with files.stage, for a caller that has no path to give (the web shell). */
export const StagedId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a staged file id');

/**
 * A file to send: a `path` the caller chose (the CLI, the desktop app's file dialog) or bytes it `staged`. `name`
 * and `mime` default to the path's base name and the type its contents or extension show.
 */
export const AttachmentInput = z.object({
  path: z.string().min(1).max(4096).optional(),
  staged: StagedId.optional(),
  name: FileName.optional(),
  mime: MimeType.optional(),
  /**
   * A video's first frame or a PDF's first page, made by the caller (the desktop app draws it from a <video>
   * element, or with pdf.js, before sending): the engine decodes and re-encodes it as the file's thumbnail, so only
   * a small image of its own making is sent. Given for any other type, it is dropped.
   */
  preview: z.object({ mime: z.enum(['image/jpeg', 'image/png', 'image/webp']), data: z.string().max(Math.ceil(LIMITS.previewInputBytes / 3) * 4) }).strict().optional(),
}).strict().refine((a) => (a.path === undefined) !== (a.staged === undefined), 'an attachment is a path or a staged file, not both');

/** A file in a message, as a list shows it; its bytes come through files.download, files.open and files.read. */
export const FileView = z.object({
  index: z.number().int().nonnegative(),
  name: z.string().max(LIMITS.fileNameMax),
  mime: z.string().max(127),
  size: z.number().int().nonnegative(),
  /** images, videos (the first frame) and PDFs (the first page): a small preview made on the sender's device (base64 of `mime` bytes) */
  thumbnail: z.object({ mime: z.string().max(32), width: z.number().int().positive(), height: z.number().int().positive(), data: z.string() }).optional(),
  /** decrypted into this device's vault by files.open, so files.read answers without the relay */
  cached: z.boolean(),
});

/** What the signed org policy says about files (clients enforce all of it; the relay the size and the switch). */
export const FilePolicyView = z.object({
  enabled: z.boolean(),
  maxBytes: z.number().int().nonnegative(),
  /** media types or `type/*` patterns; absent: any */
  allowedTypes: z.array(z.string().max(127)).optional(),
  /** files open in the app (files.open) and are never saved to disk (files.download refused) */
  previewOnly: z.boolean(),
});

export const MessageView = z.object({
  id: MessageId,
  conversation: ConversationId,
  sender: Username,
  senderDevice: z.string(),
  text: z.string(),
  sentAt: IsoTime,
  editedAt: IsoTime.optional(),
  replyTo: MessageId.optional(),
  threadRoot: MessageId.optional(),
  /** a thread's root: how many replies its thread holds (left out when none) */
  replyCount: z.number().int().positive().optional(),
  mentions: z.array(Username),
  reactions: z.array(Reaction),
  expiresAt: IsoTime.optional(),
  burnAfterReadSeconds: z.number().int().positive().optional(),
  /** the org policy shortened this message's timers (or gave it one): the UI says so */
  clampedByPolicy: z.boolean().optional(),
  /**
   * `held`: not sent, because someone in the conversation has a new identity key the user has not accepted yet, or
   * (a channel) because the relay withholds or forks its membership log (`channel.membershipWarning` says which)
   */
  status: z.enum(['pending', 'held', 'sent', 'delivered', 'read', 'failed']),
  outgoing: z.boolean(),
  /**
   * a local notice in the history, not a message anyone sent: `identity-changed`, the sender's safety number
   * changed; `membership`, the sender changed who is in the channel (`membership` says how), as its signed log says;
   * `timer-changed`, a member changed the conversation's timers (`text` says who and what); `policy-clamped`, the
   * org policy shortens timers here (`text` says how); `retention-on`/`retention-off`, the org's signed policy
   * turned retention on or off (local; `sender` is then the archive account); `membership-warning`, the relay
   * withholds or forks the channel's membership log, or stopped doing so (`text` says which; `sender` is the member
   * whose device vouched for the head this device could not see)
   */
  notice: z.enum(['identity-changed', 'membership', 'timer-changed', 'policy-clamped', 'retention-on', 'retention-off', 'membership-warning']).optional(),
  membership: MembershipNotice.optional(),
  preview: LinkPreviewView.optional(),
  files: z.array(FileView).optional(),
});

/** Retention as the org-signed policy sets it; `notice` is the permanent line every participant is shown while it is on. */
export const RetentionView = z.object({ on: z.boolean(), archiveAccount: Username.optional(), notice: z.string().optional() });

/** The compliance archive's own state (`wardroom archive`): whether this profile records, and what it holds. */
export const ArchiveStatusView = z.object({
  archiving: z.boolean(),
  retention: RetentionView,
  records: z.number().int().nonnegative(),
  /** base64url SHA-256 of the key its exports are signed with; absent on a device without the account key */
  fingerprint: z.string().optional(),
});


export const ShredReportView = z.object({
  /** message rows removed (with their search entries, reactions and attachment keys) */
  rows: z.number().int().nonnegative(),
  /** database pages handed back to the file system */
  pages: z.number().int().nonnegative(),
  /** attachment files overwritten and unlinked */
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** write-ahead log bytes truncated */
  walBytes: z.number().int().nonnegative(),
});

/** A media type as a policy names it: `application/pdf`, or a whole family as `image/*`. */
export const MediaTypePattern = z.string().max(127).regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/i, 'is not a media type such as image/png or image/*');

/** The org policy's fields about files and link previews (as core/engine/policy/document.ts reads them). */
const POLICY_FILE_FIELDS = {
  fileSharing: z.boolean().optional(),
  maxFileBytes: z.number().int().nonnegative().optional(),
  /** media types (`application/pdf`) or families (`image/*`); absent: any */
  allowedFileTypes: z.array(z.string().max(127)).max(200).optional(),
  filePreviewOnly: z.boolean().optional(),
  linkPreviews: z.boolean().optional(),
};

/**
 * The org policy in force on this device, signed by the org key and verified under the key the device pinned.
 * version 0: none published (or none this device could verify). Fields other features add pass through.
 */
export const PolicyView = z.object({
  version: z.number().int().nonnegative(),
  maxExpireSeconds: TimerSeconds.optional(),
  maxBurnSeconds: TimerSeconds.optional(),
  requireTimer: z.boolean().optional(),
  defaultExpireSeconds: TimerSeconds.optional(),
  retention: z.boolean().optional(),
  archiveAccount: Username.optional(),
  ...POLICY_FILE_FIELDS,
}).loose();

export const DeviceView = z.object({
  id: z.string(),
  name: z.string().max(LIMITS.displayNameMax),
  createdAt: IsoTime,
  current: z.boolean(),
  status: z.enum(['active', 'pending', 'revoked']),
});

// ---------------------------------------------------------------- commands

const empty = z.object({}).strict();

/**
 * Every command the engine answers. Requests are `.strict()`: an unknown field is a caller bug or an attack, and
 * either way it is better refused than ignored.
 */
export const commands = {
  'account.whoami': {
    request: empty,
    response: z.object({
      username: Username, displayName: z.string().optional(), accountId: z.string(), deviceId: z.string(), server: z.string(), admin: z.boolean(),
      /** As the org-signed policy says: while `on`, the archive account receives a copy of everything, and `notice` says so. */
      retention: RetentionView.optional(),
    }),
  },
  /**
   * Moves this device to its organisation's relay at a new address (the relay was moved or restarted elsewhere):
   * LINK is any invite link of the same organisation. The relay there must hold the same org key, and know this
   * device; nothing else is accepted. Takes effect when the profile is next opened.
   */
  'account.moveRelay': { request: z.object({ link: z.string().max(LIMITS.linkMax) }).strict(), response: z.object({ server: z.string() }) },
  'org.invite': { request: z.object({ admin: z.boolean().default(false) }).strict(), response: z.object({ link: z.string() }) },

  /**
   * Every conversation this device is in (channels, direct and group messages), newest activity first. `seq` is the
   * number of the last event emitted before the list was read: a client that subscribed first and then listed
   * applies only events after it, and after a reconnect asks events.since for what it missed.
   */
  'conversations.list': { request: empty, response: z.object({ conversations: z.array(ConversationView), seq: z.number().int().nonnegative() }) },
  /** `#channel`, `@user` or `@ann,ben` to the conversation's view (a first direct or group message opens it). */
  'conversations.resolve': { request: z.object({ target: Target }).strict(), response: ConversationView },
  /**
   * Sets the conversation's default timers for every member (null: none), within the org policy; announced in the
   * conversation ("ann set messages to disappear after 1 day"). A message's own timers still override it.
   */
  'conversations.setTimer': {
    request: z.object({ conversation: ConversationId, expireSeconds: TimerSeconds.nullable(), burnSeconds: TimerSeconds.nullable().default(null) }).strict(),
    response: z.object({ expireSeconds: TimerSeconds.nullable(), burnSeconds: TimerSeconds.nullable() }),
  },
  /** Tells the other members that this user is (or stopped) typing; nothing is stored, and it is off with the typing setting. */
  'conversations.typing': { request: z.object({ conversation: ConversationId, typing: z.boolean() }).strict(), response: empty },
  /** `open` channels are listed to everyone in the org, who may join them; others are invitation only. */
  'channels.create': { request: z.object({ name: ChannelName, topic: z.string().max(LIMITS.topicMax).optional(), open: z.boolean().default(false) }).strict(), response: ConversationView },
  'channels.join': { request: z.object({ channel: ChannelName }).strict(), response: ConversationView },
  'channels.add': { request: z.object({ conversation: ConversationId, username: Username }).strict(), response: empty },
  'channels.remove': { request: z.object({ conversation: ConversationId, username: Username }).strict(), response: empty },
  'channels.leave': { request: z.object({ conversation: ConversationId }).strict(), response: empty },
  'channels.setTopic': { request: z.object({ conversation: ConversationId, topic: z.string().max(LIMITS.topicMax) }).strict(), response: empty },
  /** A channel's members with their roles, as the relay lists them, by username. */
  'channels.members': {
    request: z.object({ conversation: ConversationId }).strict(),
    response: z.object({ members: z.array(z.object({ username: Username, role: Role })) }),
  },
  'channels.setRole': { request: z.object({ conversation: ConversationId, username: Username, role: Role }).strict(), response: empty },

  /**
   * Sends text, files or both. Files are encrypted and uploaded first (progress as operation.progress under
   * `operation`, in bytes of all files; operations.cancel stops it), then the message goes out with their keys.
   */
  'messages.send': {
    request: z.object({
      conversation: ConversationId,
      text: MessageText.optional(),
      replyTo: MessageId.optional(),
      timers: Timers.optional(),
      /**
       * With replyTo: a reply shown in the conversation itself with the message it answers quoted above it, rather
       * than in that message's thread (a reply without it joins the thread).
       */
      quote: z.boolean().optional(),
      /** false: no link preview for this message, whatever the setting */
      linkPreview: z.boolean().optional(),
      attachments: z.array(AttachmentInput).min(1).max(LIMITS.filesPerMessage).optional(),
      operation: OperationId.optional(),
    }).strict()
      .refine((r) => r.text !== undefined || r.attachments !== undefined, { message: 'the message is empty', path: ['text'] })
      .refine((r) => !r.quote || r.replyTo !== undefined, 'a quoted reply names the message it answers (replyTo)'),
    response: MessageView,
  },
  /**
   * A page of history, oldest first, for a list that pages both ways: the newest page, or the page `before` or
   * `after` a message, or one `around` it (the message in the middle: jump to a search result or the first unread).
   * `hasOlder` / `hasNewer` say whether another page lies that way.
   */
  'messages.list': {
    request: z.object({
      conversation: ConversationId,
      before: MessageId.optional(),
      after: MessageId.optional(),
      around: MessageId.optional(),
      limit: z.number().int().positive().max(LIMITS.historyPageMax).default(50),
    }).strict().refine((r) => [r.before, r.after, r.around].filter(Boolean).length <= 1, 'give at most one of before, after and around'),
    response: z.object({ messages: z.array(MessageView), hasOlder: z.boolean(), hasNewer: z.boolean() }),
  },
  'messages.edit': { request: z.object({ id: MessageId, text: MessageText }).strict(), response: empty },
  'messages.delete': { request: z.object({ id: MessageId }).strict(), response: empty },
  'messages.react': { request: z.object({ id: MessageId, emoji: z.string().min(1).max(16), remove: z.boolean().default(false) }).strict(), response: empty },
  /** A thread as its side panel shows it: the root, and its replies oldest first (the newest `limit` of them). */
  'messages.thread': {
    request: z.object({ root: MessageId, limit: z.number().int().positive().max(LIMITS.historyPageMax).default(100) }).strict(),
    response: z.object({ root: MessageView, replies: z.array(MessageView), hasOlder: z.boolean() }),
  },
  /**
   * The conversation's own list read up to `upTo`; with `thread` (a root), that thread read up to `upTo` instead:
   * a mention in a reply counts until its thread is read. Answers with the mentions the conversation still counts.
   */
  'messages.markRead': {
    request: z.object({ conversation: ConversationId, upTo: MessageId, thread: MessageId.optional() }).strict(),
    response: z.object({ mentions: z.number().int().nonnegative() }),
  },
  'messages.search': {
    request: z.object({ query: z.string().min(1).max(LIMITS.searchQueryMax), limit: z.number().int().positive().max(200).default(50) }).strict(),
    response: z.object({ messages: z.array(MessageView) }),
  },

  /**
   * Fetches and processes everything the relay holds and sends what is queued; reports progress as operation.progress
   * when given an id. `sent` counts frames the relay accepted while it ran (queued before it or during it).
   */
  'sync.now': { request: z.object({ operation: OperationId.optional() }).strict(), response: z.object({ received: z.number().int().nonnegative(), sent: z.number().int().nonnegative() }) },
  /** Stops a long command started with this id; the command then fails with CANCELLED. Unknown ids are ignored. */
  'operations.cancel': { request: z.object({ operation: OperationId }).strict(), response: z.object({ cancelled: z.boolean() }) },
  /**
   * The events after `after`, oldest first, as far as the engine's replay buffer reaches. `complete` false means
   * some were already dropped: take a fresh snapshot (conversations.list) instead.
   */
  'events.since': {
    request: z.object({ after: z.number().int().nonnegative() }).strict(),
    response: z.object({ events: z.array(RecordedEventView), complete: z.boolean(), seq: z.number().int().nonnegative() }),
  },

  'contacts.safetyNumber': {
    request: z.object({ username: Username }).strict(),
    /** `identity`: whether the key these digits come from is one the user accepted (not: sends to them are held) */
    response: z.object({ digits: z.string().regex(/^(\d{5} ){11}\d{5}$/), qr: z.string(), verified: z.boolean(), identity: IdentityView }),
  },
  /** Marking verified also accepts the identity key whose safety number the user compared (and sends what was held). */
  'contacts.markVerified': { request: z.object({ username: Username, verified: z.boolean() }).strict(), response: empty },
  /**
   * Accepts a contact's changed identity key: messages held for them go out. A contact that was verified must be
   * verified again instead (FORBIDDEN). Only the user can do this: nothing the relay sends can.
   */
  'contacts.acceptIdentity': { request: z.object({ username: Username }).strict(), response: empty },
  /** The people this device knows: everyone it shares a conversation with, with their display names. */
  'contacts.list': { request: empty, response: z.object({ contacts: z.array(ContactView) }) },
  /** The name others see beside this user's username; sent end to end to everyone this user shares a conversation with. */
  'account.setDisplayName': { request: z.object({ displayName: z.string().trim().max(LIMITS.displayNameMax) }).strict(), response: empty },

  'devices.list': { request: empty, response: z.object({ devices: z.array(DeviceView) }) },
  'devices.approve': { request: z.object({ code: z.string().min(1).max(LIMITS.linkMax) }).strict(), response: DeviceView },
  /**
   * Takes a device off the account (a lost or stolen laptop): the relay stops serving it, and the signed device list
   * without it tells every contact to stop encrypting to it and to refuse what it sends. From a device holding the
   * account key; not the device in use.
   */
  'devices.revoke': { request: z.object({ deviceId: z.string().min(1).max(64) }).strict(), response: DeviceView },
  /** Names this device (the CLI gives the host name at join and link); sent end to end to the account's other devices only. */
  'devices.rename': { request: z.object({ name: z.string().trim().min(1).max(LIMITS.displayNameMax) }).strict(), response: DeviceView },

  /**
   * Downloads, verifies and decrypts a message's file into `dir` (a directory the caller chose), under its name
   * (made unique). Nothing is left there unless the whole file verified. Resumes a download that was cut.
   */
  'files.download': {
    request: z.object({ message: MessageId, index: z.number().int().nonnegative().max(LIMITS.filesPerMessage - 1).default(0), dir: z.string().min(1).max(4096), operation: OperationId.optional() }).strict(),
    response: z.object({ path: z.string(), size: z.number().int().nonnegative() }),
  },
  /** Downloads and decrypts a file into this device's vault (allowed under preview-only), then files.read serves it. */
  'files.open': {
    request: z.object({ message: MessageId, index: z.number().int().nonnegative().max(LIMITS.filesPerMessage - 1).default(0), operation: OperationId.optional() }).strict(),
    response: FileView,
  },
  /** Bytes of a file files.open decrypted into the vault, base64; `eof` when they reach its end. */
  'files.read': {
    request: z.object({ message: MessageId, index: z.number().int().nonnegative().max(LIMITS.filesPerMessage - 1).default(0), offset: z.number().int().nonnegative(), length: z.number().int().positive().max(LIMITS.fileChunkMax) }).strict(),
    response: z.object({ data: z.string(), eof: z.boolean() }),
  },
  /** Starts staging a file of `size` bytes for a caller without a path; chunks follow in order, then messages.send names it. */
  'files.stage': {
    request: z.object({ size: z.number().int().nonnegative() }).strict(),
    response: z.object({ staged: StagedId }),
  },
  'files.stageChunk': {
    request: z.object({ staged: StagedId, offset: z.number().int().nonnegative(), data: z.string().max(Math.ceil(LIMITS.fileChunkMax / 3) * 4) }).strict(),
    response: z.object({ received: z.number().int().nonnegative() }),
  },
  /**
   * Drops a staged file that will not be sent (its send was cancelled while it was staging): its bytes leave the
   * profile directory at once. messages.send drops what it was given itself, sent or refused. Unknown ids are ignored.
   */
  'files.unstage': { request: z.object({ staged: StagedId }).strict(), response: empty },
  /** The org policy's rules for files, as this device enforces them. */
  'files.policy': { request: empty, response: FilePolicyView },

  'vault.shred': { request: empty, response: ShredReportView },
  /**
   * The compliance archive: `archive.sync` puts this profile in archive mode (it records every event it receives,
   * ignoring timers), fetches what is pending and reports; `archive.export` writes the signed, hash-chained JSON Lines
   * export to `out` (an absolute path that must not exist yet).
   */
  'archive.sync': { request: empty, response: ArchiveStatusView },
  'archive.export': {
    request: z.object({ out: z.string().min(1).max(4096) }).strict(),
    /** `files`: written into FILE.files beside the export; `unavailable`: named in their records with why (gone from the relay before the archive fetched them). */
    response: z.object({ records: z.number().int().nonnegative(), fingerprint: z.string(), file: z.string(), files: z.number().int().nonnegative(), unavailable: z.number().int().nonnegative() }),
  },
  /** The org policy in force (refreshed from the relay when it can be reached), the org key's fingerprint, and whether this device can sign a new one. */
  'policy.get': { request: empty, response: z.object({ policy: PolicyView, org: z.string().nullable(), canSign: z.boolean() }) },
  /**
   * Org admins, on the device holding the org key (an org without one gets it here): signs the current policy with
   * these changes one version up and publishes it. A field set to null is removed.
   */
  'policy.set': {
    request: z.object({
      maxExpireSeconds: TimerSeconds.nullable().optional(),
      maxBurnSeconds: TimerSeconds.nullable().optional(),
      requireTimer: z.boolean().nullable().optional(),
      defaultExpireSeconds: TimerSeconds.nullable().optional(),
      /** retention on: the archive account (which must be named) receives a copy of everything, and everyone is told */
      retention: z.boolean().nullable().optional(),
      archiveAccount: Username.nullable().optional(),
      /** files (core/engine/files/policy.ts): the switch, the largest size, the allowed types, open in the app only */
      fileSharing: POLICY_FILE_FIELDS.fileSharing.nullable(),
      maxFileBytes: POLICY_FILE_FIELDS.maxFileBytes.nullable(),
      allowedFileTypes: z.array(MediaTypePattern).min(1).max(200).nullable().optional(),
      filePreviewOnly: POLICY_FILE_FIELDS.filePreviewOnly.nullable(),
      /** senders may attach link previews (false: off whatever each user's setting) */
      linkPreviews: POLICY_FILE_FIELDS.linkPreviews.nullable(),
    }).strict(),
    response: PolicyView,
  },
  /**
   * The org key's backup (docs/retention.md): this device must hold the key. Writes `out` (absolute, new) and
   * answers the code that opens it, shown this once: keep the two apart, the code offline.
   */
  'orgKey.export': { request: z.object({ out: z.string().min(1).max(4096) }).strict(), response: z.object({ file: z.string(), code: z.string(), org: z.string() }) },
  /** Org admins: keeps the org key from a backup and its code, if it is the key this device pinned; policy.set then works here. */
  /** Sends the org key this device holds end to end to this account's other devices (a newly linked one); they keep it if it is the org key they pinned. */
  'orgKey.share': { request: empty, response: z.object({ devices: z.number().int().nonnegative() }) },
  'orgKey.import': { request: z.object({ file: z.string().min(1).max(4096), code: z.string().min(1).max(200) }).strict(), response: z.object({ org: z.string() }) },
  'settings.get': { request: empty, response: Settings },
  'settings.set': { request: Settings.partial().strict(), response: Settings },
} as const;

// ---------------------------------------------------------------- events (core -> UI)

export const events = {
  /**
   * The relay connection. `untrusted` is an alarm, not an outage: the server at the relay's address failed the
   * certificate pin (someone may be intercepting), the engine stopped connecting, and every command fails with
   * UNTRUSTED_RELAY. It carries the relay's address and a one-line `message` for a warning banner. `relay` names
   * the relay's address in every state (for "waiting for the relay at …").
   */
  'connection.state': z.object({
    state: z.enum(['connecting', 'online', 'offline', 'untrusted']),
    retryInMs: z.number().optional(),
    relay: z.string().max(LIMITS.linkMax).optional(),
    message: z.string().max(1000).optional(),
  }).refine((e) => e.state !== 'untrusted' || (e.relay !== undefined && e.message !== undefined), 'an untrusted relay event names the relay and says why'),
  'message.received': MessageView,
  'message.updated': MessageView,
  'message.removed': z.object({ id: MessageId, conversation: ConversationId, reason: z.enum(['deleted', 'expired', 'burned']) }),
  'conversation.updated': ConversationView,
  /** A message arrived that could not be decrypted: never silent (the sender's device is asked to resend keys). */
  'message.undecryptable': z.object({ conversation: ConversationId.optional(), sender: Username.optional(), reason: z.string() }),
  'contact.keyChanged': z.object({ username: Username, wasVerified: z.boolean() }),
  'contact.deviceAdded': z.object({ username: Username, deviceId: z.string() }),
  'contact.updated': ContactView,
  /** Someone is typing in a conversation (or stopped); a UI shows it for a few seconds unless renewed. */
  'typing': z.object({ conversation: ConversationId, username: Username, typing: z.boolean() }),
  'settings.changed': Settings,
  /**
   * How far a long command has come; `total` when it is known. `waiting`: it cannot reach the relay and waits for it
   * (said once an outage, with the progress so far); it continues by itself when the relay is back.
   */
  'operation.progress': z.object({ operation: OperationId, done: z.number().int().nonnegative(), total: z.number().int().nonnegative().optional(), waiting: z.literal(true).optional() }),
  /** The shredder ran: after an expiry batch, on its schedule, or asked (vault.shred); what it removed. */
  'vault.shredded': ShredReportView.extend({ trigger: z.enum(['expiry', 'scheduled', 'manual']) }),
  /** A newer org policy is in force on this device. */
  'policy.changed': PolicyView,
  /**
   * A channel's membership log cannot be trusted right now, or can again. `behind`: a member's device vouched (inside
   * a message) for a change the relay does not serve; `fork`: the relay showed members different changes at the same
   * position. Either way sends there are held and no new key goes out until `resolved`. `by` vouched for the head
   * in question, `seq` is its position, `message` one line for a warning.
   */
  'channel.membershipWarning': z.object({
    conversation: ConversationId, state: z.enum(['behind', 'fork', 'resolved']), by: Username, seq: z.number().int().nonnegative(), message: z.string().max(1000),
  }),
} as const;

// ---------------------------------------------------------------- derived types

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandRequest<N extends CommandName> = z.input<Commands[N]['request']>;
export type CommandResponse<N extends CommandName> = z.output<Commands[N]['response']>;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<N extends EventName> = z.output<Events[N]>;
export type MessageViewT = z.output<typeof MessageView>;
export type ConversationViewT = z.output<typeof ConversationView>;
export type SettingsT = z.output<typeof Settings>;
export type ContactViewT = z.output<typeof ContactView>;
export type LinkPreviewViewT = z.output<typeof LinkPreviewView>;
export type FileViewT = z.output<typeof FileView>;

/** The surface every transport exposes (window.wardroom in the UI, the engine in-process for the CLI). */
export interface WardroomApi {
  call<N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandResponse<N>>;
  /**
   * `seq` numbers every event this engine emitted, from 1, without gaps: a client that lost its connection asks
   * for what came after the last number it saw (events.since) instead of re-reading everything.
   */
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>, seq: number) => void): () => void;
}

/**
 * Every code an ApiError can carry, so a UI can branch on each one. test/unit/api/error-codes.test.ts fails if
 * core throws a code missing here, or if a code here is thrown nowhere.
 */
export const ErrorCode = z.enum([
  // the request
  'UNKNOWN_COMMAND', // no command by that name
  'BAD_REQUEST', // the request breaks the contract (a field's shape or size), or the environment is misconfigured
  'INVALID', // well-formed but not acceptable: a damaged code or kit, too many group members, a cancelled link
  'NOT_FOUND', // no such message, channel, user or waiting device; no keys known for a user yet
  'CONFLICT', // a name already taken (a channel)
  'FORBIDDEN', // not this user's to do (not an admin, not the author, not a device that can approve)
  'CANCELLED', // a long command stopped because operations.cancel named it
  // the profile
  'NOT_ENROLLED', // no profile in that directory: join or link first
  'ALREADY_ENROLLED', // the directory already holds a profile
  'LOCKED', // the profile is open in another process, or locked in this one (unlock it first)
  'WRONG_PASSPHRASE',
  'VAULT', // the vault could not be written; nothing was lost: close and reopen the profile
  'VAULT_CORRUPT',
  'VAULT_UNSUPPORTED_VERSION', // the profile was written by a newer Wardroom
  'VAULT_DISK_FULL',
  'VAULT_KEYSTORE_UNAVAILABLE', // the platform keystore could not unwrap the vault key: unlock with the passphrase
  // the relay
  'OFFLINE', // the relay could not be reached, or no device approved a link in time
  'RELAY', // the relay refused a request (its own reason follows), or could not be reached while enrolling
  'DISCONNECTED', // the `wardroom serve` a command went through went away before answering
  'HOSTILE_SERVER', // the relay served something that cannot be true (another user's keys, a bad signature)
  'UNTRUSTED_RELAY', // the server at the relay's address failed the certificate pin: an alarm, not an outage
  // ours
  'INTERNAL', // an engine bug: the details are in the engine's log, never in the message
]);
export type ErrorCode = z.output<typeof ErrorCode>;

/** Errors cross every transport as this shape, so a UI can show `message` and branch on `code`. */
export const ApiErrorShape = z.object({ code: ErrorCode, message: z.string() });
export type ApiErrorT = z.output<typeof ApiErrorShape>;

export class ApiError extends CodedError<ErrorCode> {
  override readonly name = 'ApiError';
}
