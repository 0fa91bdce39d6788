import type { Migration } from '../../../vault/index.ts';

export const m007: Migration = {
  version: 7,
  description: 'sends that wait for the relay before they can be encrypted',
  sql: `
    -- What the user sent while this device could not encrypt it (the relay was needed for a device list, a prekey
    -- or a member list and could not be reached). The payload is stored whole, with its id and time, inside the
    -- encrypted vault, committed with the local message row; it is encrypted and moved to the outbox, and deleted in
    -- that same transaction, once the relay is back. So a send is never lost and never goes out twice.
    CREATE TABLE pending_sends (
      seq          INTEGER PRIMARY KEY,
      conversation TEXT NOT NULL,
      payload      BLOB NOT NULL,
      message_id   TEXT,
      created_at   INTEGER NOT NULL
    );
  `,
};
