// Released: never edit a migration once it has shipped; change the schema with a new one.
import type { Migration } from '../schema.ts';

export const m003: Migration = {
  version: 3,
  description: 'message edits and expiry (disappearing messages)',
  sql: `
    ALTER TABLE messages ADD COLUMN edited_at INTEGER;
    ALTER TABLE messages ADD COLUMN expires_at INTEGER;
    CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;
  `,
};
