// Server configuration from three layers, later ones winning: a JSON config file, WARDROOM_* environment
// variables, then command-line flags. One table below drives all three and the --help text, so they cannot drift.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export interface ServerConfig {
  dataDir: string;
  host: string;
  port: number;
  tlsCert: string | null;
  tlsKey: string | null;
  insecureHttp: boolean;
  /** The URL clients use (put into invite links); defaults to the listening address. */
  publicUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  turnUrls: string[];
  turnSecret: string | null;
  turnTtlSeconds: number;
  blobQuotaBytes: number;
  maxBlobBytes: number;
  blobTtlSeconds: number;
  maxEnvelopeTtlSeconds: number;
  /** Cap on the database's size in bytes (0: none). At the cap sends are refused with storage_full; acks still work. */
  maxDatabaseBytes: number;
  /** Bytes an account may have waiting in the queue, unacknowledged (0: no limit). Over it, sends get quota_exceeded. */
  senderQueueQuotaBytes: number;
  /** Bytes of direct envelopes that may wait for one device (0: no limit). */
  deviceQueueQuotaBytes: number;
  /** One-time prekeys a device may store on the relay. */
  maxOneTimePrekeys: number;
  sessionTtlSeconds: number;
  inviteTtlSeconds: number;
}

interface Option {
  key: keyof ServerConfig;
  flag: string;
  type: 'string' | 'boolean';
  help: string;
}

const OPTIONS: Option[] = [
  { key: 'dataDir', flag: 'data', type: 'string', help: 'data directory (database, blobs, TLS key). Default: the user data dir' },
  { key: 'host', flag: 'host', type: 'string', help: 'address to listen on. Default: 127.0.0.1' },
  { key: 'port', flag: 'port', type: 'string', help: 'TCP port (0 = any free port). Default: 8443' },
  { key: 'tlsCert', flag: 'tls-cert', type: 'string', help: 'PEM certificate file; without it a self-signed one is created in the data dir' },
  { key: 'tlsKey', flag: 'tls-key', type: 'string', help: 'PEM private key file for --tls-cert' },
  { key: 'insecureHttp', flag: 'insecure-http', type: 'boolean', help: 'serve plain HTTP (loopback tests only; no TLS, no pin)' },
  { key: 'publicUrl', flag: 'public-url', type: 'string', help: 'URL clients reach this server at, used in invite links' },
  { key: 'logLevel', flag: 'log-level', type: 'string', help: 'fatal|error|warn|info|debug|silent. Default: info' },
  { key: 'turnUrls', flag: 'turn-urls', type: 'string', help: 'comma-separated turn:/turns: URLs of a coturn server' },
  { key: 'turnSecret', flag: 'turn-secret', type: 'string', help: "coturn's static-auth-secret (REST API shared secret)" },
  { key: 'turnTtlSeconds', flag: 'turn-ttl', type: 'string', help: 'lifetime of TURN credentials in seconds. Default: 3600' },
  { key: 'blobQuotaBytes', flag: 'blob-quota', type: 'string', help: 'bytes of blobs each account may hold. Default: 1 GiB' },
  { key: 'maxBlobBytes', flag: 'max-blob', type: 'string', help: 'largest single blob in bytes. Default: 100 MiB' },
  { key: 'blobTtlSeconds', flag: 'blob-ttl', type: 'string', help: 'longest blob lifetime in seconds. Default: 30 days' },
  { key: 'maxEnvelopeTtlSeconds', flag: 'max-envelope-ttl', type: 'string', help: 'longest an envelope waits for its device. Default: 30 days' },
  { key: 'maxDatabaseBytes', flag: 'max-db-size', type: 'string', help: 'cap on the database size in bytes; at the cap sends are refused (storage_full) until devices fetch their queues. Default: 0 (none)' },
  { key: 'senderQueueQuotaBytes', flag: 'sender-quota', type: 'string', help: 'bytes one account may have waiting for devices that have not fetched them; over it its sends are refused (quota_exceeded) until they do. 0: no limit. Default: 256 MiB' },
  { key: 'deviceQueueQuotaBytes', flag: 'device-quota', type: 'string', help: 'bytes of direct messages that may wait for one device; over it sends to it are refused (quota_exceeded). 0: no limit. Default: 256 MiB' },
  { key: 'maxOneTimePrekeys', flag: 'max-prekeys', type: 'string', help: 'one-time prekeys of each kind (X25519, ML-KEM) a device may store. Default: 500' },
  { key: 'sessionTtlSeconds', flag: 'session-ttl', type: 'string', help: 'lifetime of a session token in seconds. Default: 3600' },
  { key: 'inviteTtlSeconds', flag: 'invite-ttl', type: 'string', help: 'lifetime of an invite code in seconds. Default: 7 days' },
];

const DAY = 86_400;

export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'wardroom-server');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'wardroom-server');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'wardroom-server');
}

