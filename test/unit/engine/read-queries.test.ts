// Marking a conversation read runs whenever the user reaches the bottom of it, on the vault's one SQL thread: its
// queries must not walk the conversation's history. Before messages_burn and the history-ordered receipt query,
// both scanned every message of the conversation (about 8 s in a channel of 700,000, bench/ui.bench.ts). The plans
// are checked here; the results are checked against what the old queries returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertMessageStatement, type NewMessage } from '../../../core/engine/history.ts';
import { burnsToStartQuery, receiptTargetsQuery, RECEIPT_TARGETS_MAX } from '../../../core/engine/messages/read.ts';
import { PROFILE_MIGRATIONS } from '../../../core/engine/schema.ts';
import { createVault, type Statement, type Vault } from '../../../core/vault/index.ts';
import { PASSPHRASE, TEST_KDF, tempDir } from '../../support/vault-helpers.ts';

const message = (conversationId: string, i: number, extra: Partial<NewMessage> = {}): NewMessage => ({
  messageId: `${conversationId}-${i}`, conversationId, sender: i % 3 === 0 ? 'me' : 'ann', senderDevice: 'dev', sentAt: 1_000_000 + i * 1000,
  receivedAt: 1_000_000 + i * 1000, body: `message ${i}`, expiresAt: null, burnSeconds: null, replyTo: null, mentions: [], outgoing: i % 3 === 0,
  status: 'sent', ...extra,
});

async function vaultWith(t: Parameters<typeof tempDir>[0], rows: NewMessage[]): Promise<Vault> {
  const vault = await createVault({ dir: tempDir(t), passphrase: PASSPHRASE, kdf: TEST_KDF, migrations: PROFILE_MIGRATIONS });
  t.after(() => vault.lock());
  await vault.transaction(rows.map(insertMessageStatement));
  return vault;
}

const plan = async (vault: Vault, s: Statement) => (await vault.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${s.sql}`, s.params)).map((r) => r.detail);

test('a read receipt\'s targets come from the history index walked back from upTo, with no sort of the whole conversation', async (t) => {
  const rows = [...Array.from({ length: 600 }, (_, i) => message('d:ann', i)), ...Array.from({ length: 50 }, (_, i) => message('d:ben', i))];
  const vault = await vaultWith(t, rows);
  const query = receiptTargetsQuery('d:ann', 'd:ann-500');
  const steps = await plan(vault, query);
  assert.ok(steps.some((s) => /USING INDEX messages_history \(conversation_id=\? AND/.test(s)), `the history index, ranged: ${steps.join('; ')}`);
  assert.ok(!steps.some((s) => s.includes('TEMP B-TREE')), `no sort: ${steps.join('; ')}`);

  // what the old query (id order, the same for messages stored in time order) named
  const old = await vault.all<{ message_id: string }>(
    'SELECT message_id FROM messages WHERE conversation_id = ? AND outgoing = 0 AND id <= (SELECT id FROM messages WHERE message_id = ?) ORDER BY id DESC LIMIT 200', ['d:ann', 'd:ann-500']);
  const targets = await vault.all<{ message_id: string }>(query.sql, query.params);
  assert.equal(targets.length, RECEIPT_TARGETS_MAX);
  assert.deepEqual(targets, old);
  assert.equal(targets[0]!.message_id, 'd:ann-500', 'newest first, upTo itself included');
  assert.ok(targets.every((r) => Number(r.message_id.split('-')[1]) % 3 !== 0), 'only messages others sent');
  const other = receiptTargetsQuery('d:ben', 'd:ann-500');
  assert.deepEqual(await vault.all(other.sql, other.params), [], 'upTo from another conversation names nothing');
});

test('a read finds the burn clocks to start among the messages that have one, through messages_burn', async (t) => {
  const rows = Array.from({ length: 300 }, (_, i) => message('c:x', i, i % 50 === 1 ? { burnSeconds: 30 } : i % 50 === 2 ? { burnSeconds: 60, expiresAt: 1_010_000 } : {}));
  const vault = await vaultWith(t, rows);
  const query = burnsToStartQuery('c:x', rows[200]!.messageId);
  const steps = await plan(vault, query);
  assert.ok(steps.some((s) => s.includes('USING INDEX messages_burn')), `the partial index: ${steps.join('; ')}`);
  const found = (await vault.all<{ message_id: string }>(query.sql, query.params)).map((r) => r.message_id).sort();
  // others' messages with a burn timer, up to the one read, and none of our own
  const expected = rows.slice(0, 201).filter((m) => m.burnSeconds !== null && !m.outgoing).map((m) => m.messageId).sort();
  assert.ok(expected.length > 0);
  assert.deepEqual(found, expected);
  await vault.transaction([{ sql: 'UPDATE messages SET burn_started_at = 1 WHERE message_id = ?', params: [expected[0]!] }]);
  assert.equal((await vault.all(query.sql, query.params)).length, expected.length - 1, 'a started clock is not started again');
});
