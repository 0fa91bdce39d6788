// Shared helpers for the vault tests: temporary directories, message fixtures, file snapshots, and an
// independent unwrap of the database key that follows docs/storage.md rather than calling core/vault.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ARGON2ID_INTERACTIVE, argon2id, fromBase64Url, openWithPrefixedNonce, utf8 } from '../../core/crypto/sodium.ts';
import type { MessageInput } from '../../core/vault/index.ts';

/** Tests use libsodium's INTERACTIVE Argon2id cost (about 0.1 s), never the production MODERATE one. */
export const TEST_KDF = ARGON2ID_INTERACTIVE;
export const PASSPHRASE = 'correct horse battery staple';

export function tempDir(t: TestContext, prefix = 'wardroom-vault-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function makeMessages(conversationId: string, count: number, options: { start?: number; body?: (i: number) => string } = {}): MessageInput[] {
  const start = options.start ?? 0;
  return Array.from({ length: count }, (_, k) => {
    const i = start + k;
    return { messageId: `${conversationId}-${i}`, conversationId, senderId: `sender-${i % 3}`, sentAt: 1_700_000_000_000 + i * 1000, body: options.body ? options.body(i) : `message ${i} in ${conversationId}` };
  });
}

/** Every file under `dir` (relative path -> SHA-256 of its bytes), to prove an operation changed nothing. */
export function snapshotFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current)) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Unwraps the database key from vault.keys exactly as docs/storage.md tells an auditor to. */
export function unwrapDatabaseKeyIndependently(dir: string, passphrase: string): Uint8Array {
  const file = JSON.parse(readFileSync(path.join(dir, 'vault.keys'), 'utf8'));
  const { algorithm, opsLimit, memLimitBytes, salt } = file.kdf;
  const wrapKey = argon2id(passphrase, fromBase64Url(salt), { opsLimit, memLimitBytes });
  const ad = utf8(`${file.format}/${file.version}/${algorithm}/${opsLimit}/${memLimitBytes}/${salt}`);
  return openWithPrefixedNonce(wrapKey, fromBase64Url(file.passphraseWrap), ad);
}
