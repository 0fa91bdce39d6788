import type { Migration } from '../../../vault/index.ts';

export const m005: Migration = {
  version: 5,
  description: 'unread mentions per conversation',
  sql: 'ALTER TABLE conversations ADD COLUMN mentions INTEGER NOT NULL DEFAULT 0;',
};
