import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVault, ftsQuery, VaultError, type Vault, type VaultErrorCode } from '../../../core/vault/index.ts';
import { makeMessages, PASSPHRASE, tempDir, TEST_KDF } from '../../support/vault-helpers.ts';
import type { TestContext } from 'node:test';
import fc from 'fast-check';

const isVaultError = (code: VaultErrorCode) => (error: unknown) => error instanceof VaultError && error.code === code;

async function newVault(t: TestContext): Promise<Vault> {
  const vault = await createVault({ dir: tempDir(t), passphrase: PASSPHRASE, kdf: TEST_KDF });
  t.after(() => vault.lock());
  return vault;
}

test('history pages walk a conversation newest first, completely and without overlap', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages(makeMessages('a', 237));
  await vault.insertMessages(makeMessages('b', 50));
  // Two messages with the same timestamp: the row id breaks the tie, so the cursor neither skips nor repeats.
  await vault.insertMessages([
    { messageId: 'tie-1', conversationId: 'a', senderId: 's', sentAt: 1_700_000_000_000 + 100_500, body: 'tie one' },
    { messageId: 'tie-2', conversationId: 'a', senderId: 's', sentAt: 1_700_000_000_000 + 100_500, body: 'tie two' },
  ]);
  const seen: string[] = [];
  let page = await vault.historyPage('a', { limit: 50 });
  let pages = 1;
  while (page.next) {
    seen.push(...page.messages.map((m) => m.messageId));
    page = await vault.historyPage('a', { limit: 50, before: page.next });
    pages++;
  }
  seen.push(...page.messages.map((m) => m.messageId));
  assert.equal(pages, 5);
  assert.equal(seen.length, 239);
  assert.equal(new Set(seen).size, 239);
  assert.equal(seen[0], 'a-236');
  assert.equal(seen[seen.length - 1], 'a-0');
  assert.ok(seen.indexOf('tie-2') < seen.indexOf('tie-1'));
  assert.ok(seen.every((id) => id.startsWith('a-') || id.startsWith('tie-')));
  const first = (await vault.historyPage('a', { limit: 1 })).messages[0]!;
  assert.deepEqual(Object.keys(first).sort(), ['body', 'conversationId', 'editedAt', 'expiresAt', 'id', 'messageId', 'receivedAt', 'senderId', 'sentAt']);
});

test('a batch is atomic: one duplicate message id rejects the whole batch with CONSTRAINT', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages(makeMessages('a', 3));
  const batch = [...makeMessages('a', 3, { start: 3 }), makeMessages('a', 1)[0]!];
  await assert.rejects(vault.insertMessages(batch), isVaultError('CONSTRAINT'));
  assert.equal((await vault.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 3);
});

