// startServer(): the relay as a library. The CLI (bin.ts), the tests and later the client engine's tests and
// the embedded local server all start it through here.
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { Backoff, Challenges, Sessions } from './auth.ts';
import { LinkRequests } from './link-requests.ts';
import { resolveConfig } from './config.ts';
import type { ServerConfig } from './config.ts';
import { Context, issueInvite } from './context.ts';
import { openDataDir, StartError } from './data-dir.ts';
import { ApiError, isStorageFull, STORAGE_FULL_MESSAGE } from './errors.ts';
import { accountRoutes } from './routes/accounts.ts';
import { adminRoutes } from './routes/admin.ts';
import { blobPath, blobRoutes } from './routes/blobs.ts';
import { messagingRoutes } from './routes/messaging.ts';
import { openSqliteStore } from './store/sqlite.ts';
import type { ServerStore } from './store/types.ts';
import { loadOrCreateTls } from './tls.ts';
import { MAX_FRAME_BYTES } from '../core/relay/frames.ts';
import { Hub } from './ws/hub.ts';

export const JSON_BODY_LIMIT = 64 * 1024;
const SWEEP_INTERVAL_MS = 10_000;

export interface StartOptions extends Partial<ServerConfig> {
  dataDir: string;
  /** Where JSON log lines go; default stdout. */
  logDestination?: DestinationStream;
  /** WebSocket ping interval in ms (tests shorten it); default 30 s. */
  heartbeatMs?: number;
  /** How long a link request outlives its device's last poll, in ms (tests shorten it); default 15 s. */
  linkIdleMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** base64url SHA-256 of the TLS key's SPKI; null when serving plain HTTP */
  pin: string | null;
  /** the one-time admin invite link, printed on the very first start only */
  firstAdminInvite: string | null;
  config: ServerConfig;
  store: ServerStore;
  hub: Hub;
  log: Logger;
  sweep(now?: number): Promise<void>;
  close(): Promise<void>;
}

/** Log redaction: tokens, signatures, codes and bodies never reach a log line, even through a stray debug call. */
const REDACT = [
  'req.headers.authorization', 'headers.authorization', 'token', 'body', 'signature', 'challenge', 'code', 'inviteCode',
  'secret', 'totp', '*.token', '*.body', '*.signature', '*.secret',
];

/** Why the listener could not start, in the operator's terms (the flags they can change). */
function listenProblem(error: NodeJS.ErrnoException, config: ServerConfig): StartError {
  switch (error.code) {
    case 'EADDRINUSE': return new StartError(`port ${config.port} on ${config.host} is already in use (another relay? --port picks another)`);
    case 'EADDRNOTAVAIL': return new StartError(`--host ${config.host} is not an address of this computer`);
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_FAIL': return new StartError(`--host ${config.host} does not resolve to an address`);
    case 'EACCES': return new StartError(`no permission to listen on port ${config.port} (ports below 1024 need privileges)`);
    default: return new StartError(`cannot listen on ${config.host} port ${config.port}: ${error.code ?? error.message}`);
  }
}

/** The TLS files could not be read or used. */
function tlsProblem(error: unknown): StartError {
  const { code, path: file } = error as NodeJS.ErrnoException;
  if (code && file) return new StartError(`cannot read ${file}: ${code}`);
  return new StartError(`the TLS certificate or key cannot be used: ${(error as Error).message.split('\n')[0]}`);
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { logDestination, heartbeatMs, linkIdleMs, ...configInput } = options;
  const config = resolveConfig(configInput);
  // Until the listener is up, a failure takes away everything this start created (see data-dir.ts).
  const dataDir = openDataDir(config.dataDir);
  const opened: { close(): unknown }[] = [];
  try {
    const running = await start(config, { logDestination, heartbeatMs, linkIdleMs }, opened);
    return {
      ...running,
      async close() {
        await running.close();
        dataDir.release();
      },
    };
  } catch (error) {
    for (const resource of opened.reverse()) await resource.close();
    dataDir.undo();
    throw error;
  }
}

