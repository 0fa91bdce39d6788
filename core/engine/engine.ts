// The client engine: one enrolled device, its vault, its protocol state and its connection to the relay, behind
// the typed API in core/api. The CLI, the desktop app and the tests all drive it through that API.
//
// Every operation that reads protocol state and commits writes runs in one serial lane (Serial): inbound batches,
// sends, rotations. Inside it: compute (decrypt or encrypt, against a StagedProtocolStore), commit the protocol
// writes and the messages in ONE vault transaction, then apply the writes to memory, then acknowledge or send.
import { fromBase64Url, toBase64Url, utf8 } from '../crypto/sodium.ts';
import type { EventName, EventPayload, MessageViewT } from '../api/contract.ts';
import { createDispatcher, type Dispatcher, type Handlers } from '../api/dispatch.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { certifyDevice, signDeviceList, type AccountIdentity } from '../protocol/identity.ts';
import { addOneTimePrekeys, rotateSignedPrekey } from '../protocol/prekeys.ts';
import { channelSignedBytes, type SignatureCheck } from '../protocol/sender-keys.ts';
import {
  answerSenderKeyRequest, decryptEnvelope, decryptFrame, encryptChannelMessage, encryptToDevices, fanOutTargets, newMessageId, prepareChannelKey,
  requestSenderKey, resetSession, type NewSession, type OutgoingFrame as ProtocolFrame,
} from '../protocol/processor.ts';
import { deviceIdFor } from '../protocol/ids.ts';
import { safetyNumber } from '../protocol/safety-number.ts';
import { StagedProtocolStore, type ProtocolWrite } from '../protocol/store.ts';
import { decodeEnvelope, type DeviceAddress, type Envelope, type Payload, type PayloadContent } from '../protocol/wire.ts';
import { decodeNotice, MAX_RECIPIENTS, type ServerFrame, type ServerNotice } from '../relay/frames.ts';
import { ftsQuery, openVault, type Statement, type Vault } from '../vault/index.ts';
import { Directory, encodeSignedPrekey } from './directory.ts';
import { EngineError } from './errors.ts';
import { signedBlob, parseLinkCode, type VaultSettings } from './enrol.ts';
import {
  channelConversationId, conversationRows, conversationView, directConversationId, ensureDirectStatement, ensureGroupStatement, groupConversationId, historyViews,
  insertMessageStatements, messageViews, searchViews, statusStatement, upsertConversationStatement, editStatement, deleteStatement, reactionStatement,
} from './history.ts';
import { activityStatements, applyPayload, mentionsIn, type Effect } from './inbound.ts';
import { Outbox, outboxStatement, type OutboxRetry, type OutgoingFrame, type Recipient } from './outbox.ts';
import { loadProfile, profileStatement, signedPrekeyUploadedStatement, uploadedSignedPrekey, type Profile } from './profile.ts';
import { protocolStatements, pruneSeenStatement, VaultProtocolStore } from './protocol-store.ts';
import { RelayError, RelayHttp } from './relay-http.ts';
import { RelaySocket, type Delivery } from './relay-socket.ts';
import { Serial } from './serial.ts';
import { precheckedSignatures, SignatureVerifier, type SignatureJob } from './signature-verifier.ts';

export interface EngineOptions extends VaultSettings {
  now?: () => number;
  /** Diagnostic lines (never secrets or message text). */
  log?: (line: string) => void;
  heartbeatMs?: number;
  /** How long messages.send waits for the relay's acknowledgement before answering with status "pending". */
  sendWaitMs?: number;
  /** Backoff for resending frames the relay refused for a while (default 2 s doubling to 60 s). */
  outboxRetry?: OutboxRetry;
}

/** Envelopes wait on the relay at most this long unless the message's own timer is shorter. */
const DEFAULT_ENVELOPE_TTL_MS = 30 * 24 * 3600 * 1000;
const HELD_FRAMES_MAX = 5000;
const SESSION_RESET_INTERVAL_MS = 60_000;
/** Batches at least this big have part of their channel signatures checked on the verifier thread. */
const PRECHECK_MIN_BATCH = 32;
/**
 * The first part of a batch this thread verifies itself while the worker checks the rest. With native libsodium a
 * check costs about 0.08 ms there against about 0.3 ms for everything a message needs here, which balances near 0.2.
 * Measured on the 10,000-message backlog (2 cores shared with the relay and the vault worker): shares 0.25, 0.4 and
 * 0.55, and no worker at all, all land within the run-to-run noise (3.4-4.0 s); more cores would favour the worker.
 */
const PRECHECK_LOCAL_SHARE = 0.25;
const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 3600 * 1000;
/** Longer than two signed-prekey periods: a replayed session start names a signed prekey that is gone by then. */
const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Bytes of ciphertext per relay frame (its limit is 256 KiB, with CBOR framing around the bodies). */
const FRAME_BUDGET_BYTES = 192 * 1024;

interface ChannelInfo {
  channelId: string;
  name: string;
  members: Map<string, string>; // accountId -> role
}

export class Engine {
  readonly api: Dispatcher;
  readonly #vault: Vault;
  readonly #store: VaultProtocolStore;
  #profile: Profile;
  readonly #account: AccountIdentity | null;
  readonly #http: RelayHttp;
  readonly #socket: RelaySocket;
  readonly #directory: Directory;
  readonly #outbox: Outbox;
  readonly #serial = new Serial();
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #sendWaitMs: number;
  readonly #channels = new Map<string, ChannelInfo>();
  #received = 0;
  /** Acknowledgements of committed batches still waiting for the relay's reply (sync.now waits for them). */
  readonly #acks = new Set<Promise<void>>();
  /** Post-commit work of inbound batches (acknowledge, events, follow-ups), in batch order. */
  readonly #post = new Serial();
  readonly #verifier = new SignatureVerifier();
  #lastCommit: Promise<void> = Promise.resolve();
  #failure: EngineError | null = null;
  /** Accounts whose device list was fetched since the socket last came online (see #currentDevices). */
  readonly #listsFresh = new Set<string>();
  #closed = false;

