// The one contract between the engine (core/) and whatever drives it: the CLI today, the Electron shell and the web
// shell next. Every command is a name with a request and a response schema; every event a name with a payload
// schema. Transports route names to the same handlers and check these schemas where data crosses their boundary
// (IPC, WebSocket), so no transport carries business logic and none can smuggle an unchecked shape into core.
//
// The renderer imports this file for types only (`import type`); the lint rule in eslint.config.js enforces that.
import { z } from 'zod';

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
} as const;

export const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, 'usernames are 2-32 characters: a-z, 0-9, dot, dash, underscore');
export const ChannelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'channel names are 1-64 characters: a-z, 0-9, dash, underscore');
export const MessageId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a message id');
export const ConversationId = z.string().min(1).max(128);
export const IsoTime = z.iso.datetime({ offset: true });
/**
 * A message's text: at most LIMITS.messageTextMax characters, with something to see in it (whitespace, control
 * and invisible format characters alone are no message).
 */
export const MessageText = z.string().max(LIMITS.messageTextMax).regex(/[^\s\p{Cc}\p{Cf}]/u, 'the message is empty');
export const Passphrase = z.string().min(LIMITS.passphraseMin, `passphrases have at least ${LIMITS.passphraseMin} characters`).max(LIMITS.passphraseMax);

/** `#channel`, `@username`, or `@ann,ben` for a group direct message: how the CLI and the UI name a conversation. */
export const Target = z.string().max(1100).regex(/^(#[a-z0-9][a-z0-9_-]{0,63}|@[a-z0-9][a-z0-9._-]{1,31}(,[a-z0-9][a-z0-9._-]{1,31}){0,31})$/, 'a target is #channel, @username or @name,name');

/** Timers travel inside the encrypted payload; the engine clamps them to the org policy's caps. */
export const Timers = z.object({
  expiresInSeconds: z.number().int().positive().max(365 * 24 * 3600).optional(),
  burnAfterReadSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
});

export const ConversationKind = z.enum(['channel', 'direct', 'group']);
export const Role = z.enum(['owner', 'admin', 'member']);

export const ConversationView = z.object({
  id: ConversationId,
  kind: ConversationKind,
  name: z.string(),
  topic: z.string().optional(),
  role: Role.optional(),
  members: z.array(Username),
  unread: z.number().int().nonnegative(),
  lastMessageAt: IsoTime.optional(),
});

export const Reaction = z.object({ emoji: z.string().min(1).max(16), users: z.array(Username) });

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
  mentions: z.array(Username),
  reactions: z.array(Reaction),
  expiresAt: IsoTime.optional(),
  burnAfterReadSeconds: z.number().int().positive().optional(),
  status: z.enum(['pending', 'sent', 'delivered', 'read', 'failed']),
  outgoing: z.boolean(),
});

