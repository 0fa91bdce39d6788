// The client engine: one enrolled device, its vault, its protocol state and its connection to the relay, behind
// the typed API in core/api. The CLI, the desktop app and the tests all drive it through that API.
//
// This file is the composition root: it opens the pieces, wires each feature module to one shared EngineContext,
// routes relay callbacks to the module that handles them, and closes everything in order. The logic lives in the
// feature folders beside it (inbound/, outbound/, channels/, messages/, recovery/, prekeys/, devices/, contacts/,
// settings/, account/, sync/; docs/architecture.md has the map).
import type { EventName, EventPayload } from '../api/contract.ts';
import { createDispatcher, type Dispatcher, type Handlers } from '../api/dispatch.ts';
import type { AccountIdentity } from '../protocol/identity.ts';
import type { ServerFrame } from '../relay/frames.ts';
import { openVault, type Vault } from '../vault/index.ts';
import { accountHandlers } from './account/handlers.ts';
import { channelHandlers } from './channels/handlers.ts';
import { ChannelKeySharing } from './channels/key-sharing.ts';
import { ChannelDirectory } from './channels/members.ts';
import { ChannelMetadata } from './channels/metadata.ts';
import { DisplayNames } from './contacts/display-names.ts';
import { Files } from './files/files.ts';
import { contactHandlers } from './contacts/handlers.ts';
import { conversationHandlers } from './conversations/handlers.ts';
import type { EngineContext } from './context.ts';
import { ConversationRouter } from './conversations/routing.ts';
import { deviceHandlers } from './devices/handlers.ts';
import { toBase64Url } from '../crypto/sodium.ts';
import { newMessageId } from '../protocol/processor.ts';
import { directConversationId } from './conversations/ref.ts';
import { Directory } from './directory.ts';
import { messageViews, noticeStatement } from './history.ts';
import { EngineError } from './errors.ts';
import type { VaultSettings } from './enrol.ts';
import { Inbound } from './inbound/receive.ts';
import { CommitLane } from './lane/commit-lane.ts';
import { ExpiryScheduler } from './messages/expiry.ts';
import { messageHandlers } from './messages/handlers.ts';
import { emitUpdated } from './messages/views.ts';
import { Outbound } from './outbound/fanout.ts';
import { Operations } from './operations/registry.ts';
import { Outbox, type OutboxRetry } from './outbox.ts';
import { policyHandlers } from './policy/handlers.ts';
import { orgKeyFromOwnDevice, orgKeyHandlers } from './policy/org-key-backup.ts';
import { loadPolicy, OrgPolicy, type StoredPolicy } from './policy/policy.ts';
import { maintainPrekeys } from './prekeys/upload.ts';
import { loadProfile, profileStatement, type Profile } from './profile.ts';
import { pruneSeenStatement, VaultProtocolStore } from './protocol-store.ts';
import { SenderKeyRecovery } from './recovery/sender-keys.ts';
import { SessionResets } from './recovery/session-reset.ts';
import { RelayError, RelayHttp, relayUnreachable, UntrustedRelayError, type TotpCodeProvider } from './relay-http.ts';
import { PROFILE_MIGRATIONS } from './schema.ts';
import { RelaySocket, type ConnectionState } from './relay-socket.ts';
import { settingsHandlers } from './settings/handlers.ts';
import { syncHandlers } from './sync/handlers.ts';
import { TrustedClock } from './timers/clock.ts';
import { timerHandlers } from './timers/handlers.ts';
import { Shredder } from './timers/shredder.ts';
import { Typing } from './typing/typing.ts';
import { Archive } from './retention/archive.ts';
import { archiveHandlers } from './retention/handlers.ts';
import { Retention } from './retention/retention.ts';
import { LinkPreviews } from './previews/link-previews.ts';
import type { PreviewOptions } from './previews/preview.ts';

export interface EngineOptions extends VaultSettings {
  now?: () => number;
  /** Diagnostic lines (never secrets or message text). */
  log?: (line: string) => void;
  heartbeatMs?: number;
  /** How long messages.send waits for the relay's acknowledgement before answering with status "pending". */
  sendWaitMs?: number;
  /** Backoff for resending frames the relay refused for a while (default 2 s doubling to 60 s). */
  outboxRetry?: OutboxRetry;
  /** Asked when the relay wants a TOTP code for a new session (an account with TOTP on); null when there is none. */
  totpCode?: TotpCodeProvider;
  /** How link previews are fetched: tests inject a resolver and allow their loopback server; nothing else sets it. */
  linkPreviews?: PreviewOptions;
}

