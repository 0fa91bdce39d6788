import type { Migration } from '../../../vault/index.ts';

export const m006: Migration = {
  version: 6,
  description: 'display names of people',
  // the name a person chose for themselves, as their own devices sent it (end to end)
  sql: 'ALTER TABLE people ADD COLUMN display_name TEXT;',
};
