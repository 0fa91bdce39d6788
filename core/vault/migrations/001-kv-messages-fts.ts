// Released: never edit a migration once it has shipped; change the schema with a new one.
import type { Migration } from '../schema.ts';

export const m001: Migration = {
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
};
