import type { Migration } from '../../../vault/index.ts';

export const m010: Migration = {
  version: 10,
  description: 'disappearing messages: conversation default timers, burn-on-read start, shortened by policy',
  sql: `
    ALTER TABLE messages ADD COLUMN clamped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN burn_started_at INTEGER;
    CREATE TABLE conversation_timers (
      conversation_id TEXT PRIMARY KEY,
      expire_seconds  INTEGER,
      burn_seconds    INTEGER,
      set_by          TEXT NOT NULL,
      set_at          INTEGER NOT NULL
    );
  `,
};
