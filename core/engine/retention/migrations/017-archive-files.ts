import type { Migration } from '../../../vault/index.ts';

export const m017: Migration = {
  version: 17,
  description: 'the compliance archive: the files it fetched, and the detail of events that are not text',
  sql: `
    -- One row per file the archive was sent (by the digest of its sealed blob, as the message carries it): what it
    -- needs to fetch the blob before the relay lets it go, and the vault attachment holding its plaintext once it
    -- has. Kept apart from the files table, whose rows go with their message when it expires.
    CREATE TABLE archive_files (
      digest     TEXT PRIMARY KEY,
      blob_id    TEXT NOT NULL,
      file_key   BLOB NOT NULL,
      size       INTEGER NOT NULL,
      attachment TEXT,
      content    TEXT,
      failure    TEXT
    );
    -- What a timer change, a membership change or a retention change said (JSON), for records without text.
    ALTER TABLE archive_events ADD COLUMN detail TEXT;
  `,
};