/** Commands that only read what this device holds: they keep working while the relay is untrusted. */
const LOCAL_READS = new Set<keyof Handlers>(['conversations.list', 'messages.list', 'messages.thread', 'messages.search', 'contacts.list', 'contacts.safetyNumber', 'settings.get', 'events.since', 'files.read']);

/**
 * How long a command that reaches the relay (or queues for it) waits, once per engine, for the first connection
 * attempt to end: it is what checks the pin, so a one-shot command meeting an impostor says so instead of
 * answering "pending". A relay that is down ends the attempt at once; a silent one costs this wait once.
 */
const FIRST_ATTEMPT_WAIT_MS = 3_000;

/** How long deliveries after a connect wait for the org policy to be fetched (a slow relay holds them no longer). */
const POLICY_WAIT_MS = 5_000;

/** How long closing waits for queued frames to reach a relay that is online. */
const CLOSE_FLUSH_MS = 2_000;

/** Longer than two signed-prekey periods: a replayed session start names a signed prekey that is gone by then. */
const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;

interface Opened {
  vault: Vault;
  store: VaultProtocolStore;
  profile: Profile;
  account: AccountIdentity | null;
  http: RelayHttp;
  directory: Directory;
  policy: StoredPolicy;
}

export class Engine {
  readonly api: Dispatcher;
  readonly #ctx: EngineContext;
  readonly #socket: RelaySocket;
  readonly #outbox: Outbox;
  readonly #lane: CommitLane;
  readonly #channels: ChannelDirectory;
  readonly #outbound: Outbound;
  readonly #inbound: Inbound;
  readonly #expiry: ExpiryScheduler;
  readonly #shredder: Shredder;
  readonly #typing: Typing;
  readonly #routing: ConversationRouter;
  readonly #retention: Retention;
  readonly #policy: OrgPolicy;
  #policyFresh: Promise<unknown> = Promise.resolve();
  readonly #files: Files;
  #untrusted: UntrustedRelayError | null = null;
  #closed = false;

