// Released: never edit a migration once it has shipped; change the schema with a new one.
import type { Migration } from '../schema.ts';

export const m002: Migration = {
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
};
