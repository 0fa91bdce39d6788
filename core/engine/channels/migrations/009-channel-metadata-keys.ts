import type { Migration } from '../../../vault/index.ts';

export const m009: Migration = {
  version: 9,
  description: 'channel metadata keys, and when each channel name and topic this device holds was set',
  sql: `
    -- The keys a channel's name and topic are sealed under (core/protocol/channel-meta.ts), from its members.
    CREATE TABLE channel_keys (
      channel_id TEXT NOT NULL,
      key_id     INTEGER NOT NULL,
      key        BLOB NOT NULL,
      added_at   INTEGER NOT NULL,
      PRIMARY KEY (channel_id, key_id)
    ) WITHOUT ROWID;
    -- The sealed time of the name and topic shown (null: not verified, e.g. an open channel's listed name), so an
    -- older value the relay serves again is refused.
    ALTER TABLE conversations ADD COLUMN name_set_at INTEGER;
    ALTER TABLE conversations ADD COLUMN topic_set_at INTEGER;
  `,
};
