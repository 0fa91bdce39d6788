// Versioned schema. The version lives in SQLite's user_version header field; each migration and its version bump
// commit in one transaction, so a crash mid-migration leaves the previous version intact. Later issues append
// migrations here; an existing migration is never edited once released.
import type { Database } from './sqlite.ts';
import { VaultError } from './errors.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'key-value store, messages, full-text index',
    sql: `
      -- Generic store for other modules (protocol state, settings). Values are opaque to the vault.
      CREATE TABLE kv (
        key   TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        message_id      TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL,
        sender_id       TEXT NOT NULL,
        sent_at         INTEGER NOT NULL,
        received_at     INTEGER NOT NULL,
        body            TEXT NOT NULL
      );
      -- History pages: newest first within one conversation, (sent_at, id) as the cursor.
      CREATE INDEX messages_history ON messages (conversation_id, sent_at, id);

      -- External content: the index keeps no copy of the text (it lives once, in messages) and reads it back
      -- from messages for snippets. secure-delete makes FTS5 rewrite its index pages without a deleted row's terms
      -- at once. Measured (test/integration/vault/forensic.test.ts): with contentless_delete=1 FTS5 only records
      -- tombstones and the deleted terms stay on disk until a full merge, secure-delete or not.
      CREATE VIRTUAL TABLE messages_fts USING fts5 (
        body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
      );
      INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);

      -- An external-content index must be told the exact old text to remove it, hence the 'delete' command.
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
      END;
    `,
  },
  {
    version: 2,
    description: 'attachments with per-file keys; deleting a row queues its file for shredding',
    sql: `
      CREATE TABLE attachments (
        id         TEXT PRIMARY KEY NOT NULL,
        message    INTEGER REFERENCES messages (id) ON DELETE CASCADE,
        file_key   BLOB NOT NULL,
        size       INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX attachments_message ON attachments (message);

      -- Files whose key row is gone but whose ciphertext may still be on disk. Inserted in the same transaction
      -- that destroys the key, removed only after the file was overwritten and unlinked: a crash in between
      -- leaves work for the next shred, never a forgotten file.
      CREATE TABLE attachment_trash (
        id TEXT PRIMARY KEY NOT NULL
      ) WITHOUT ROWID;
      CREATE TRIGGER attachments_to_trash AFTER DELETE ON attachments BEGIN
        INSERT OR IGNORE INTO attachment_trash (id) VALUES (old.id);
      END;
    `,
  },
  {
    version: 3,
    description: 'message edits and expiry (disappearing messages)',
    sql: `
      ALTER TABLE messages ADD COLUMN edited_at INTEGER;
      ALTER TABLE messages ADD COLUMN expires_at INTEGER;
      CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
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
  },
  {
    version: 5,
    description: 'unread mentions per conversation; display names of people',
    sql: `
      ALTER TABLE conversations ADD COLUMN mentions INTEGER NOT NULL DEFAULT 0;
      -- the name a person chose for themselves, as their own devices sent it (end to end)
      ALTER TABLE people ADD COLUMN display_name TEXT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database to `target` (default: latest), one transaction per migration. Returns the versions applied.
 * A database newer than this code is refused rather than touched.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS, target = migrations[migrations.length - 1]!.version): number[] {
  const current = schemaVersion(db);
  const latest = migrations[migrations.length - 1]!.version;
  if (current > latest) throw new VaultError('UNSUPPORTED_VERSION', `vault schema version ${current} is newer than this app understands (${latest})`);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}
