import type { Migration } from '../../../vault/index.ts';

export const m011: Migration = {
  version: 11,
  description: 'the compliance archive: every event it received, kept whatever the timers say',
  sql: `
    -- One row per event the archive account received (a message, an edit, a deletion, a reaction, an attachment),
    -- appended in arrival order and never updated or deleted: an edit or deletion is its own row, and nothing here
    -- has an expiry (the expiry sweeper reads only messages). Inside the archive's own encrypted vault.
    CREATE TABLE archive_events (
      seq           INTEGER PRIMARY KEY,
      kind          TEXT NOT NULL,
      conversation  TEXT NOT NULL,
      members       TEXT,
      message_id    TEXT NOT NULL,
      target        TEXT,
      sender        TEXT NOT NULL,
      sender_device TEXT NOT NULL,
      sent_at       INTEGER NOT NULL,
      relay_at      INTEGER NOT NULL,
      received_at   INTEGER NOT NULL,
      body          TEXT,
      attachment    TEXT,
      expires_at    INTEGER,
      burn_seconds  INTEGER,
      UNIQUE (sender, message_id)
    );
  `,
};