test('transaction(): statements from different modules commit together or not at all', async (t) => {
  const vault = await newVault(t);
  const results = await vault.transaction([
    { sql: 'INSERT INTO kv (key, value) VALUES (?, ?)', params: ['ratchet:alice', new Uint8Array([1, 2, 3])] },
    { sql: 'INSERT INTO messages (message_id, conversation_id, sender_id, sent_at, received_at, body) VALUES (?, ?, ?, ?, ?, ?)', params: ['m1', 'c', 's', 1, 1, 'hi'] },
  ]);
  assert.equal(results.length, 2);
  assert.deepEqual((await vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', ['ratchet:alice']))?.value, new Uint8Array([1, 2, 3]));
  await assert.rejects(vault.transaction([
    { sql: 'UPDATE kv SET value = ? WHERE key = ?', params: [new Uint8Array([9]), 'ratchet:alice'] },
    { sql: 'INSERT INTO no_such_table VALUES (1)' },
  ]), isVaultError('SQL'));
  assert.deepEqual((await vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', ['ratchet:alice']))?.value, new Uint8Array([1, 2, 3]));
  await assert.rejects(vault.run('INSERT INTO kv (key, value) VALUES (?, ?)', { key: 'named' } as never), isVaultError('SQL'));
  await vault.run('INSERT INTO kv (key, value) VALUES (@key, @value)', { key: 'named', value: 'v' });
  assert.equal((await vault.get<{ value: string }>('SELECT value FROM kv WHERE key = ?', ['named']))?.value, 'v');
});

test('full-text search finds words (also inside URLs and file names), newest first, scoped and limited', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages([
    { messageId: '1', conversationId: 'a', senderId: 's', sentAt: 1, body: 'Quarterly report attached: report-Q3-final.pdf' },
    { messageId: '2', conversationId: 'a', senderId: 's', sentAt: 2, body: 'see https://intranet.example.com/reports/quarterly' },
    { messageId: '3', conversationId: 'b', senderId: 's', sentAt: 3, body: 'Café meeting about the QUARTERLY numbers' },
    { messageId: '4', conversationId: 'b', senderId: 's', sentAt: 4, body: 'unrelated' },
  ]);
  assert.deepEqual((await vault.searchMessages('quarterly')).map((m) => m.messageId), ['3', '2', '1']);
  assert.deepEqual((await vault.searchMessages('quarterly', { conversationId: 'a' })).map((m) => m.messageId), ['2', '1']);
  assert.deepEqual((await vault.searchMessages('quarterly', { limit: 1 })).map((m) => m.messageId), ['3']);
  assert.deepEqual((await vault.searchMessages('intranet')).map((m) => m.messageId), ['2']);
  assert.deepEqual((await vault.searchMessages('Q3 final')).map((m) => m.messageId), ['1']);
  assert.deepEqual((await vault.searchMessages('cafe')).map((m) => m.messageId), ['3'], 'diacritics folded');
  assert.deepEqual((await vault.searchMessages('quart')).map((m) => m.messageId), ['3', '2', '1'], 'last term is a prefix');
  assert.deepEqual(await vault.searchMessages('   '), []);
});

test('search text is never FTS5 syntax: operators and quotes are literal and cannot cause errors', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages([{ messageId: '1', conversationId: 'a', senderId: 's', sentAt: 1, body: 'alpha OR beta NEAR gamma' }]);
  for (const text of ['"', 'alpha"', 'NOT', 'a OR', '(alpha', 'col:alpha', '*', '^alpha', 'alpha AND', '-', 'NEAR(', '\u0000']) {
    await vault.searchMessages(text); // must not throw
  }
  assert.deepEqual((await vault.searchMessages('alpha OR')).map((m) => m.messageId), ['1']);
  assert.equal(ftsQuery('a "b" c'), '"a" "b" "c"*');
  assert.throws(() => ftsQuery('x'.repeat(1001)), isVaultError('INVALID_ARGUMENT'));
});

test('deleteMessages removes rows and their search entries at once; unknown ids are ignored', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages(makeMessages('a', 5, { body: (i) => `findme number${i}` }));
  assert.equal(await vault.deleteMessages(['a-1', 'a-3', 'nope']), 2);
  assert.deepEqual((await vault.searchMessages('findme')).map((m) => m.messageId), ['a-4', 'a-2', 'a-0']);
  assert.equal(await vault.getMessage('a-1'), undefined);
  assert.equal((await vault.getMessage('a-2'))?.body, 'findme number2');
  await vault.run(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)`);
});

test('editing a body re-indexes it for search', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages([{ messageId: 'e', conversationId: 'a', senderId: 's', sentAt: 1, body: 'original wording' }]);
  await vault.run('UPDATE messages SET body = ?, edited_at = ? WHERE message_id = ?', ['corrected wording', 2, 'e']);
  assert.deepEqual(await vault.searchMessages('original'), []);
  assert.deepEqual((await vault.searchMessages('corrected')).map((m) => m.editedAt), [2]);
});

test('expired messages are removed by the shredder, not before', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages([
    { messageId: 'short', conversationId: 'a', senderId: 's', sentAt: 1, body: 'ephemeral one', expiresAt: 1000 },
    { messageId: 'long', conversationId: 'a', senderId: 's', sentAt: 2, body: 'ephemeral two', expiresAt: 5000 },
    { messageId: 'forever', conversationId: 'a', senderId: 's', sentAt: 3, body: 'ephemeral never' },
  ]);
  assert.equal((await vault.shred({ now: 999 })).messagesRemoved, 0);
  assert.equal((await vault.shred({ now: 1000 })).messagesRemoved, 1);
  assert.deepEqual((await vault.searchMessages('ephemeral')).map((m) => m.messageId), ['forever', 'long']);
  assert.equal((await vault.shred({ now: 10_000 })).messagesRemoved, 1);
  assert.deepEqual((await vault.historyPage('a')).messages.map((m) => m.messageId), ['forever']);
});

test('invalid input is rejected with INVALID_ARGUMENT before touching the database', async (t) => {
  const vault = await newVault(t);
  const good = makeMessages('a', 1)[0]!;
  for (const bad of [{ ...good, messageId: '' }, { ...good, body: 'x'.repeat(100_001) }, { ...good, sentAt: -1 }, { ...good, sentAt: 1.5 }, { ...good, extra: 1 }]) {
    await assert.rejects(vault.insertMessages([bad as never]), isVaultError('INVALID_ARGUMENT'));
  }
  await assert.rejects(vault.historyPage('a', { limit: 0 }), isVaultError('INVALID_ARGUMENT'));
  await assert.rejects(vault.historyPage('a', { limit: 501 }), isVaultError('INVALID_ARGUMENT'));
  await assert.rejects(vault.historyPage('', {}), isVaultError('INVALID_ARGUMENT'));
  await assert.rejects(vault.historyPage('a', { before: { sentAt: 1 } as never }), isVaultError('INVALID_ARGUMENT'));
  assert.equal((await vault.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n, 0);
});

test('fuzz: any search text up to the limit returns results or nothing, never an error', async (t) => {
  const vault = await newVault(t);
  await vault.insertMessages(makeMessages('a', 20, { body: (i) => `word${i} "quoted" (paren) col:on NEAR/2 ^caret -minus *star` }));
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 60, unit: 'binary' }), async (text) => {
      const results = await vault.searchMessages(text);
      assert.ok(Array.isArray(results));
    }),
    { seed: 7, numRuns: 300 },
  );
});