// Every message below follows the option's name: "--port takes a whole number from 0 to 65535".
const intFrom = (min: number, max: number) => {
  const error = `takes a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const text = z.string({ error: 'takes a value' }).min(1, { error: 'takes a value' });
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;
/** 0 (no limit) or at least 1 MiB, more than the largest frame (256 KiB). */
const queueQuota = z.coerce.number({ error: 'takes a whole number of bytes' }).int({ error: 'takes a whole number of bytes' }).max(2 ** 50)
  .refine((v) => v === 0 || v >= 1024 * 1024, 'takes 0 (no limit) or at least 1048576 (1 MiB)');

const configSchema = z.object({
  dataDir: text,
  host: text,
  port: intFrom(0, 65535),
  tlsCert: text.nullable(),
  tlsKey: text.nullable(),
  insecureHttp: z.union([z.boolean(), z.enum(['1', 'true', '0', 'false']).transform((v) => v === '1' || v === 'true')], { error: 'is true or false (or 1 or 0)' }),
  publicUrl: z.url({ error: 'takes a URL (https://relay.example.org)' }).nullable(),
  logLevel: z.enum(LOG_LEVELS, { error: `is one of ${LOG_LEVELS.join(', ')}` }),
  turnUrls: z.union([z.array(z.string()), z.string().transform((v) => v.split(',').map((u) => u.trim()).filter(Boolean))], { error: 'takes turn: or turns: URLs' })
    .pipe(z.array(z.string().regex(/^turns?:/, 'takes URLs that start with turn: or turns:'))),
  turnSecret: z.string().min(16, 'takes a secret of at least 16 characters').nullable(),
  turnTtlSeconds: intFrom(60, DAY),
  blobQuotaBytes: intFrom(0, 2 ** 50),
  maxBlobBytes: intFrom(1, 2 ** 40),
  blobTtlSeconds: intFrom(60, 365 * DAY),
  maxEnvelopeTtlSeconds: intFrom(60, 365 * DAY),
  maxDatabaseBytes: intFrom(0, 2 ** 50),
  // A quota below the largest frame would refuse some sends for ever, which a client retries for ever.
  senderQueueQuotaBytes: queueQuota,
  deviceQueueQuotaBytes: queueQuota,
  maxOneTimePrekeys: intFrom(10, 100_000),
  sessionTtlSeconds: intFrom(60, DAY),
  inviteTtlSeconds: intFrom(60, 90 * DAY),
}).strict();

export function defaults(): ServerConfig {
  return {
    dataDir: defaultDataDir(), host: '127.0.0.1', port: 8443, tlsCert: null, tlsKey: null, insecureHttp: false,
    publicUrl: null, logLevel: 'info', turnUrls: [], turnSecret: null, turnTtlSeconds: 3600,
    blobQuotaBytes: 1024 ** 3, maxBlobBytes: 100 * 1024 ** 2, blobTtlSeconds: 30 * DAY,
    maxEnvelopeTtlSeconds: 30 * DAY, maxDatabaseBytes: 0, senderQueueQuotaBytes: 256 * 1024 ** 2,
    deviceQueueQuotaBytes: 256 * 1024 ** 2, maxOneTimePrekeys: 500, sessionTtlSeconds: 3600, inviteTtlSeconds: 7 * DAY,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a merged configuration; used by the CLI and by startServer for programmatic options. */
export function resolveConfig(partial: Partial<Record<keyof ServerConfig, unknown>>): ServerConfig {
  const merged = { ...defaults(), ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new ConfigError(`unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ').slice(0, 200)} (wardroom-server --help lists them)`);
    const option = OPTIONS.find((o) => o.key === issue.path[0]);
    throw new ConfigError(`${option ? `--${option.flag}` : issue.path.join('.')} ${issue.message}`);
  }
  const config = result.data as ServerConfig;
  if ((config.tlsCert === null) !== (config.tlsKey === null)) throw new ConfigError('--tls-cert and --tls-key go together');
  if ((config.turnUrls.length > 0) !== (config.turnSecret !== null)) throw new ConfigError('--turn-urls and --turn-secret go together');
  return config;
}

const envName = (key: string) => `WARDROOM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Reads flags (argv without the command), the environment and the config file
 * (--config FILE, WARDROOM_CONFIG, or DATA_DIR/config.json when it exists).
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const flagSpec: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const option of OPTIONS) flagSpec[option.flag] = { type: option.type };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: flagSpec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // Node's own wording runs on about positional arguments after '--': the first sentence is the news.
    throw new ConfigError(`${(error as Error).message.split('. ')[0]!.replace(/\.$/, '')} (wardroom-server --help lists the options)`);
  }
  const fromFlags: Record<string, unknown> = {};
  const fromEnv: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    if (values[option.flag] !== undefined) fromFlags[option.key] = values[option.flag];
    const envValue = env[envName(option.key)];
    if (envValue !== undefined) fromEnv[option.key] = envValue;
  }
  const dataDir = (fromFlags.dataDir ?? fromEnv.dataDir ?? defaultDataDir()) as string;
  const configFile = (values.config as string | undefined) ?? env.WARDROOM_CONFIG ?? path.join(dataDir, 'config.json');
  let fromFile: Record<string, unknown> = {};
  if (values.config !== undefined || env.WARDROOM_CONFIG !== undefined || existsSync(configFile)) {
    try {
      fromFile = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${configFile}: ${(error as Error).message}`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new ConfigError(`config file ${configFile}: must be a JSON object`);
  }
  return resolveConfig({ ...fromFile, ...fromEnv, ...fromFlags });
}

export function helpText(): string {
  const lines = [
    'wardroom-server: the Wardroom relay (one organisation per server)',
    '',
    'Usage:',
    '  wardroom-server [serve] [options]         run the server',
    '  wardroom-server invite [--admin] [options] print a new single-use invite link (--admin: for a new admin);',
    '                                             reads the data directory, with the relay running or stopped',
    '  wardroom-server --help',
    '',
    'Options (flag / environment variable / config file key):',
    '  --config FILE  WARDROOM_CONFIG  JSON config file. Default: DATA_DIR/config.json if present',
  ];
  for (const option of OPTIONS) {
    const flag = option.type === 'boolean' ? `--${option.flag}` : `--${option.flag} VALUE`;
    lines.push(`  ${flag}  ${envName(option.key)}  "${option.key}"`, `      ${option.help}`);
  }
  lines.push('', 'Precedence: flags > environment > config file > defaults. Logs are JSON lines (pino) on stdout.');
  return lines.join('\n');
}