  private constructor(vault: Vault, store: VaultProtocolStore, profile: Profile, account: AccountIdentity | null, http: RelayHttp, directory: Directory, options: EngineOptions) {
    this.#vault = vault;
    this.#store = store;
    this.#profile = profile;
    this.#account = account;
    this.#http = http;
    this.#directory = directory;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#sendWaitMs = options.sendWaitMs ?? 10_000;
    this.#socket = new RelaySocket({
      endpoint: { server: profile.server, pin: profile.pin, ca: profile.ca },
      token: (rejected) => http.token(rejected),
      onDeliveries: (batch) => this.#serial.run(() => this.#receive(batch)),
      onEvent: (event) => void this.#onRelayEvent(event).catch((error: Error) => this.#problem(error)),
      onState: (state, retryInMs) => {
        this.#emit('connection.state', { state, ...(retryInMs !== undefined ? { retryInMs } : {}) });
        if (state === 'online') this.#listsFresh.clear();
        if (state === 'online') void this.#outbox.flush().catch((error: Error) => this.#problem(error));
        if (state === 'online') void this.#serial.run(() => this.#maintainSignedPrekey()).catch((error: Error) => this.#problem(error));
      },
      onProblem: (error) => this.#problem(error),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    this.#outbox = new Outbox(vault, this.#socket, {
      statusChanged: (ids) => void this.#emitUpdated(ids),
      staleRecipients: async (users) => {
        for (const user of users) await this.#directory.refresh(user).catch((error: Error) => this.#problem(error));
      },
      stillListed: (to) => to.filter((r) => this.#directory.known(r.user)?.devices.includes(r.device)),
      problem: (error) => this.#problem(error),
    }, options.outboxRetry);
    const handlers = this.#handlers();
    for (const name of Object.keys(handlers) as (keyof Handlers)[]) {
      const handler = handlers[name] as (request: unknown) => Promise<unknown>;
      (handlers as Record<string, (request: unknown) => Promise<unknown>>)[name] = async (request) => {
        if (this.#failure) throw this.#failure;
        return handler(request);
      };
    }
    this.api = createDispatcher(handlers, (command, error) => this.#log(`command ${command} failed: ${(error as Error)?.stack ?? String(error)}`));
  }

  /** Opens an enrolled profile and connects. A wrong passphrase fails here with the vault's own error. */
  static async open(options: EngineOptions): Promise<Engine> {
    const vault = await openVault({ dir: options.profileDir, passphrase: options.passphrase });
    return Engine.start(vault, options);
  }

  /** Takes over a vault that enrolment just created. */
  static async start(vault: Vault, options: EngineOptions): Promise<Engine> {
    try {
      const { profile, account } = await loadProfile(vault);
      await vault.transaction([pruneSeenStatement((options.now ?? Date.now)() - SEEN_RETENTION_MS)]);
      const store = await VaultProtocolStore.load(vault);
      const http = new RelayHttp({ server: profile.server, pin: profile.pin, ca: profile.ca });
      http.setDevice(profile.deviceId, store.device().signing.secretKey);
      let engine: Engine | null = null;
      const directory = await Directory.load(http, vault, store, {
        keyChanged: (username, wasVerified) => {
          if (engine) engine.#emit('contact.keyChanged', { username, wasVerified });
        },
        deviceAdded: (username, deviceId) => {
          if (engine) engine.#emit('contact.deviceAdded', { username, deviceId });
        },
        devicesRemoved: () => {
          if (engine) void engine.#rotateAllChannels().catch((error: Error) => engine!.#problem(error));
        },
      });
      engine = new Engine(vault, store, profile, account, http, directory, options);
      // member lists are needed to accept the first channel message: fetch them while the socket connects
      void engine.#warmChannels().catch((error: Error) => engine!.#problem(error));
      engine.#socket.start();
      engine.#sweepTimer = setInterval(() => void engine!.#sweepExpired().catch(() => {}), 30_000);
      engine.#sweepTimer.unref();
      return engine;
    } catch (error) {
      await vault.lock().catch(() => {});
      throw error;
    }
  }

  #sweepTimer: NodeJS.Timeout | null = null;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#outbox.stop();
    await this.#socket.stop();
    await this.#serial.run(async () => {});
    await this.#post.run(async () => {});
    await this.#verifier.close();
    await this.#vault.lock();
  }

  get deviceId(): string {
    return this.#profile.deviceId;
  }

  get username(): string {
    return this.#profile.username;
  }

