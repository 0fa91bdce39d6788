// A channel whose membership shrank (or whose member lost a device) must rotate its sender key before our next
// message there. The flag is a kv row, so it survives a restart and commits with whatever caused it.
import type { SqlExecutor, Statement } from '../../vault/index.ts';

const rotationKey = (channelId: string) => `e:rotate:${channelId}`;

export const rotationFlagStatement = (channelId: string): Statement => ({ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [rotationKey(channelId), new Uint8Array(0)] });
export const clearRotationStatement = (channelId: string): Statement => ({ sql: 'DELETE FROM kv WHERE key = ?', params: [rotationKey(channelId)] });

export async function rotationDue(sql: SqlExecutor, channelId: string): Promise<boolean> {
  return (await sql.get('SELECT 1 AS x FROM kv WHERE key = ?', [rotationKey(channelId)])) !== undefined;
}
