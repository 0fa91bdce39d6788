import type { Migration } from '../../../vault/index.ts';

export const m012: Migration = {
  version: 12,
  description: 'channel membership as the members\' signed logs say, and membership notices in the history',
  sql: `
    -- Where each channel's verified membership log stands (core/protocol/membership.ts): the position and digest of
    -- the last entry this device checked, and whether the first entry made the channel open.
    CREATE TABLE channel_logs (
      channel_id TEXT PRIMARY KEY,
      seq        INTEGER NOT NULL,
      head       BLOB NOT NULL,
      open       INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Who is in each channel, with which role, after that entry: the only member list keys are shared with.
    CREATE TABLE channel_roster (
      channel_id TEXT NOT NULL,
      username   TEXT NOT NULL,
      role       TEXT NOT NULL,
      PRIMARY KEY (channel_id, username)
    ) WITHOUT ROWID;
    -- A notice's details (JSON): for 'membership' notices, what changed and for whom; the sender is who did it.
    ALTER TABLE messages ADD COLUMN notice_detail TEXT;
  `,
};
