import type { Migration } from '../../../vault/index.ts';

export const m016: Migration = {
  version: 16,
  description: 'link previews on messages',
  // the preview as the message view shows it (JSON): in the message's own row, so deleting, expiring or burning the
  // message removes its preview with it
  sql: 'ALTER TABLE messages ADD COLUMN preview TEXT;',
};
