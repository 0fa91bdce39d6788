// Released: never edit a migration once it has shipped; change the schema with a new one.
import type { Migration } from '../../vault/index.ts';

export const m004: Migration = {
  version: 4,
  description: 'the client engine: conversations, people, message metadata, reactions, outbox, held frames',
  sql: `
    -- Channels (id 'c:' + relay channel id) and direct messages (id 'd:' + the other person's username).
    CREATE TABLE conversations (
      id           TEXT PRIMARY KEY NOT NULL,
      kind         TEXT NOT NULL CHECK (kind IN ('channel', 'direct', 'group')),
      remote_id    TEXT NOT NULL,
      name         TEXT NOT NULL,
      topic        TEXT,
      role         TEXT,
      -- group direct messages: everyone in it (JSON list of usernames), fixed at creation
      members      TEXT,
      member       INTEGER NOT NULL DEFAULT 1,
      unread       INTEGER NOT NULL DEFAULT 0,
      last_message_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX conversations_by_name ON conversations (kind, name);

    -- People this device has talked to: the relay's account id (checked against the directory), and whether the
    -- user verified their safety number for the account key we hold now.
    CREATE TABLE people (
      username   TEXT PRIMARY KEY NOT NULL,
      account_id TEXT NOT NULL UNIQUE,
      verified   INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;

    ALTER TABLE messages ADD COLUMN sender_device TEXT;
    ALTER TABLE messages ADD COLUMN reply_to TEXT;
    ALTER TABLE messages ADD COLUMN thread_root TEXT;
    ALTER TABLE messages ADD COLUMN mentions TEXT;
    ALTER TABLE messages ADD COLUMN burn_seconds INTEGER;
    ALTER TABLE messages ADD COLUMN outgoing INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'sent';

    CREATE TABLE reactions (
      message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
      username   TEXT NOT NULL,
      emoji      TEXT NOT NULL,
      PRIMARY KEY (message_id, username, emoji)
    ) WITHOUT ROWID;

    -- Frames already encrypted (their ratchet steps committed with them), sent in order until the relay
    -- acknowledges them. Retrying the same bytes under the same id is what makes a resend idempotent.
    CREATE TABLE outbox (
      seq        INTEGER PRIMARY KEY,
      msg_id     BLOB NOT NULL UNIQUE,
      channel    TEXT,
      expires_at INTEGER NOT NULL,
      frame      BLOB NOT NULL,
      message_id TEXT
    );

    -- Channel messages that arrived before their sender key: kept (encrypted) and retried when the key comes.
    CREATE TABLE held_frames (
      id          INTEGER PRIMARY KEY,
      msg_id      BLOB NOT NULL UNIQUE,
      sender_user TEXT NOT NULL,
      sender_device TEXT NOT NULL,
      channel     TEXT NOT NULL,
      body        BLOB NOT NULL,
      received_at INTEGER NOT NULL
    );
  `,
};
