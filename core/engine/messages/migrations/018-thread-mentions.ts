import type { Migration } from '../../../vault/index.ts';

export const m018: Migration = {
  version: 18,
  description: 'mentions in threads, unread until their thread is read',
  sql: `
    -- A reply in a thread that names the user counts as a mention of its channel until the thread itself is read
    -- (reading the channel's own list does not read its threads): the flag says which replies those are, so a read
    -- of either kind leaves the other's mentions counted. Partial: the few flagged replies are all the index holds.
    ALTER TABLE messages ADD COLUMN thread_mention INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_thread_mentions ON messages (conversation_id, thread_root) WHERE thread_mention = 1;
  `,
};