  #emit<N extends EventName>(name: N, payload: EventPayload<N>): void {
    try {
      this.api.emit(name, payload);
    } catch (error) {
      this.#problem(error as Error);
    }
  }

  #problem(error: Error): void {
    this.#log(`problem: ${error.name}: ${error.message}`);
  }

  #self(): DeviceAddress {
    return { userId: this.#profile.username, deviceId: this.#profile.deviceId };
  }

  // ---------------------------------------------------------------- inbound

  /** One batch from the relay: decrypt all in one vault transaction, then acknowledge, then react. */
  async #receive(batch: Delivery[]): Promise<void> {
    // Batches follow each other through promise callbacks only; without a turn of the event loop the vault
    // worker's answers (and so the pipelined commits) would wait until the whole backlog was decrypted.
    await new Promise((resolve) => setImmediate(resolve));
    const now = this.#now();
    const staged = new StagedProtocolStore(this.#store);
    const statements: Statement[] = [];
    const effects: Effect[] = [];
    const notices: ServerNotice[] = [];
    const undecryptable: EventPayload<'message.undecryptable'>[] = [];
    // each envelope is decoded once (decodeEnvelope checks it), then read by every step below
    const envelopes = batch.map((d) => {
      if (d.from === null) return null;
      try {
        return decodeEnvelope(d.body);
      } catch (error) {
        return error as Error;
      }
    });
    const prechecked = this.#precheckSignatures(batch, envelopes);
    let checkSignature: SignatureCheck | undefined;
    for (const [index, delivery] of batch.entries()) {
      if (index === prechecked?.from) checkSignature = await prechecked.check;
      try {
        if (delivery.from === null) {
          const notice = decodeNotice(delivery.body);
          notices.push(notice);
          if (notice.kind === 'membership' && (notice.change === 'left' || notice.change === 'removed')) statements.push(rotationFlagStatement(notice.channel));
          continue;
        }
        const envelope = envelopes[index]!; // null only for notices, handled above
        if (envelope instanceof Error) throw envelope;
        const sender = await this.#checkSender(delivery, envelope);
        const incoming = this.#decrypt(staged, delivery, envelope, now, statements, undecryptable, checkSignature);
        if (!incoming) continue;
        const conversationId = await this.#conversationFor(incoming.channelId, sender, incoming.payload);
        // a payload that is ignored still used its ratchet step and its id: both are committed
        staged.commit(incoming.writes);
        if (!conversationId) continue;
        if (incoming.payload.kind === 'receipt' && !this.#profile.receipts) continue; // off means off both ways
        // only something a person wrote opens a conversation: sender keys and receipts do not
        const opens = incoming.payload.kind === 'text' || incoming.payload.kind === 'reply';
        if (opens && conversationId.startsWith('d:')) statements.push(ensureDirectStatement(conversationId.slice(2)));
        if (opens && conversationId.startsWith('g:')) statements.push(ensureGroupStatement(conversationId.slice(2), incoming.payload.group!.members, this.username));
        const applied = applyPayload(incoming.payload, { conversationId, sender, senderDevice: incoming.from.deviceId, own: sender === this.username, receivedAt: now });
        statements.push(...applied.statements);
        effects.push(...applied.effects);
        if (applied.effects.some((e) => e.kind === 'received')) this.#received++;
      } catch (error) {
        undecryptable.push({ reason: describe(error) });
      }
    }
    const writes = staged.takeWrites();
    const committed = this.#commitAhead(writes, [...protocolStatements(writes, now), ...statements, ...activityStatements(effects)]);
    // After the commit, outside the lane (the next batch decrypts meanwhile): acknowledge, tell the UI, react. The
    // acknowledgement is not awaited by anything that sends: a relay slow to answer must not hold up the vault.
    void this.#post.run(async () => {
      if (!(await committed)) return;
      const acked = this.#socket.ack(batch.map((d) => d.seq)).catch((error: Error) => this.#problem(error));
      this.#acks.add(acked);
      void acked.finally(() => this.#acks.delete(acked));
      for (const u of undecryptable) this.#emit('message.undecryptable', u);
      await this.#afterReceive(effects, notices);
    }).catch((error: Error) => this.#problem(error));
  }

  /**
   * Hands the channel signatures of the batch's second half to the verifier thread, while this thread decrypts the
   * first half (verifying those itself). Only messages whose sender key is already held can be checked ahead; any
   * other, or a worker failure, is verified inline. Small batches (live traffic) are not worth the round trip.
   */
  #precheckSignatures(batch: Delivery[], envelopes: (Envelope | Error | null)[]): { from: number; check: Promise<SignatureCheck | undefined> } | null {
    if (batch.length < PRECHECK_MIN_BATCH) return null;
    // The worker verifies faster than this thread verifies and decrypts: it takes the larger share (measured).
    const from = Math.floor(batch.length * PRECHECK_LOCAL_SHARE);
    const jobs: SignatureJob[] = [];
    for (const envelope of envelopes.slice(from)) {
      if (envelope === null || envelope instanceof Error || envelope.kind !== 'channel') continue;
      const inbound = this.#store.inboundSenderKey(envelope.channelId, envelope.from, envelope.keyId);
      if (inbound) jobs.push({ signature: envelope.signature, message: channelSignedBytes(envelope), publicKey: inbound.signingPublicKey });
    }
    if (jobs.length === 0) return null;
    const check = this.#verifier.verifyAll(jobs).then((results) => precheckedSignatures(jobs, results), (error: Error) => {
      this.#problem(error);
      return undefined;
    });
    return { from, check };
  }

  /**
   * Commit pipelining, depth one. The batch's writes go to memory now, so the next batch decrypts on top of them
   * while the vault worker writes this one; but no later transaction is issued until this one has committed
   * (#settled), so the vault never holds state derived from a batch it does not hold. If a commit fails, memory is
   * ahead of the vault: the engine stops (nothing was acknowledged, so the relay still has every envelope) and must
   * be reopened. Resolves true once committed, false if it failed.
   */
  #commitAhead(writes: ProtocolWrite[], statements: Statement[]): Promise<boolean> {
    const previous = this.#lastCommit;
    this.#store.commit(writes);
    const committed = previous.then(() => {
      if (this.#failure) throw this.#failure; // nothing derived from a batch that failed may reach the vault
      return this.#vault.transaction(statements);
    }).then(() => true, (error: Error) => {
      this.#fail(error);
      return false;
    });
    this.#lastCommit = committed.then(() => {});
    return committed;
  }

  /** Waits for the pipelined commit before a transaction of our own; throws if the engine has failed. */
  async #settled(): Promise<void> {
    await this.#lastCommit;
    if (this.#failure) throw this.#failure;
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = new EngineError('VAULT', `the vault could not be written (${error.message.slice(0, 200)}); nothing was lost: close and reopen the profile`);
    this.#problem(error);
    void this.#socket.stop().catch(() => {});
  }

  /** The relay says who sent an envelope; the envelope says it too, and the two must agree. */
  async #checkSender(delivery: Delivery, envelope: Envelope): Promise<string> {
    const claimed = await this.#directory.usernameOf(delivery.from!.account);
    if (claimed !== envelope.from.userId || delivery.from!.device !== envelope.from.deviceId) {
      throw new EngineError('HOSTILE_SERVER', 'an envelope\'s sender does not match what the relay says about it');
    }
    if (!this.#directory.known(claimed)?.devices.includes(envelope.from.deviceId)) await this.#directory.refresh(claimed);
    if (envelope.kind === 'channel' && delivery.channel !== envelope.channelId) throw new EngineError('HOSTILE_SERVER', 'a channel envelope arrived under another channel');
    return claimed;
  }

  #decrypt(staged: StagedProtocolStore, delivery: Delivery, envelope: Envelope, now: number, statements: Statement[], undecryptable: EventPayload<'message.undecryptable'>[], checkSignature?: SignatureCheck) {
    try {
      return decryptEnvelope(staged, envelope, now, checkSignature);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (error.code === 'DUPLICATE') return null; // already shown once: never twice
      if (error.code === 'MISSING_SENDER_KEY') {
        statements.push({
          sql: 'INSERT OR IGNORE INTO held_frames (msg_id, sender_user, sender_device, channel, body, received_at) VALUES (?, ?, ?, ?, ?, ?)',
          params: [delivery.msgId, String(error.details.userId), String(error.details.deviceId), String(error.details.channelId), delivery.body, now],
        });
        this.#pendingKeyRequests.push({ sender: { userId: String(error.details.userId), deviceId: String(error.details.deviceId) }, channelId: String(error.details.channelId), keyId: Number(error.details.keyId) });
        undecryptable.push({ conversation: channelConversationId(String(error.details.channelId)), sender: String(error.details.userId), reason: 'waiting for the sender\'s key (asked for it)' });
        return null;
      }
      undecryptable.push({ ...(delivery.channel ? { conversation: channelConversationId(delivery.channel) } : {}), reason: error.code });
      if (error.code === 'NO_SESSION' || error.code === 'DECRYPT_FAILED') {
        if (envelope.kind === 'pairwise') this.#pendingResets.push({ device: envelope.from, brokenSessionId: envelope.sessionId, reason: error.code === 'NO_SESSION' ? 'no-session' : 'decrypt-failed' });
      }
      return null;
    }
  }

  #pendingKeyRequests: { sender: DeviceAddress; channelId: string; keyId: number }[] = [];
  #pendingResets: { device: DeviceAddress; brokenSessionId: Uint8Array; reason: 'no-session' | 'decrypt-failed' }[] = [];
  readonly #lastReset = new Map<string, number>();

  /**
   * A session that cannot decrypt (our state was lost, or theirs) is replaced: a fresh X3DH session whose first
   * message tells the peer which session broke. At most one reset per device per interval, so a relay that
   * tampers with frames cannot make us churn sessions.
   */
  async #resetBrokenSessions(): Promise<void> {
    for (const r of this.#pendingResets.splice(0)) {
      const key = `${r.device.userId}/${r.device.deviceId}`;
      const now = this.#now();
      if (now - (this.#lastReset.get(key) ?? -Infinity) < SESSION_RESET_INTERVAL_MS) continue;
      try {
        const [session] = await this.#directory.newSessions([r.device], (e) => this.#problem(e));
        if (!session) continue;
        const staged = new StagedProtocolStore(this.#store);
        const result = resetSession(staged, session, r.brokenSessionId, r.reason, now);
        await this.#commitFrames(staged, result.writes, this.#pairwiseFrames(result.frames, now));
        this.#lastReset.set(key, now); // only a reset that was queued counts: a failed attempt is retried next time
      } catch (error) {
        this.#problem(error as Error);
      }
    }
  }

  /** Which conversation a payload belongs to; null when it must be ignored (e.g. a sender outside the channel). */
  async #conversationFor(channelId: string | null, sender: string, payload: Payload): Promise<string | null> {
    if (channelId !== null) {
      const channel = await this.#channel(channelId);
      const accountId = await this.#directory.accountIdOf(sender);
      if (!channel || !channel.members.has(accountId)) {
        this.#emit('message.undecryptable', { conversation: channelConversationId(channelId), sender, reason: 'the sender is not a member of this channel' });
        return null;
      }
      return channelConversationId(channelId);
    }
    if (payload.group) {
      const { id, members } = payload.group;
      const stored = await this.#groupMembers(toBase64Url(id));
      // a group is fixed at creation: only its members may speak in it, and only to a group that includes us
      if (!(stored ?? members).includes(sender) || !members.includes(this.username)) {
        this.#emit('message.undecryptable', { sender, reason: 'a group message from someone outside the group' });
        return null;
      }
      return groupConversationId(toBase64Url(id));
    }
    if (sender === this.username) return payload.syncTo ? directConversationId(payload.syncTo) : directConversationId(this.username);
    return directConversationId(sender);
  }

  async #groupMembers(groupId: string): Promise<string[] | null> {
    const row = await this.#vault.get<{ members: string | null }>('SELECT members FROM conversations WHERE id = ?', [groupConversationId(groupId)]);
    return row?.members ? (JSON.parse(row.members) as string[]) : null;
  }

  async #afterReceive(effects: Effect[], notices: ServerNotice[]): Promise<void> {
    const received: string[] = [];
    const updated: string[] = [];
    const receipts = new Map<string, string[]>();
    for (const effect of effects) {
      switch (effect.kind) {
        case 'received': received.push(effect.messageId); break;
        case 'updated': updated.push(effect.messageId); break;
        case 'status': updated.push(...effect.messageIds); break;
        case 'removed': this.#emit('message.removed', { id: effect.messageId, conversation: effect.conversationId, reason: 'deleted' }); break;
        case 'sender-key-arrived': this.#retryHeld = true; break;
        case 'sender-key-request': this.#keyAnswers.push({ requester: effect.requester, channelId: effect.channelId, keyId: effect.keyId }); break;
        case 'delivered-receipt': break;
      }
    }
    for (const view of await messageViews(this.#vault, received)) {
      this.#emit('message.received', view);
      if (!view.outgoing && view.conversation.startsWith('d:') && this.#profile.receipts) receipts.set(view.sender, [...(receipts.get(view.sender) ?? []), view.id]);
    }
    await this.#emitUpdated(updated);
    for (const notice of notices) await this.#onNotice(notice).catch((error: Error) => this.#problem(error));
    // follow-ups that send: answers to key requests, our own key requests, delivery receipts, held frames
    // Only follow-ups that send need the lane; a batch without any must not queue behind the next batch's decrypt.
    if (receipts.size || this.#keyAnswers.length || this.#pendingKeyRequests.length || this.#pendingResets.length) {
      await this.#serial.run(async () => {
        for (const [user, ids] of receipts) await this.#queueControl(user, { kind: 'receipt', receipt: 'delivered', targets: ids.map(fromBase64Url) }).catch((error: Error) => this.#problem(error));
        await this.#answerKeyRequests();
        await this.#requestMissingKeys();
        await this.#resetBrokenSessions();
      });
    }
    if (this.#retryHeld) {
      const retried = await this.#serial.run(() => this.#retryHeldFrames());
      if (retried.length) await this.#afterReceive(retried, []);
    }
    void this.#outbox.flush().catch((error: Error) => this.#problem(error));
  }

  #retryHeld = false;
  #keyAnswers: { requester: DeviceAddress; channelId: string; keyId: number }[] = [];

  async #emitUpdated(ids: string[]): Promise<void> {
    for (const view of await messageViews(this.#vault, [...new Set(ids)])) this.#emit('message.updated', view);
  }

  async #answerKeyRequests(): Promise<void> {
    const requests = this.#keyAnswers.splice(0);
    for (const r of requests) {
      try {
        const channel = await this.#channel(r.channelId, true);
        if (!channel?.members.has(await this.#directory.accountIdOf(r.requester.userId))) continue; // never to a non-member
        await this.#queueToDevices((staged, now, sessions) => answerSenderKeyRequest(staged, r.requester, r.channelId, r.keyId, now, sessions));
      } catch (error) {
        this.#problem(error as Error);
      }
    }
  }

  async #requestMissingKeys(): Promise<void> {
    const requests = this.#pendingKeyRequests.splice(0);
    const seen = new Set<string>();
    for (const r of requests) {
      const key = JSON.stringify(r);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        await this.#directory.ensure(r.sender.userId);
        await this.#queueToDevices((staged, now, sessions) => requestSenderKey(staged, r.sender, r.channelId, r.keyId, now, sessions));
      } catch (error) {
        this.#problem(error as Error);
      }
    }
  }

  /** Encrypts control traffic to particular devices (starting sessions where there are none) and queues it. In the lane. */
  async #queueToDevices(encrypt: (staged: StagedProtocolStore, now: number, sessions: NewSession[]) => { frames: ProtocolFrame[]; missing: DeviceAddress[]; writes: ProtocolWrite[] }): Promise<void> {
    const now = this.#now();
    const staged = new StagedProtocolStore(this.#store);
    let result = encrypt(staged, now, []);
    if (result.missing.length) result = encrypt(staged, now, await this.#directory.newSessions(result.missing, (e) => this.#problem(e)));
    await this.#commitFrames(staged, result.writes, this.#pairwiseFrames(result.frames, now));
  }

  /** Channel frames that waited for their sender key go through the normal path again; returns their effects. */
  async #retryHeldFrames(): Promise<Effect[]> {
    this.#retryHeld = false;
    const rows = await this.#vault.all<{ id: number; msg_id: Uint8Array; sender_user: string; sender_device: string; channel: string; body: Uint8Array; received_at: number }>(
      'SELECT id, msg_id, sender_user, sender_device, channel, body, received_at FROM held_frames ORDER BY id LIMIT ?', [HELD_FRAMES_MAX]);
    if (rows.length === 0) return [];
    const now = this.#now();
    const staged = new StagedProtocolStore(this.#store);
    const statements: Statement[] = [];
    const effects: Effect[] = [];
    const done: number[] = [];
    for (const row of rows) {
      try {
        const incoming = decryptFrame(staged, row.body, now);
        staged.commit(incoming.writes);
        done.push(row.id);
        const conversationId = await this.#conversationFor(incoming.channelId, row.sender_user, incoming.payload);
        if (!conversationId) continue;
        const applied = applyPayload(incoming.payload, { conversationId, sender: row.sender_user, senderDevice: row.sender_device, own: row.sender_user === this.username, receivedAt: row.received_at });
        statements.push(...applied.statements);
        effects.push(...applied.effects);
      } catch (error) {
        if (error instanceof ProtocolError && error.code === 'MISSING_SENDER_KEY') continue;
        done.push(row.id);
        this.#emit('message.undecryptable', { conversation: channelConversationId(row.channel), sender: row.sender_user, reason: describe(error) });
      }
    }
    const writes = staged.takeWrites();
    await this.#settled();
    await this.#vault.transaction([...protocolStatements(writes, now), ...statements, ...activityStatements(effects), { sql: 'DELETE FROM held_frames WHERE id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(done)] }]);
    this.#store.commit(writes);
    return effects;
  }

  async #onRelayEvent(event: Extract<ServerFrame, { t: 'event' }>): Promise<void> {
    if (event.kind === 'device_list') {
      await this.#serial.run(async () => {
        const username = await this.#directory.usernameOf(event.account);
        await this.#directory.refresh(username);
      });
    } else if (event.kind === 'prekeys_low') {
      await this.#serial.run(() => this.#topUpPrekeys());
    }
  }

  /**
   * The signed prekey is replaced weekly (the previous one stays usable for session starts in flight), and the
   * newest one is uploaded until the relay has it. Runs whenever the socket comes online.
   */
  async #maintainSignedPrekey(): Promise<void> {
    let prekeys = this.#store.prekeys();
    const newest = prekeys.signed[0]!;
    if (this.#now() - newest.createdAt >= SIGNED_PREKEY_ROTATION_MS) {
      const rotated = rotateSignedPrekey(prekeys, this.#store.device(), this.#now());
      const writes: ProtocolWrite[] = [{ kind: 'prekeys', state: rotated.state }];
      await this.#settled();
      await this.#vault.transaction(protocolStatements(writes));
      this.#store.commit(writes);
      prekeys = rotated.state;
    }
    const current = prekeys.signed[0]!;
    if ((await uploadedSignedPrekey(this.#vault)) === current.id) return;
    await this.#http.putPrekeys({ signedPrekey: { keyId: current.id, data: encodeSignedPrekey(current.keyPair.publicKey, current.signature) }, oneTimePrekeys: [] });
    await this.#vault.transaction([signedPrekeyUploadedStatement(current.id)]);
  }

  async #topUpPrekeys(): Promise<void> {
    const prekeys = this.#store.prekeys();
    const room = 1000 - prekeys.oneTime.length;
    if (room <= 0) return;
    const { state, oneTime } = addOneTimePrekeys(prekeys, Math.min(100, room));
    const writes: ProtocolWrite[] = [{ kind: 'prekeys', state }];
    await this.#settled();
    await this.#vault.transaction(protocolStatements(writes));
    this.#store.commit(writes);
    await this.#http.putPrekeys({ oneTimePrekeys: oneTime.map((k) => ({ keyId: k.id, data: k.publicKey })) });
  }

  // ---------------------------------------------------------------- channels and membership

  /** The relay's view of a channel (members and roles); cached until a notice says it changed. */
  #channel(channelId: string, refresh = false): Promise<ChannelInfo | null> {
    const cached = this.#channels.get(channelId);
    if (cached && !refresh) return Promise.resolve(cached);
    // one fetch at a time per channel: a backlog's first batch asks for the same channel hundreds of times
    const inFlight = this.#channelFetches.get(channelId);
    if (inFlight && !refresh) return inFlight;
    const fetched = this.#fetchChannel(channelId, cached).finally(() => this.#channelFetches.delete(channelId));
    this.#channelFetches.set(channelId, fetched);
    return fetched;
  }

  readonly #channelFetches = new Map<string, Promise<ChannelInfo | null>>();

  async #fetchChannel(channelId: string, cached: ChannelInfo | undefined): Promise<ChannelInfo | null> {
    let members;
    try {
      members = await this.#http.channelMembers(channelId);
    } catch (error) {
      if (error instanceof RelayError && error.status === 404) {
        this.#channels.delete(channelId);
        return null;
      }
      throw error;
    }
    const name = cached?.name ?? (await this.#vault.get<{ name: string }>('SELECT name FROM conversations WHERE id = ?', [channelConversationId(channelId)]))?.name ?? channelId;
    const info = { channelId, name, members: new Map(members.map((m) => [m.accountId, m.role])) };
    this.#channels.set(channelId, info);
    return info;
  }

  async #warmChannels(): Promise<void> {
    const rows = await conversationRows(this.#vault, "kind = 'channel' AND member = 1");
    await Promise.all(rows.map((r) => this.#channel(r.remote_id)));
  }

  async #syncChannels(): Promise<void> {
    const channels = await this.#http.listChannels();
    const statements = channels.filter((c) => c.role !== null).map((c) => upsertConversationStatement({
      id: channelConversationId(c.channelId), kind: 'channel', remoteId: c.channelId, name: decodeName(c.name), topic: c.topic ? decodeName(c.topic) : null, role: c.role,
    }));
    const current = new Set(channels.filter((c) => c.role !== null).map((c) => channelConversationId(c.channelId)));
    const stored = await conversationRows(this.#vault, "kind = 'channel' AND member = 1");
    for (const row of stored) if (!current.has(row.id)) statements.push({ sql: 'UPDATE conversations SET member = 0, role = NULL WHERE id = ?', params: [row.id] });
    if (statements.length) await this.#vault.transaction(statements);
  }

  async #onNotice(notice: ServerNotice): Promise<void> {
    this.#channels.delete(notice.channel);
    await this.#syncChannels();
    const row = (await conversationRows(this.#vault, 'id = ?', [channelConversationId(notice.channel)]))[0];
    if (row) this.#emit('conversation.updated', conversationView(row, await this.#memberNames(notice.channel)));
  }

  async #memberNames(channelId: string): Promise<string[]> {
    const channel = await this.#channel(channelId).catch(() => null);
    if (!channel) return [];
    const names: string[] = [];
    for (const accountId of channel.members.keys()) names.push(await this.#directory.usernameOf(accountId).catch(() => accountId));
    return names.filter((n) => /^[a-z0-9][a-z0-9._-]{1,31}$/.test(n)).sort();
  }

  /**
   * When anyone loses a device (or their key changes), our channels rotate their sender keys at the next send:
   * cheaper than working out which channels that person shares with us, and rotation is cheap.
   */
  async #rotateAllChannels(): Promise<void> {
    const rows = await conversationRows(this.#vault, "kind = 'channel' AND member = 1");
    if (rows.length) await this.#vault.transaction(rows.map((r) => rotationFlagStatement(r.remote_id)));
  }

  async #channelByName(name: string): Promise<string> {
    let row = (await conversationRows(this.#vault, "kind = 'channel' AND name = ?", [name]))[0];
    if (!row) {
      await this.#syncChannels();
      row = (await conversationRows(this.#vault, "kind = 'channel' AND name = ?", [name]))[0];
    }
    if (!row || !row.member) throw new EngineError('NOT_FOUND', `you are not in a channel named #${name}`);
    return row.remote_id;
  }

  /** Every member device except this one, as verified device lists say (the relay's member list says who). */
  async #memberDevices(channelId: string): Promise<DeviceAddress[]> {
    const channel = await this.#channel(channelId);
    if (!channel) throw new EngineError('NOT_FOUND', 'no such channel');
    const devices: DeviceAddress[] = [];
    for (const accountId of channel.members.keys()) {
      const username = await this.#directory.usernameOf(accountId);
      const known = await this.#currentDevices(username);
      for (const deviceId of known.devices) if (!(username === this.username && deviceId === this.deviceId)) devices.push({ userId: username, deviceId });
    }
    return devices;
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Relay frames for pairwise ciphertexts. A large fan-out (a sender key to a big channel) is split so each frame
   * stays well under the relay's 256 KiB limit; every part needs its own id, since the relay stores an id once.
   */
  #pairwiseFrames(frames: ProtocolFrame[], now: number, msgId = newMessageId(), messageId: string | null = null, expiresAt = now + DEFAULT_ENVELOPE_TTL_MS): OutgoingFrame[] {
    const parts: Recipient[][] = [];
    let size = Infinity;
    for (const f of frames) {
      if (size + f.frame.length > FRAME_BUDGET_BYTES || parts.at(-1)!.length >= MAX_RECIPIENTS) {
        parts.push([]);
        size = 0;
      }
      parts.at(-1)!.push({ user: f.to.userId, device: f.to.deviceId, body: f.frame });
      size += f.frame.length + 64;
    }
    return parts.map((to, i) => ({ msgId: i === 0 ? msgId : newMessageId(), expiresAt, channel: null, messageId: i === 0 ? messageId : null, to }));
  }


  async #commitFrames(staged: StagedProtocolStore, writes: ProtocolWrite[], frames: OutgoingFrame[], extra: Statement[] = []): Promise<void> {
    staged.commit(writes);
    const all = staged.takeWrites();
    await this.#settled();
    await this.#vault.transaction([...protocolStatements(all), ...extra, ...frames.map(outboxStatement)]);
    this.#store.commit(all);
  }

  /**
   * The account's device list, fetched afresh once per connection before we encrypt to it: the relay announces
   * list changes (a linked device) only to devices online at the time, so a device that was closed would
   * otherwise keep encrypting to the old list. Offline, or if the fetch fails, the list we hold is used.
   */
  async #currentDevices(username: string) {
    if (this.#listsFresh.has(username)) return this.#directory.ensure(username);
    try {
      const known = await this.#directory.refresh(username);
      this.#listsFresh.add(username);
      return known;
    } catch (error) {
      if (!this.#directory.known(username)) throw error;
      this.#problem(error as Error);
      return this.#directory.ensure(username);
    }
  }

  /** Encrypts a payload to every device of these people and this account's other devices, starting sessions as needed. */
  async #encryptDirect(staged: StagedProtocolStore, usernames: string[], payload: Payload, now: number): Promise<ProtocolFrame[]> {
    const own = await this.#currentDevices(this.username);
    const targets: DeviceAddress[] = [];
    for (const username of usernames) {
      for (const t of fanOutTargets(await this.#currentDevices(username), own, this.#self())) {
        if (!targets.some((x) => x.userId === t.userId && x.deviceId === t.deviceId)) targets.push(t);
      }
    }
    const first = encryptToDevices(staged, targets, payload, now);
    staged.commit(first.writes);
    if (first.missing.length === 0) return first.frames;
    const sessions = await this.#directory.newSessions(first.missing, (e) => this.#problem(e));
    const second = encryptToDevices(staged, sessions.map((s) => s.device), payload, now, sessions);
    staged.commit(second.writes);
    return [...first.frames, ...second.frames];
  }

  /** Makes sure every member device holds our current sender key, rotating first if someone left. */
  async #prepareChannel(staged: StagedProtocolStore, channelId: string, now: number): Promise<{ frames: ProtocolFrame[]; statements: Statement[] }> {
    const members = await this.#memberDevices(channelId);
    const rotate = (await this.#vault.get('SELECT 1 AS x FROM kv WHERE key = ?', [rotationKey(channelId)])) !== undefined;
    const first = prepareChannelKey(staged, channelId, members, now, rotate);
    staged.commit(first.writes);
    let frames = first.frames;
    if (first.missing.length) {
      const sessions = await this.#directory.newSessions(first.missing, (e) => this.#problem(e));
      if (sessions.length) {
        const second = prepareChannelKey(staged, channelId, sessions.map((s) => s.device), now, false, sessions);
        staged.commit(second.writes);
        frames = [...frames, ...second.frames];
      }
    }
    return { frames, statements: rotate ? [{ sql: 'DELETE FROM kv WHERE key = ?', params: [rotationKey(channelId)] }] : [] };
  }

  /** A control payload to a person's devices (and our own other devices), through the outbox. Call inside the lane. */
  async #queueControl(username: string, content: PayloadContent): Promise<void> {
    const now = this.#now();
    const staged = new StagedProtocolStore(this.#store);
    const payload = { id: newMessageId(), sentAt: now, timers: null, syncTo: username, group: null, ...content } as Payload;
    const frames = await this.#encryptDirect(staged, [username], payload, now);
    await this.#commitFrames(staged, [], this.#pairwiseFrames(frames, now));
  }

  /** Sends a user payload to a conversation target and records it locally in the same transaction. */
  async #sendPayload(target: SendTarget, content: PayloadContent, timers: Payload['timers'], local: (id: string, conversationId: string, now: number) => Statement[]): Promise<string> {
    const id = newMessageId();
    const messageId = toBase64Url(id);
    await this.#serial.run(async () => {
      const now = this.#now();
      const staged = new StagedProtocolStore(this.#store);
      const expiresAt = Math.min(timers?.expiresAt ?? now + DEFAULT_ENVELOPE_TTL_MS, now + DEFAULT_ENVELOPE_TTL_MS);
      if (target.kind === 'direct') {
        const payload = { id, sentAt: now, timers, syncTo: target.username, group: null, ...content } as Payload;
        const frames = await this.#encryptDirect(staged, [target.username], payload, now);
        const conversationId = directConversationId(target.username);
        // a note to self on an account with one device goes nowhere: it is sent as soon as it is stored
        const done = frames.length === 0 ? [statusStatement([messageId], 'sent')] : [];
        await this.#commitFrames(staged, [], this.#pairwiseFrames(frames, now, id, messageId, expiresAt), [ensureDirectStatement(target.username), ...local(messageId, conversationId, now), ...done]);
      } else if (target.kind === 'group') {
        const payload = { id, sentAt: now, timers, syncTo: null, group: { id: fromBase64Url(target.groupId), members: target.members }, ...content } as Payload;
        const frames = await this.#encryptDirect(staged, target.members.filter((m) => m !== this.username), payload, now);
        await this.#commitFrames(staged, [], this.#pairwiseFrames(frames, now, id, messageId, expiresAt),
          [ensureGroupStatement(target.groupId, target.members, this.username), ...local(messageId, groupConversationId(target.groupId), now)]);
      } else {
        const prepared = await this.#prepareChannel(staged, target.channelId, now);
        const payload = { id, sentAt: now, timers, syncTo: null, group: null, ...content } as Payload;
        const encrypted = encryptChannelMessage(staged, target.channelId, payload, now);
        const channelFrame: OutgoingFrame = { msgId: id, expiresAt, channel: target.channelId, body: encrypted.frame, messageId };
        await this.#commitFrames(staged, encrypted.writes, [...this.#pairwiseFrames(prepared.frames, now), channelFrame],
          [...prepared.statements, ...local(messageId, channelConversationId(target.channelId), now)]);
      }
    });
    return messageId;
  }

  /** `#channel`, `@user`, or `@ann,ben` (a group direct message with exactly those people and us). */
  async #targetOf(target: string): Promise<SendTarget> {
    if (target.startsWith('@')) {
      const others = [...new Set(target.slice(1).split(','))].filter((u) => u !== this.username);
      for (const username of others) {
        await this.#directory.accountIdOf(username).catch((error: unknown) => {
          if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', `no user @${username} in this organisation`);
          throw error;
        });
      }
      if (others.length <= 1) return { kind: 'direct', username: others[0] ?? this.username };
      const members = [...others, this.username].sort();
      if (members.length > MAX_GROUP_MEMBERS) throw new EngineError('INVALID', `a group direct message has at most ${MAX_GROUP_MEMBERS} people; use a channel`);
      const existing = await this.#vault.get<{ remote_id: string }>("SELECT remote_id FROM conversations WHERE kind = 'group' AND members = ? ORDER BY coalesce(last_message_at, 0) DESC", [JSON.stringify(members)]);
      return { kind: 'group', groupId: existing?.remote_id ?? toBase64Url(newMessageId()), members };
    }
    return { kind: 'channel', channelId: await this.#channelByName(target.slice(1)) };
  }

  /** Waits (bounded) for the outbox to hand a message to the relay, so a caller sees "sent" when it was. */
  async #settleSend(messageId: string): Promise<MessageViewT> {
    await Promise.race([this.#outbox.flush(), new Promise((resolve) => setTimeout(resolve, this.#sendWaitMs).unref())]).catch(() => {});
    const [view] = await messageViews(this.#vault, [messageId]);
    if (!view) throw new EngineError('NOT_FOUND', 'the message vanished before it was sent');
    return view;
  }

  async #ownMessage(id: string): Promise<{ conversation: string; target: SendTarget }> {
    const row = await this.#vault.get<{ conversation_id: string; sender_id: string }>('SELECT conversation_id, sender_id FROM messages WHERE message_id = ?', [id]);
    if (!row) throw new EngineError('NOT_FOUND', 'no such message');
    const c = row.conversation_id;
    if (c.startsWith('g:')) return { conversation: c, target: { kind: 'group', groupId: c.slice(2), members: (await this.#groupMembers(c.slice(2)))! } };
    return { conversation: c, target: c.startsWith('c:') ? { kind: 'channel', channelId: c.slice(2) } : { kind: 'direct', username: c.slice(2) } };
  }

  async #sweepExpired(): Promise<void> {
    const now = this.#now();
    const expired = await this.#vault.all<{ message_id: string; conversation_id: string }>('SELECT message_id, conversation_id FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?', [now]);
    if (expired.length === 0) return;
    await this.#vault.deleteMessages(expired.map((e) => e.message_id));
    for (const e of expired) this.#emit('message.removed', { id: e.message_id, conversation: e.conversation_id, reason: 'expired' });
  }

  // ---------------------------------------------------------------- the API

  #handlers(): Handlers {
    const conversationsView = async () => {
      const rows = await conversationRows(this.#vault);
      return Promise.all(rows.map(async (r) => conversationView(r, r.kind === 'channel' ? await this.#memberNames(r.remote_id)
        : r.kind === 'group' ? (await this.#groupMembers(r.remote_id)) ?? [] : [this.username, r.remote_id].sort())));
    };
    return {
      'account.join': async () => { throw new EngineError('ALREADY_ENROLLED', 'this profile is already enrolled'); },
      'account.unlock': async () => ({}),
      'account.lock': async () => {
        await this.close();
        return {};
      },
      'account.whoami': async () => {
        const me = await this.#http.login().catch(() => null);
        return { username: this.username, accountId: this.#profile.accountId, deviceId: this.deviceId, server: this.#profile.server, admin: me?.role === 'admin' };
      },
      'org.invite': async ({ admin }) => {
        const invite = await this.#http.createInvite(admin).catch((error: unknown) => {
          if (error instanceof RelayError && error.status === 403) throw new EngineError('FORBIDDEN', 'only admins can invite people');
          throw error;
        });
        return { link: invite.link };
      },
      'channels.list': async () => {
        await this.#syncChannels().catch((error: Error) => this.#problem(error));
        return { conversations: await conversationsView() };
      },
      'channels.create': async ({ name, topic, open }) => {
        await this.#syncChannels();
        const taken = (await this.#http.listChannels()).some((c) => decodeName(c.name) === name);
        if (taken || (await conversationRows(this.#vault, "kind = 'channel' AND name = ?", [name])).length) throw new EngineError('CONFLICT', `#${name} already exists`);
        const created = await this.#http.createChannel(utf8(name), topic ? utf8(topic) : undefined, open);
        await this.#vault.transaction([upsertConversationStatement({ id: channelConversationId(created.channelId), kind: 'channel', remoteId: created.channelId, name, topic: topic ?? null, role: 'owner' })]);
        const row = (await conversationRows(this.#vault, 'id = ?', [channelConversationId(created.channelId)]))[0]!;
        return conversationView(row, [this.username]);
      },
      'channels.add': async ({ channel, username }) => {
        const channelId = await this.#channelByName(channel);
        await this.#http.addMembers(channelId, [await this.#directory.accountIdOf(username)]).catch(relayToEngine);
        this.#channels.delete(channelId);
        return {};
      },
      'channels.remove': async ({ channel, username }) => {
        const channelId = await this.#channelByName(channel);
        await this.#http.removeMember(channelId, await this.#directory.accountIdOf(username)).catch(relayToEngine);
        this.#channels.delete(channelId);
        await this.#vault.transaction([rotationFlagStatement(channelId)]);
        return {};
      },
      'channels.join': async ({ channel }) => {
        const open = (await this.#http.listChannels()).find((c) => c.role === null && c.open && decodeName(c.name) === channel);
        if (!open) throw new EngineError('NOT_FOUND', `no open channel named #${channel} (private channels need an invitation)`);
        await this.#http.joinChannel(open.channelId).catch(relayToEngine);
        this.#channels.delete(open.channelId);
        await this.#syncChannels();
        const row = (await conversationRows(this.#vault, 'id = ?', [channelConversationId(open.channelId)]))[0]!;
        return conversationView(row, await this.#memberNames(open.channelId));
      },
      'channels.leave': async ({ channel }) => {
        const channelId = await this.#channelByName(channel);
        await this.#http.leaveChannel(channelId).catch(relayToEngine);
        await this.#syncChannels();
        return {};
      },
      'channels.setTopic': async ({ channel, topic }) => {
        const channelId = await this.#channelByName(channel);
        await this.#http.updateChannel(channelId, { topic: utf8(topic) }).catch(relayToEngine);
        await this.#syncChannels();
        return {};
      },
      'channels.setRole': async ({ channel, username, role }) => {
        const channelId = await this.#channelByName(channel);
        await this.#http.setRole(channelId, await this.#directory.accountIdOf(username), role).catch(relayToEngine);
        this.#channels.delete(channelId);
        return {};
      },
      'messages.send': async ({ target, text, replyTo, timers }) => {
        const to = await this.#targetOf(target);
        const now = this.#now();
        const payloadTimers = timers && (timers.expiresInSeconds || timers.burnAfterReadSeconds)
          ? { expiresAt: timers.expiresInSeconds ? now + timers.expiresInSeconds * 1000 : null, burnAfterReadSeconds: timers.burnAfterReadSeconds ?? null }
          : null;
        const content: PayloadContent = replyTo ? { kind: 'reply', target: fromBase64Url(replyTo), body: text } : { kind: 'text', body: text };
        const messageId = await this.#sendPayload(to, content, payloadTimers, (id, conversationId, at) => insertMessageStatements({
          messageId: id, conversationId, sender: this.username, senderDevice: this.deviceId, sentAt: at, receivedAt: at, body: text,
          expiresAt: payloadTimers?.expiresAt ?? null, burnSeconds: payloadTimers?.burnAfterReadSeconds ?? null, replyTo: replyTo ?? null,
          mentions: mentionsIn(text), outgoing: true, status: 'pending',
        }));
        return this.#settleSend(messageId);
      },
      'messages.list': async ({ target, before, limit }) => {
        const to = await this.#targetOf(target).catch(() => null);
        if (!to) return { messages: [] };
        return { messages: await historyViews(this.#vault, conversationIdOf(to), limit, before, this.#now()) };
      },
      'messages.edit': async ({ id, text }) => {
        const { conversation, target } = await this.#ownMessageChecked(id);
        await this.#sendPayload(target, { kind: 'edit', target: fromBase64Url(id), body: text }, null, (_x, _c, at) => [editStatement(conversation, this.username, id, text, at)]);
        await this.#emitUpdated([id]);
        void this.#outbox.flush().catch(() => {});
        return {};
      },
      'messages.delete': async ({ id }) => {
        const { conversation, target } = await this.#ownMessageChecked(id);
        await this.#sendPayload(target, { kind: 'delete', target: fromBase64Url(id) }, null, () => [deleteStatement(conversation, this.username, id)]);
        this.#emit('message.removed', { id, conversation, reason: 'deleted' });
        await Promise.race([this.#outbox.flush(), new Promise((resolve) => setTimeout(resolve, this.#sendWaitMs).unref())]).catch(() => {});
        return {};
      },
      'messages.react': async ({ id, emoji, remove }) => {
        const { conversation, target } = await this.#ownMessage(id);
        await this.#sendPayload(target, { kind: 'reaction', target: fromBase64Url(id), emoji, remove }, null, () => [reactionStatement(conversation, this.username, id, emoji, remove)]);
        await this.#emitUpdated([id]);
        void this.#outbox.flush().catch(() => {});
        return {};
      },
      'messages.markRead': async ({ target, upTo }) => {
        const to = await this.#targetOf(target);
        const conversationId = conversationIdOf(to);
        const unread = await this.#vault.all<{ message_id: string }>(
          `SELECT message_id FROM messages WHERE conversation_id = ? AND outgoing = 0 AND id <= (SELECT id FROM messages WHERE message_id = ?) ORDER BY id DESC LIMIT 200`, [conversationId, upTo]);
        const now = this.#now();
        // burn-on-read starts at first read and never outlives the sender's expiry
        await this.#vault.transaction([
          { sql: 'UPDATE conversations SET unread = 0 WHERE id = ?', params: [conversationId] },
          { sql: `UPDATE messages SET expires_at = min(coalesce(expires_at, ? + burn_seconds * 1000), ? + burn_seconds * 1000)
                  WHERE conversation_id = ? AND burn_seconds IS NOT NULL AND outgoing = 0`, params: [now, now, conversationId] },
        ]);
        if (to.kind === 'direct' && this.#profile.receipts && unread.length) {
          await this.#serial.run(() => this.#queueControl(to.username, { kind: 'receipt', receipt: 'read', targets: unread.map((u) => fromBase64Url(u.message_id)) }));
          void this.#outbox.flush().catch(() => {});
        }
        return {};
      },
      'messages.search': async ({ query, limit }) => {
        const match = ftsQuery(query);
        return { messages: match ? await searchViews(this.#vault, match, limit, this.#now()) : [] };
      },
      'sync.now': async () => {
        const before = this.#received;
        await this.#socket.drained(60_000).catch((error: unknown) => {
          throw new EngineError('OFFLINE', `could not reach the relay: ${(error as Error).message}`);
        });
        await this.#serial.run(async () => {});
        await this.#post.run(async () => {}); // every batch delivered so far is committed, acknowledged and announced
        await Promise.all(this.#acks);
        if (this.#failure) throw this.#failure;
        const pending = await this.#outbox.pending();
        await this.#outbox.flush();
        return { received: this.#received - before, sent: pending - (await this.#outbox.pending()) };
      },
      'contacts.safetyNumber': async ({ username }) => {
        await this.#directory.ensure(username);
        const number = safetyNumber(
          { userId: this.username, accountPublicKey: this.#directory.accountKey(this.username) },
          { userId: username, accountPublicKey: this.#directory.accountKey(username) });
        return { digits: number.display, qr: toBase64Url(number.qrPayload), verified: this.#directory.isVerified(username) };
      },
      'contacts.markVerified': async ({ username, verified }) => {
        await this.#directory.ensure(username);
        await this.#directory.setVerified(username, verified);
        return {};
      },
      'devices.list': async () => {
        const served = await this.#http.accountDevices(this.#profile.accountId);
        return {
          devices: served.devices.map((d) => ({
            id: d.deviceId, name: d.deviceId.slice(0, 8), createdAt: new Date(d.createdAt).toISOString(), current: d.deviceId === this.deviceId,
            status: d.status as 'active' | 'pending' | 'revoked',
          })),
        };
      },
      'devices.approve': async ({ code }) => this.#approve(code),
      'settings.receipts': async ({ enabled }) => {
        this.#profile = { ...this.#profile, receipts: enabled };
        await this.#vault.transaction([profileStatement(this.#profile)]);
        return { enabled };
      },
      'vault.shred': async () => {
        await this.#sweepExpired();
        const report = await this.#vault.shred();
        return { rows: report.messagesRemoved, files: report.filesShredded, bytes: report.bytesOverwritten };
      },
    };
  }

  async #ownMessageChecked(id: string) {
    const found = await this.#ownMessage(id);
    const row = await this.#vault.get<{ sender_id: string }>('SELECT sender_id FROM messages WHERE message_id = ?', [id]);
    if (row?.sender_id !== this.username) throw new EngineError('FORBIDDEN', 'you can only change your own messages');
    return found;
  }

  /** An existing device that holds the account key certifies a new one and publishes the longer device list. */
  async #approve(code: string) {
    if (!this.#account) throw new EngineError('FORBIDDEN', 'this device cannot approve others: approve from the first device, or link with the recovery kit');
    const request = parseLinkCode(code);
    if (request.username !== this.username) throw new EngineError('INVALID', `that code is for @${request.username}, not @${this.username}`);
    const deviceId = deviceIdFor(request.signingPublicKey);
    const served = await this.#http.accountDevices(this.#profile.accountId);
    const pending = served.devices.find((d) => d.deviceId === deviceId);
    if (!pending || pending.status !== 'pending' || toBase64Url(pending.signingPublicKey) !== toBase64Url(request.signingPublicKey)) {
      throw new EngineError('NOT_FOUND', 'no device with that code is waiting for approval');
    }
    const now = this.#now();
    return this.#serial.run(async () => {
      const own = await this.#directory.refresh(this.username);
      const version = Math.max(own.listVersion, this.#profile.deviceListVersion, served.deviceListVersion) + 1;
      const list = signDeviceList(this.#account!, { userId: this.username, version, devices: [...own.devices, deviceId], issuedAt: now });
      const certificate = certifyDevice(this.#account!, this.username, deviceId, request.signingPublicKey, request.dhPublicKey, now);
      await this.#http.approveDevice(deviceId, signedBlob(certificate, this.#account!), signedBlob(list, this.#account!), version);
      this.#profile = { ...this.#profile, deviceListVersion: version };
      await this.#vault.transaction([profileStatement(this.#profile)]);
      await this.#directory.refresh(this.username);
      return { id: deviceId, name: deviceId.slice(0, 8), createdAt: new Date(now).toISOString(), current: false, status: 'active' as const };
    });
  }
}

// ---------------------------------------------------------------- helpers

type SendTarget = { kind: 'direct'; username: string } | { kind: 'group'; groupId: string; members: string[] } | { kind: 'channel'; channelId: string };
const MAX_GROUP_MEMBERS = 32;
const conversationIdOf = (t: SendTarget) => (t.kind === 'direct' ? directConversationId(t.username) : t.kind === 'group' ? groupConversationId(t.groupId) : channelConversationId(t.channelId));

const rotationKey = (channelId: string) => `e:rotate:${channelId}`;
const rotationFlagStatement = (channelId: string): Statement => ({ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [rotationKey(channelId), new Uint8Array(0)] });
function decodeName(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).slice(0, 256);
  } catch {
    return '(unreadable name)';
  }
}

function relayToEngine(error: unknown): never {
  if (error instanceof RelayError && (error.status === 403 || error.status === 409)) throw new EngineError('FORBIDDEN', error.message);
  if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', error.message);
  throw error;
}

function describe(error: unknown): string {
  if (error instanceof ProtocolError) return error.code;
  if (error instanceof EngineError) return error.message;
  return (error as Error)?.name ?? 'error';
}

