// Every migration of a profile's vault, in order: the vault's own tables, then the engine's, each kept beside the
// queries that use its tables. Every opener of a profile passes this list, so a profile is never opened by code
// that knows only part of its schema.
import { VAULT_MIGRATIONS, type Migration } from '../vault/index.ts';
import { m009 } from './channels/migrations/009-channel-metadata-keys.ts';
import { m012 } from './channels/migrations/012-channel-membership-logs.ts';
import { m006 } from './contacts/migrations/006-display-names.ts';
import { m008 } from './contacts/migrations/008-identity-changes.ts';
import { m005 } from './conversations/migrations/005-mentions.ts';
import { m004 } from './migrations/004-conversations-people-reactions-outbox-held-frames.ts';
import { m007 } from './outbound/migrations/007-pending-sends.ts';
import { m013 } from './messages/migrations/013-thread-replies.ts';
import { m014 } from './messages/migrations/014-burn-on-read-index.ts';
import { m018 } from './messages/migrations/018-thread-mentions.ts';
import { m010 } from './timers/migrations/010-timers.ts';
import { m011 } from './retention/migrations/011-archive-events.ts';
import { m015 } from './files/migrations/015-files.ts';
import { m016 } from './previews/migrations/016-link-previews.ts';
import { m017 } from './retention/migrations/017-archive-files.ts';

export const PROFILE_MIGRATIONS: readonly Migration[] = [...VAULT_MIGRATIONS, m004, m005, m006, m007, m008, m009, m010, m011, m012, m013, m014, m015, m016, m017, m018];
