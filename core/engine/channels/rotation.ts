// A channel whose membership shrank (or whose member lost a device) must rotate its sender key before our next
// message there, and its metadata key before our next topic change (so who left cannot read what is set after).
// The flags are kv rows, so they survive a restart and commit with whatever caused them; each is cleared by the
// rotation it asks for.
import type { SqlExecutor, Statement } from '../../vault/index.ts';

const rotationKey = (channelId: string) => `e:rotate:${channelId}`;
const metadataRotationKey = (channelId: string) => `e:rotate-meta:${channelId}`;
const flag = new Uint8Array(0);

export const rotationFlagStatement = (channelId: string): Statement => ({
  sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?), (?, ?)', params: [rotationKey(channelId), flag, metadataRotationKey(channelId), flag],
});
export const clearRotationStatement = (channelId: string): Statement => ({ sql: 'DELETE FROM kv WHERE key = ?', params: [rotationKey(channelId)] });
export const clearMetadataRotationStatement = (channelId: string): Statement => ({ sql: 'DELETE FROM kv WHERE key = ?', params: [metadataRotationKey(channelId)] });

export async function rotationDue(sql: SqlExecutor, channelId: string): Promise<boolean> {
  return (await sql.get('SELECT 1 AS x FROM kv WHERE key = ?', [rotationKey(channelId)])) !== undefined;
}

export async function metadataRotationDue(sql: SqlExecutor, channelId: string): Promise<boolean> {
  return (await sql.get('SELECT 1 AS x FROM kv WHERE key = ?', [metadataRotationKey(channelId)])) !== undefined;
}