export const ShredReportView = z.object({
  rows: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

export const DeviceView = z.object({
  id: z.string(),
  name: z.string(),
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
  'account.join': {
    request: z.object({ link: z.string().max(LIMITS.linkMax), username: Username, passphrase: Passphrase }).strict(),
    response: z.object({ username: Username, deviceId: z.string(), recoveryKit: z.string() }),
  },
  'account.unlock': { request: z.object({ passphrase: z.string().max(LIMITS.passphraseMax) }).strict(), response: empty },
  'account.lock': { request: empty, response: empty },
  'account.whoami': {
    request: empty,
    response: z.object({ username: Username, accountId: z.string(), deviceId: z.string(), server: z.string(), admin: z.boolean() }),
  },
  'org.invite': { request: z.object({ admin: z.boolean().default(false) }).strict(), response: z.object({ link: z.string() }) },

  'channels.list': { request: empty, response: z.object({ conversations: z.array(ConversationView) }) },
  /** `open` channels are listed to everyone in the org, who may join them; others are invitation only. */
  'channels.create': { request: z.object({ name: ChannelName, topic: z.string().max(LIMITS.topicMax).optional(), open: z.boolean().default(false) }).strict(), response: ConversationView },
  'channels.join': { request: z.object({ channel: ChannelName }).strict(), response: ConversationView },
  'channels.add': { request: z.object({ channel: ChannelName, username: Username }).strict(), response: empty },
  'channels.remove': { request: z.object({ channel: ChannelName, username: Username }).strict(), response: empty },
  'channels.leave': { request: z.object({ channel: ChannelName }).strict(), response: empty },
  'channels.setTopic': { request: z.object({ channel: ChannelName, topic: z.string().max(LIMITS.topicMax) }).strict(), response: empty },
  'channels.setRole': { request: z.object({ channel: ChannelName, username: Username, role: Role }).strict(), response: empty },

  'messages.send': {
    request: z.object({
      target: Target,
      text: MessageText,
      replyTo: MessageId.optional(),
      timers: Timers.optional(),
    }).strict(),
    response: MessageView,
  },
  'messages.list': {
    request: z.object({
      target: Target,
      before: MessageId.optional(),
      limit: z.number().int().positive().max(LIMITS.historyPageMax).default(50),
    }).strict(),
    response: z.object({ messages: z.array(MessageView) }),
  },
  'messages.edit': { request: z.object({ id: MessageId, text: MessageText }).strict(), response: empty },
  'messages.delete': { request: z.object({ id: MessageId }).strict(), response: empty },
  'messages.react': { request: z.object({ id: MessageId, emoji: z.string().min(1).max(16), remove: z.boolean().default(false) }).strict(), response: empty },
  'messages.markRead': { request: z.object({ target: Target, upTo: MessageId }).strict(), response: empty },
  'messages.search': {
    request: z.object({ query: z.string().min(1).max(LIMITS.searchQueryMax), limit: z.number().int().positive().max(200).default(50) }).strict(),
    response: z.object({ messages: z.array(MessageView) }),
  },

  'sync.now': { request: empty, response: z.object({ received: z.number().int().nonnegative(), sent: z.number().int().nonnegative() }) },

  'contacts.safetyNumber': {
    request: z.object({ username: Username }).strict(),
    response: z.object({ digits: z.string().regex(/^(\d{5} ){11}\d{5}$/), qr: z.string(), verified: z.boolean() }),
  },
  'contacts.markVerified': { request: z.object({ username: Username, verified: z.boolean() }).strict(), response: empty },

  'devices.list': { request: empty, response: z.object({ devices: z.array(DeviceView) }) },
  'devices.approve': { request: z.object({ code: z.string().min(1).max(LIMITS.linkMax) }).strict(), response: DeviceView },

  'vault.shred': { request: empty, response: ShredReportView },
  /** Delivery and read receipts in direct messages (both ways: who turns them off neither sends nor asks for them). */
  'settings.receipts': { request: z.object({ enabled: z.boolean() }).strict(), response: z.object({ enabled: z.boolean() }) },
} as const;

// ---------------------------------------------------------------- events (core -> UI)

export const events = {
  'connection.state': z.object({ state: z.enum(['connecting', 'online', 'offline']), retryInMs: z.number().optional() }),
  'message.received': MessageView,
  'message.updated': MessageView,
  'message.removed': z.object({ id: MessageId, conversation: ConversationId, reason: z.enum(['deleted', 'expired', 'burned']) }),
  'conversation.updated': ConversationView,
  /** A message arrived that could not be decrypted: never silent (the sender's device is asked to resend keys). */
  'message.undecryptable': z.object({ conversation: ConversationId.optional(), sender: Username.optional(), reason: z.string() }),
  'contact.keyChanged': z.object({ username: Username, wasVerified: z.boolean() }),
  'contact.deviceAdded': z.object({ username: Username, deviceId: z.string() }),
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

/** The surface every transport exposes (window.wardroom in the UI, the engine in-process for the CLI). */
export interface WardroomApi {
  call<N extends CommandName>(name: N, request: CommandRequest<N>): Promise<CommandResponse<N>>;
  /**
   * `seq` numbers every event this engine emitted, from 1, without gaps: a client that lost its connection asks
   * for what came after the last number it saw (events.since) instead of re-reading everything.
   */
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>, seq: number) => void): () => void;
}

/** Errors cross every transport as this shape, so a UI can show `message` and branch on `code`. */
export const ApiErrorShape = z.object({ code: z.string(), message: z.string() });
export type ApiErrorT = z.output<typeof ApiErrorShape>;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
