import type { Migration } from '../../../vault/index.ts';

export const m015: Migration = {
  version: 15,
  description: 'files in messages, blobs to delete at the relay, uploads that resume',
  sql: `
    -- A file a message carries: where its blob is, the key and digest that open it, what it is. The row goes with
    -- its message (deleted, expired, burned), and its key with it: the blob is noise from then on.
    CREATE TABLE files (
      message     INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      idx         INTEGER NOT NULL,
      blob_id     TEXT NOT NULL,
      file_key    BLOB NOT NULL,
      digest      BLOB NOT NULL,
      size        INTEGER NOT NULL,
      name        TEXT NOT NULL,
      mime        TEXT NOT NULL,
      thumbnail   BLOB,
      -- this account uploaded the blob, so this device may delete it at the relay once the message is gone
      own_blob    INTEGER NOT NULL,
      -- the vault attachment files.open decrypted it into (deleted with the message: ON DELETE CASCADE there)
      attachment  TEXT,
      PRIMARY KEY (message, idx)
    ) WITHOUT ROWID;

    -- Blobs of ours whose message is gone: deleted at the relay as soon as it can be reached.
    CREATE TABLE blob_trash (blob_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
    CREATE TRIGGER files_to_blob_trash AFTER DELETE ON files WHEN old.own_blob = 1 BEGIN
      INSERT OR IGNORE INTO blob_trash (blob_id) VALUES (old.blob_id);
    END;

    -- A send with files whose upload has not finished: the request and each file's key, blob and progress, so an
    -- upload cut by a crash or a kill resumes at the offset the relay acknowledged when the profile opens again.
    CREATE TABLE file_uploads (
      id          TEXT PRIMARY KEY NOT NULL,
      request     TEXT NOT NULL,
      files       TEXT NOT NULL,
      created_at  INTEGER NOT NULL
    );
  `,
};
