import type { Migration } from '../../../vault/index.ts';

export const m008: Migration = {
  version: 8,
  description: 'identity changes awaiting the user, and notices shown in a conversation',
  sql: `
    -- 0: the identity key we hold is accepted; 1: it changed and the user has not accepted it yet; 2: it changed while
    -- the contact was verified (accepting it needs a new verification)
    ALTER TABLE people ADD COLUMN identity_changed INTEGER NOT NULL DEFAULT 0;
    -- a local notice in a conversation's history (never sent): 'identity-changed'
    ALTER TABLE messages ADD COLUMN notice TEXT;
  `,
};
