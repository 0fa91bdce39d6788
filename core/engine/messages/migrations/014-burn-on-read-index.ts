import type { Migration } from '../../../vault/index.ts';

export const m014: Migration = {
  version: 14,
  description: 'burn-after-read messages by conversation',
  sql: `
    -- Marking a conversation read starts the burn-after-read clock of its messages that have one. Without this the
    -- update walked every message of the conversation (seconds in a channel of 700,000, blocking the vault's one
    -- SQL thread while the user scrolls); with it, only the few with a timer. Partial: other messages cost nothing.
    CREATE INDEX messages_burn ON messages (conversation_id) WHERE burn_seconds IS NOT NULL;
  `,
};
