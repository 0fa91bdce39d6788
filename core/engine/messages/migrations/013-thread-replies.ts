import type { Migration } from '../../../vault/index.ts';

export const m013: Migration = {
  version: 13,
  description: 'threads by their root',
  // every page of history counts its roots' replies, and a thread panel lists them: both by thread_root
  sql: 'CREATE INDEX messages_by_thread ON messages (thread_root, sent_at) WHERE thread_root IS NOT NULL;',
};