async function start(config: ServerConfig, { logDestination, heartbeatMs, linkIdleMs }: Omit<StartOptions, keyof ServerConfig>, opened: { close(): unknown }[]): Promise<RunningServer> {
  const blobsDir = path.join(config.dataDir, 'blobs');
  mkdirSync(blobsDir, { recursive: true });
  const log = pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } }, logDestination ?? pino.destination(1));

  if (config.insecureHttp) {
    log.warn('PLAIN HTTP (--insecure-http): no TLS, no certificate pin. Only for tests on loopback. Never expose this server.');
  }
  const tls = config.insecureHttp ? null : await loadOrCreateTls(config.dataDir, config.tlsCert, config.tlsKey).catch((error: unknown) => {
    throw tlsProblem(error);
  });
  const store = openSqliteStore(path.join(config.dataDir, 'wardroom-server.db'), {
    maxBytes: config.maxDatabaseBytes, quotas: { senderBytes: config.senderQueueQuotaBytes, deviceBytes: config.deviceQueueQuotaBytes },
  });
  opened.push(store);
  const hub: Hub = new Hub({
    store, log, maxEnvelopeTtlMs: config.maxEnvelopeTtlSeconds * 1000, ...(heartbeatMs ? { heartbeatMs } : {}),
    policyTtlCapMs: (): number | null => {
      const seconds: number | undefined = ctx.policy().maxExpireSeconds;
      return seconds === undefined ? null : seconds * 1000;
    },
  });
  opened.push(hub);
  const sessions = new Sessions(config.sessionTtlSeconds);
  const challenges = new Challenges();
  const linkRequests = new LinkRequests(linkIdleMs ? { idleMs: linkIdleMs } : {});
  const backoff = new Backoff(5);
  const addressBackoff = new Backoff(50);

  let url = '';
  const ctx: Context = new Context({
    config, store, hub, sessions, challenges, linkRequests, backoff, addressBackoff, log, blobsDir, pin: tls?.pin ?? null,
    publicUrl: () => config.publicUrl ?? url,
  });

  const app: FastifyInstance = Fastify({
    loggerInstance: log,
    // Per-request lines would record who talks to whom; errors are still logged by our error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
  }) as unknown as FastifyInstance;

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== null) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    }
    if (isStorageFull(error)) {
      request.log.warn({ route: request.routeOptions.url }, 'storage full: request refused');
      return reply.code(507).send({ error: { code: 'storage_full', message: STORAGE_FULL_MESSAGE } });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // fastify's own refusals: malformed JSON, body too large, wrong content type
      const code = status === 413 ? 'too_large' : status === 415 ? 'bad_content_type' : 'bad_request';
      return reply.code(status).send({ error: { code, message: error.message } });
    }
    request.log.error({ err: { message: error.message, stack: error.stack }, route: request.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal server error' } });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'no_route', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.register(async (scope) => {
    accountRoutes(scope, ctx);
    messagingRoutes(scope, ctx);
    blobRoutes(scope, ctx);
    adminRoutes(scope, ctx);
    scope.get('/v1/ws', {
      websocket: true,
      preValidation: async (request) => {
        const caller = ctx.authenticate(request);
        (request as unknown as { caller: typeof caller }).caller = caller;
      },
    }, (socket, request) => {
      const { account, device } = (request as unknown as { caller: ReturnType<Context['authenticate']> }).caller;
      hub.attach(socket, account.accountId, device.deviceId);
    });
  });

  opened.push(app);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    throw listenProblem(error as NodeJS.ErrnoException, config);
  }
  const port = (app.server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  url = `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`;
  // The invite CLI runs while the server is stopped or running; it reads where clients reach us from here.
  store.setMeta('public_url', config.publicUrl ?? url);
  store.setMeta('pin', tls?.pin ?? '');
  // The first successful start creates the organisation: its only member so far is whoever redeems this
  // admin invite. (Marked only once listening, so a start that fails, e.g. on a busy port, does not use it up.)
  let firstAdminInvite: string | null = null;
  if (store.setMetaOnce('org_created_at', String(Date.now()))) {
    firstAdminInvite = issueInvite(store, {
      admin: true, createdBy: null, ttlSeconds: config.inviteTtlSeconds, server: config.publicUrl ?? url, pin: tls?.pin ?? null, now: Date.now(),
    }).link;
  }

  /** Drops expired envelopes and blobs and forgets stale auth state; runs on a timer, callable from tests. */
  const sweep = async (now = Date.now()) => {
    const dropped = store.sweepExpired(now);
    if (dropped > 0) log.info({ dropped }, 'expired envelopes dropped');
    for (const blobId of store.expiredBlobs(now)) {
      store.deleteBlob(blobId);
      await rm(blobPath(blobsDir, blobId), { force: true });
    }
    sessions.sweep(now);
    challenges.sweep(now);
    linkRequests.sweep(now);
    backoff.sweep(now);
    addressBackoff.sweep(now);
  };
  const sweeper = setInterval(() => {
    sweep().catch((error: unknown) => log.error({ err: (error as Error).message }, 'sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  log.info({ url, pin: tls?.pin ?? null }, 'wardroom server listening');
  let closed = false;
  return {
    url, port, pin: tls?.pin ?? null, firstAdminInvite, config, store, hub, log, sweep,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      hub.close();
      await app.close();
      store.close();
    },
  };
}