  private constructor(opened: Opened, options: EngineOptions) {
    const { vault, store, http, directory } = opened;
    let profile = opened.profile;
    let policy: OrgPolicy | null = null;
    const now = options.now ?? Date.now;
    const log = options.log ?? (() => {});
    const problem = (error: Error) => log(`problem: ${error.name}: ${error.message}`);
    this.#lane = new CommitLane(vault, store, (error) => {
      problem(error);
      void this.#socket.stop().catch(() => {});
    });
    this.#socket = new RelaySocket({
      endpoint: { server: profile.server, pin: profile.pin, ca: profile.ca },
      token: (rejected) => http.token(rejected),
      // what arrives right after a (re)connect is judged by the policy as it is now, not as it was when we left
      onDeliveries: (batch) => this.#policyFresh.then(() => this.#lane.run(() => this.#inbound.receive(batch))),
      onEvent: (event) => void this.#onRelayEvent(event).catch(problem),
      onState: (state, retryInMs, untrusted) => this.#onConnectionState(state, retryInMs, untrusted),
      onProblem: problem,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    this.#outbox = new Outbox(vault, this.#socket, {
      statusChanged: (ids) => void emitUpdated(this.#ctx, ids).catch(problem),
      staleRecipients: async (users) => {
        for (const user of users) await directory.refresh(user).catch(problem);
      },
      stillListed: (to) => to.filter((r) => directory.known(r.user)?.devices.includes(r.device)),
      problem,
    }, options.outboxRetry);
    const emit = <N extends EventName>(name: N, payload: EventPayload<N>) => {
      if (name === 'message.removed') this.#files.removed(); // its files follow it (files/files.ts)
      try {
        this.api.emit(name, payload);
      } catch (error) {
        problem(error as Error);
      }
    };
    this.#ctx = {
      vault, store, http, directory, socket: this.#socket, outbox: this.#outbox, lane: this.#lane, account: opened.account, now, clock: new TrustedClock(now),
      sendWaitMs: options.sendWaitMs ?? 10_000,
      username: profile.username, deviceId: profile.deviceId, self: { userId: profile.username, deviceId: profile.deviceId },
      get profile() {
        return profile;
      },
      async updateProfile(change) {
        const next = { ...profile, ...change };
        await vault.transaction([profileStatement(next)]);
        profile = next;
      },
      get policy() {
        return policy?.current ?? opened.policy.document;
      },
      emit, problem, log,
    };
    const ctx = this.#ctx;
    policy = this.#policy = new OrgPolicy(ctx, opened.policy);
    const metadata = new ChannelMetadata(ctx);
    this.#channels = new ChannelDirectory(ctx, metadata);
    this.#channels.heads.whenInSync(() => void this.#sendHeld().then(() => this.#outbox.flush()).catch(problem));
    const routing = new ConversationRouter(ctx, this.#channels);
    this.#routing = routing;
    this.#outbound = new Outbound(ctx, this.#channels, metadata, { copiesTo: () => this.#retention.copiesTo(), withheldFrom: (u) => this.#retention.withheldFrom(u) });
    const channelKeys = new ChannelKeySharing(ctx, this.#channels, metadata, this.#outbound);
    this.#retention = new Retention(ctx, this.#channels, channelKeys, this.#policy);
    const archive = new Archive(ctx, this.#channels, () => this.#retention.archiving);
    // the archive records what members see as notices too: membership changes and retention turned on or off
    this.#channels.logs.recordWith((channelId, entry) => archive.recordMembership(channelId, entry));
    this.#retention.recordWith((on, version) => archive.recordRetention(on, version));
    const keys = new SenderKeyRecovery(ctx, this.#channels, routing, this.#outbound);
    const resets = new SessionResets(ctx, this.#outbound);
    const names = new DisplayNames(ctx, routing, this.#outbound);
    const shredder = this.#shredder = new Shredder(ctx);
    this.#expiry = new ExpiryScheduler(ctx, (removed) => void shredder.run('expiry', removed).catch(ctx.problem));
    this.#inbound = new Inbound(ctx, { channels: this.#channels, channelKeys, routing, outbound: this.#outbound, keys, resets, names, expiry: this.#expiry, archive,
      orgKeyArrived: orgKeyFromOwnDevice(this.#policy), archiveAccount: () => this.#retention.copiesTo() });
    this.#typing = new Typing(ctx, this.#channels, routing, this.#outbound);
    const operations = new Operations(ctx);
    const messages = messageHandlers(ctx, routing, this.#outbound, this.#expiry, new LinkPreviews(ctx, options.linkPreviews, () => ctx.policy.linkPreviews !== false));
    this.#files = new Files(ctx, routing, this.#outbound, this.#expiry, operations, () => this.#policy.refresh());

    const handlers: Handlers = {
      ...accountHandlers(ctx, this.#retention),
      ...conversationHandlers(ctx, this.#channels, routing, this.#typing, () => this.api.lastSeq(), () => this.#retention.copiesTo()),
      ...channelHandlers(ctx, this.#channels, routing, metadata, channelKeys, this.#retention),
      ...messages,
      ...this.#files.handlers(messages['messages.send']),
      ...syncHandlers(ctx, this.#inbound, operations),
      ...contactHandlers(ctx, names, () => this.#sendHeld().then(() => this.#outbox.flush())),
      ...deviceHandlers(ctx, this.#outbound),
      ...settingsHandlers(ctx),
      ...archiveHandlers(ctx, archive, this.#retention, { refreshPolicy: () => this.#policy.refresh().then(() => {}), syncNow: () => this.api.call('sync.now', {}) }),
      ...policyHandlers(ctx, this.#policy),
      ...orgKeyHandlers(ctx, this.#policy, this.#outbound),
      ...timerHandlers(ctx, routing, this.#outbound, this.#expiry, shredder),
      'events.since': async ({ after }) => ({ ...this.api.since(after), seq: this.api.lastSeq() }),
    };
    // a failed commit stops the engine: every command says so until the profile is reopened; a relay that
    // cannot be reached or that refused is said so in the user's terms
    for (const name of Object.keys(handlers) as (keyof Handlers)[]) {
      const handler = handlers[name] as (request: unknown) => Promise<unknown>;
      (handlers as Record<string, (request: unknown) => Promise<unknown>>)[name] = async (request) => {
        if (this.#lane.failure) throw this.#lane.failure;
        // a relay that failed the pin stops everything that would reach it or change what goes to it; reading what
        // this device holds still works, so the user can see their history beside the alarm
        if (!LOCAL_READS.has(name)) {
          await this.#socket.firstAttempt(FIRST_ATTEMPT_WAIT_MS).catch(() => {});
          if (this.#untrusted) throw this.#untrusted;
        }
        return handler(request).catch((error: unknown) => {
          if (error instanceof UntrustedRelayError) this.#raiseAlarm(error);
          throw relayFailure(error, profile.server, this.#untrusted);
        });
      };
    }
    this.api = createDispatcher(handlers, (command, error) => log(`command ${command} failed: ${(error as Error)?.stack ?? String(error)}`));
    // a new org policy may turn retention on or off: it is announced, and the archive follows it in our channels
    this.api.on('policy.changed', () => void this.#retention.policyChanged().catch(problem));
  }

  /** Opens an enrolled profile and connects. A wrong passphrase fails here with the vault's own error. */
  static async open(options: EngineOptions): Promise<Engine> {
    const vault = await openVault({ dir: options.profileDir, passphrase: options.passphrase, migrations: PROFILE_MIGRATIONS });
    return Engine.start(vault, options);
  }

  /** Takes over a vault that enrolment just created. */
  static async start(vault: Vault, options: EngineOptions): Promise<Engine> {
    try {
      const { profile, account } = await loadProfile(vault);
      await vault.transaction([pruneSeenStatement((options.now ?? Date.now)() - SEEN_RETENTION_MS)]);
      const store = await VaultProtocolStore.load(vault);
      const http = new RelayHttp({ server: profile.server, pin: profile.pin, ca: profile.ca }, options.totpCode ? { totpCode: options.totpCode } : {});
      http.setDevice(profile.deviceId, store.device().signing.secretKey);
      let engine: Engine | null = null;
      const directory = await Directory.load(http, vault, store, {
        keyChanged: (username, wasVerified) => {
          if (engine) void engine.#identityChanged(username, wasVerified).catch((error: Error) => engine!.#ctx.problem(error));
        },
        deviceAdded: (username, deviceId) => {
          if (engine) engine.#ctx.emit('contact.deviceAdded', { username, deviceId });
        },
        devicesRemoved: () => {
          if (engine) void engine.#channels.rotateAll().catch((error: Error) => engine!.#ctx.problem(error));
        },
      });
      const policy = await loadPolicy(vault, profile.orgKey);
      engine = new Engine({ vault, store, profile, account, http, directory, policy }, options);
      await engine.#retention.load();
      engine.#begin();
      return engine;
    } catch (error) {
      await vault.lock().catch(() => {});
      throw error;
    }
  }

  #begin(): void {
    const problem = (error: Error) => this.#ctx.problem(error);
    // member lists are needed to accept the first channel message: fetch them while the socket connects
    void this.#channels.warm().catch(problem);
    void this.#files.start().catch(problem);
    this.#socket.start();
    void this.#expiry.sweep().then(async (removed) => {
      if (removed) await this.#shredder.run('expiry', removed);
    }).catch(problem);
    this.#shredder.start();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // what is waiting gets a moment to reach a relay that is there (a one-shot command closes right after a send)
    if (this.#socket.state === 'online') {
      await Promise.race([this.#sendHeld().then(() => this.#outbox.flush()), new Promise((resolve) => setTimeout(resolve, CLOSE_FLUSH_MS).unref())]).catch(() => {});
    }
    this.#expiry.stop();
    await this.#shredder.stop();
    await this.#files.close().catch(() => {});
    this.#outbox.stop();
    await this.#socket.stop();
    await this.#lane.run(async () => {});
    await this.#inbound.close();
    await this.#ctx.vault.lock();
  }

  get deviceId(): string {
    return this.#ctx.deviceId;
  }

  get username(): string {
    return this.#ctx.username;
  }

  #onConnectionState(state: ConnectionState, retryInMs: number | undefined, untrusted: UntrustedRelayError | undefined): void {
    const problem = (error: Error) => this.#ctx.problem(error);
    if (untrusted) return this.#raiseAlarm(untrusted);
    // the alarm stands until the user acts on it: no later state of the socket ("offline" as it stops) lifts it
    if (this.#untrusted) return;
    this.#ctx.emit('connection.state', { state, relay: this.#ctx.profile.server, ...(retryInMs !== undefined ? { retryInMs } : {}) });
    if (state !== 'online') return;
    this.#outbound.online();
    this.#files.online();
    void this.#sendHeld().then(() => this.#outbox.flush()).catch(problem);
    void this.#lane.run(() => this.#maintainPrekeys()).catch(problem);
    this.#policyFresh = Promise.race([this.#policy.refresh().catch(problem), new Promise((resolve) => setTimeout(resolve, POLICY_WAIT_MS).unref())]);
    // the policy in force after the refresh (a refused one leaves the kept one): the archive follows it in our channels
    void this.#policy.refresh().catch(() => {}).then(() => this.#retention.policyChanged()).catch(problem);
  }

  /**
   * A server at the relay's address failed the pin, met by the socket or by any request: an alarm, raised once.
   * Every command that would reach the relay fails with it from now on (the socket stops for good on its own).
   */
  #raiseAlarm(untrusted: UntrustedRelayError): void {
    if (this.#untrusted) return;
    this.#untrusted = untrusted;
    this.#ctx.emit('connection.state', { state: 'untrusted', relay: untrusted.relay, message: untrusted.message });
  }

  /**
   * A contact's identity key changed: said in their conversation, in place, and as an event. Sends to them are held
   * until the user accepts the new key (outbound/fanout.ts).
   */
  async #identityChanged(username: string, wasVerified: boolean): Promise<void> {
    const ctx = this.#ctx;
    const conversation = directConversationId(username);
    const id = toBase64Url(newMessageId());
    await ctx.vault.transaction([noticeStatement(conversation, id, username, 'identity-changed', ctx.now())]);
    for (const view of await messageViews(ctx.vault, [id])) ctx.emit('message.received', view);
    ctx.emit('contact.keyChanged', { username, wasVerified });
  }

  /** Prekeys on the relay topped up from the stock it reports (and rotated when due). In the lane. */
  async #maintainPrekeys(): Promise<void> {
    const ctx = this.#ctx;
    await maintainPrekeys({ store: ctx.store, vault: ctx.vault, http: ctx.http, now: ctx.now(), settled: () => ctx.lane.settled() });
  }

  /** Sends held while the relay was unreachable go out now (in the lane), before the outbox is flushed. */
  #sendHeld(): Promise<number> {
    return this.#lane.run(() => this.#outbound.sendHeld((conversation) => this.#routing.targetOfStored(conversation)));
  }

  async #onRelayEvent(event: Extract<ServerFrame, { t: 'event' }>): Promise<void> {
    const { directory } = this.#ctx;
    if (event.kind === 'device_list') {
      await this.#lane.run(async () => directory.refresh(await directory.usernameOf(event.account)));
    } else if (event.kind === 'prekeys_low') {
      await this.#lane.run(() => this.#maintainPrekeys());
    } else if (event.kind === 'signal') {
      await this.#typing.receive(event.from, event.body);
    } else if (event.kind === 'policy') {
      await this.#policy.refresh();
    }
  }
}

/**
 * A relay failure a command met, in the user's terms: unreachable, or refused with the relay's own reason. Once the
 * relay failed the pin, that is the reason for any of them (a socket stopped by the alarm is not "unreachable").
 */
function relayFailure(error: unknown, server: string, untrusted: UntrustedRelayError | null): unknown {
  if (untrusted && (relayUnreachable(error) || error instanceof RelayError)) return untrusted;
  if (relayUnreachable(error)) return new EngineError('OFFLINE', `the relay at ${hostOf(server)} cannot be reached; try again when it is back`);
  if (error instanceof RelayError) return new EngineError('RELAY', `the relay refused: ${printable(error.message)}`);
  return error;
}

const hostOf = (server: string) => {
  try {
    return new URL(server).host;
  } catch {
    return 'its address';
  }
};

/** Text from the relay is the server's to choose: one printable line. */
const printable = (text: string) => text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').slice(0, 200);
