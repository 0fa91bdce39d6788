// Public surface of the vault. Other modules import from here, never from the files behind it.
export { VaultError, type VaultErrorCode } from './errors.ts';
export { KDF_LIMITS, type KeystoreWrap } from './keyfile.ts';
export { DEFAULT_CACHE_KIB } from './connection.ts';
export { LATEST_SCHEMA_VERSION, MIGRATIONS as VAULT_MIGRATIONS, type Migration } from './schema.ts';
export {
  changePassphrase,
  createVault,
  destroyVault,
  keystoreProvider,
  openVault,
  setKeystore,
  Vault,
  vaultExists,
  vaultPaths,
  type AttachmentInfo,
  type CreateVaultOptions,
  type OpenVaultOptions,
  type VaultPaths,
} from './vault.ts';
export { insertMessageStatement, deleteMessagesStatement, ftsQuery, LIMITS as MESSAGE_LIMITS, type HistoryCursor, type HistoryPage, type MessageInput, type StoredMessage } from './messages.ts';
export type { ShredOptions, ShredReport } from './shredder.ts';
export type { Row, RunResult, SqlParams, SqlValue, Statement } from './protocol.ts';
export type { SqlExecutor } from './sql-client.ts';
export type { AttachmentSource } from './attachment-file.ts';
