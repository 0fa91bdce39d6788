// Device names: chosen on each device (the CLI defaults to the host name) and sent end to end to the account's
// own other devices only, so `devices` shows "work laptop" instead of an id, and the relay never learns either.
import type { SqlExecutor, Statement } from '../../vault/index.ts';
import { cleanDisplayName } from '../contacts/display-names.ts';

const key = (deviceId: string) => `e:device-name:${deviceId}`;

/** A sibling device's name, as it sent it (cleaned like display names: no control or invisible characters). */
export const deviceNameStatement = (deviceId: string, name: string): Statement => ({
  sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [key(deviceId), new TextEncoder().encode(cleanDisplayName(name))],
});

export async function deviceNames(sql: SqlExecutor, deviceIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql.all<{ key: string; value: Uint8Array }>('SELECT key, value FROM kv WHERE key IN (SELECT value FROM json_each(?))', [JSON.stringify(deviceIds.map(key))]);
  return new Map(rows.map((r) => [r.key.slice(key('').length), new TextDecoder().decode(r.value)]));
}
