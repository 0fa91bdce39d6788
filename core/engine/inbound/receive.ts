// The inbound path: one batch of deliveries from the relay is decoded, checked, decrypted and committed in one
// vault transaction (with the ratchet steps that decrypted it), then acknowledged, announced and reacted to.
//
// Throughput: batches pipeline. The commit of batch k runs in the vault worker while batch k+1 decrypts (the lane's
// commitAhead), and the channel signatures of a large batch are partly checked on a verifier thread.
import type { EventPayload } from '../../api/contract.ts';
import { fromBase64Url } from '../../crypto/sodium.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { decryptEnvelope } from '../../protocol/processor.ts';
import { channelSignedBytes, type SignatureCheck } from '../../protocol/sender-keys.ts';
import { StagedProtocolStore } from '../../protocol/store.ts';
import { decodeEnvelope, type Envelope } from '../../protocol/wire.ts';
import { decodeNotice, type ServerNotice } from '../../relay/frames.ts';
import type { Statement } from '../../vault/index.ts';
import type { ChannelKeySharing } from '../channels/key-sharing.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import type { DisplayNames } from '../contacts/display-names.ts';
import { rotationFlagStatement } from '../channels/rotation.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId, refOf } from '../conversations/ref.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { conversationViews } from '../conversations/views.ts';
import { describeFailure, EngineError } from '../errors.ts';
import { ensureDirectStatement, ensureGroupStatement, messageViews } from '../history.ts';
import type { ExpiryScheduler } from '../messages/expiry.ts';
import { emitUpdated } from '../messages/views.ts';
import type { Outbound } from '../outbound/fanout.ts';
import { protocolStatements } from '../protocol-store.ts';
import { heldFrameStatement, type SenderKeyRecovery } from '../recovery/sender-keys.ts';
import type { SessionResets } from '../recovery/session-reset.ts';
import type { Delivery } from '../relay-socket.ts';
import { Serial } from '../lane/serial.ts';
import { precheckedSignatures, SignatureVerifier, type SignatureJob } from '../signature-verifier.ts';
import type { Archive } from '../retention/archive.ts';
import { activityStatements, applyPayload, type Effect } from './payloads.ts';

/** Batches at least this big have part of their channel signatures checked on the verifier thread. */
const PRECHECK_MIN_BATCH = 32;
/**
 * The first part of a batch this thread verifies itself while the worker checks the rest. With native libsodium a
 * check costs about 0.08 ms there against about 0.3 ms for everything a message needs here, which balances near 0.2.
 * Measured on the 10,000-message backlog (2 cores shared with the relay and the vault worker): shares 0.25, 0.4 and
 * 0.55, and no worker at all, all land within the run-to-run noise (3.4-4.0 s); more cores would favour the worker.
 */
const PRECHECK_LOCAL_SHARE = 0.25;

type Undecryptable = EventPayload<'message.undecryptable'>;

export interface InboundParts {
  channels: ChannelDirectory;
  channelKeys: ChannelKeySharing;
  routing: ConversationRouter;
  outbound: Outbound;
  keys: SenderKeyRecovery;
  resets: SessionResets;
  names: DisplayNames;
  expiry: ExpiryScheduler;
  /** the compliance archive's recorder (it records only on the archive's own profile) */
  archive?: Archive;
  /** the retention archive's account while retention is on (listed in direct and group conversations' members) */
  archiveAccount?: () => string | null;
  /** keeps the org key another device of this account sent (policy/org-key-backup.ts) */
  orgKeyArrived?: (seed: Uint8Array) => Promise<void>;
}

export class Inbound {
  readonly #ctx: EngineContext;
  readonly #parts: InboundParts;
  readonly #verifier = new SignatureVerifier();
  /** Post-commit work of inbound batches (acknowledge, events, follow-ups), in batch order. */
  readonly #post = new Serial();
  /** Acknowledgements of committed batches still waiting for the relay's reply (sync.now waits for them). */
  readonly #acks = new Set<Promise<void>>();
  #received = 0;

  constructor(ctx: EngineContext, parts: InboundParts) {
    this.#ctx = ctx;
    this.#parts = parts;
  }

  /** Messages stored so far (sync.now reports the difference). */
  get received(): number {
    return this.#received;
  }

  /** Resolves once every batch delivered so far is committed, acknowledged and announced. */
  async drained(): Promise<void> {
    await this.#ctx.lane.run(async () => {});
    await this.#post.run(async () => {});
    await Promise.all(this.#acks);
  }

  async close(): Promise<void> {
    await this.#post.run(async () => {});
    await this.#verifier.close();
  }

  /** One batch from the relay: decrypt all in one vault transaction, then acknowledge, then react. In the lane. */
  async receive(batch: Delivery[]): Promise<void> {
    const ctx = this.#ctx;
    // Batches follow each other through promise callbacks only; without a turn of the event loop the vault
    // worker's answers (and so the pipelined commits) would wait until the whole backlog was decrypted.
    await new Promise((resolve) => setImmediate(resolve));
    const now = ctx.now();
    for (const d of batch) ctx.clock.observeRelayTime(d.sentAt);
    const trustedNow = ctx.clock.now();
    const staged = new StagedProtocolStore(ctx.store);
    const statements: Statement[] = [];
    const effects: Effect[] = [];
    const notices: ServerNotice[] = [];
    const undecryptable: Undecryptable[] = [];
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
        // where the sender's membership log stood: a log behind it is read up to it first (it may be what let the
        // sender in), and one the relay withholds or forks is said so (channels/membership-sync.ts)
        if (incoming.channelId !== null && incoming.payload.membership) await this.#parts.channels.heads.vouched(incoming.channelId, sender, incoming.payload.membership).catch((error: Error) => ctx.problem(error));
        // the archive keeps its own record of every event, before (and whatever) the conversation does with it
        if (this.#parts.archive?.recording) statements.push(...await this.#parts.archive.record(incoming.channelId, sender, incoming.from.deviceId, incoming.payload, delivery.sentAt));
        const conversationId = await this.#parts.routing.inboundConversation(incoming.channelId, sender, incoming.payload);
        // a payload that is ignored still used its ratchet step and its id: both are committed
        staged.commit(incoming.writes);
        if (!conversationId) continue;
        if (incoming.payload.kind === 'receipt' && !ctx.profile.receipts) continue; // off means off both ways
        // only something a person wrote opens a conversation: sender keys and receipts do not
        const opens = incoming.payload.kind === 'text' || incoming.payload.kind === 'reply' || incoming.payload.kind === 'timer';
        const ref = refOf(conversationId);
        if (opens && ref.kind === 'direct') statements.push(ensureDirectStatement(ref.username));
        if (opens && ref.kind === 'group') statements.push(ensureGroupStatement(ref.groupId, incoming.payload.group!.members, ctx.username));
        if (incoming.payload.kind === 'channel-key') {
          // kept only from a member's device, committed with this batch
          const kept = await this.#parts.channelKeys.accept(sender, incoming.channelId === null, incoming.payload);
          statements.push(...kept);
          if (kept.length) effects.push({ kind: 'channel-keys-arrived', channelId: incoming.payload.channelId });
        }
        const applied = applyPayload(incoming.payload, {
          conversationId, sender, senderDevice: incoming.from.deviceId, own: sender === ctx.username, me: ctx.username, receivedAt: now,
          relayReceivedAt: delivery.sentAt, now: trustedNow, policy: ctx.policy,
        });
        statements.push(...applied.statements);
        effects.push(...applied.effects);
        if (applied.effects.some((e) => e.kind === 'received')) this.#received++;
      } catch (error) {
        undecryptable.push({ reason: describeFailure(error) });
      }
    }
    const writes = staged.takeWrites();
    const committed = ctx.lane.commitAhead(writes, [...protocolStatements(writes, now), ...statements, ...activityStatements(effects)]);
    // After the commit, outside the lane (the next batch decrypts meanwhile): acknowledge, tell the UI, react. The
    // acknowledgement is not awaited by anything that sends: a relay slow to answer must not hold up the vault.
    void this.#post.run(async () => {
      if (!(await committed)) return;
      const acked = ctx.socket.ack(batch.map((d) => d.seq)).catch((error: Error) => ctx.problem(error));
      this.#acks.add(acked);
      void acked.finally(() => this.#acks.delete(acked));
      for (const u of undecryptable) ctx.emit('message.undecryptable', u);
      await this.#afterReceive(effects, notices);
    }).catch((error: Error) => ctx.problem(error));
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
      const inbound = this.#ctx.store.inboundSenderKey(envelope.channelId, envelope.from, envelope.keyId);
      if (inbound) jobs.push({ signature: envelope.signature, message: channelSignedBytes(envelope), publicKey: inbound.signingPublicKey });
    }
    if (jobs.length === 0) return null;
    const check = this.#verifier.verifyAll(jobs).then((results) => precheckedSignatures(jobs, results), (error: Error) => {
      this.#ctx.problem(error);
      return undefined;
    });
    return { from, check };
  }

  /** The relay says who sent an envelope; the envelope says it too, and the two must agree. */
  async #checkSender(delivery: Delivery, envelope: Envelope): Promise<string> {
    const { directory } = this.#ctx;
    const claimed = await directory.usernameOf(delivery.from!.account);
    if (claimed !== envelope.from.userId || delivery.from!.device !== envelope.from.deviceId) {
      throw new EngineError('HOSTILE_SERVER', 'an envelope\'s sender does not match what the relay says about it');
    }
    if (!directory.known(claimed)?.devices.includes(envelope.from.deviceId)) await directory.refresh(claimed);
    if (envelope.kind === 'channel' && delivery.channel !== envelope.channelId) throw new EngineError('HOSTILE_SERVER', 'a channel envelope arrived under another channel');
    return claimed;
  }

  #decrypt(staged: StagedProtocolStore, delivery: Delivery, envelope: Envelope, now: number, statements: Statement[], undecryptable: Undecryptable[], checkSignature?: SignatureCheck) {
    try {
      return decryptEnvelope(staged, envelope, now, checkSignature);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (error.code === 'DUPLICATE') return null; // already shown once: never twice
      if (error.code === 'MISSING_SENDER_KEY') {
        const sender = { userId: String(error.details.userId), deviceId: String(error.details.deviceId) };
        const channelId = String(error.details.channelId);
        // kept as the relay's receipt time when earlier: its timers count from there when the key arrives
        statements.push(heldFrameStatement({ msgId: delivery.msgId, sender, channelId, body: delivery.body, receivedAt: Math.min(now, delivery.sentAt) }));
        this.#parts.keys.missing({ sender, channelId, keyId: Number(error.details.keyId) });
        undecryptable.push({ conversation: channelConversationId(channelId), sender: sender.userId, reason: 'waiting for the sender\'s key (asked for it)' });
        return null;
      }
      undecryptable.push({ ...(delivery.channel ? { conversation: channelConversationId(delivery.channel) } : {}), reason: error.code });
      if ((error.code === 'NO_SESSION' || error.code === 'DECRYPT_FAILED') && envelope.kind === 'pairwise') {
        this.#parts.resets.broken({ device: envelope.from, brokenSessionId: envelope.sessionId, reason: error.code === 'NO_SESSION' ? 'no-session' : 'decrypt-failed' });
      }
      return null;
    }
  }

  async #afterReceive(effects: Effect[], notices: ServerNotice[]): Promise<void> {
    const ctx = this.#ctx;
    const { keys, resets, outbound, channels, channelKeys } = this.#parts;
    const received: string[] = [];
    const keyed = new Set<string>();
    const updated: string[] = [];
    const timersSet = new Set<string>();
    const receipts = new Map<string, string[]>();
    for (const effect of effects) {
      switch (effect.kind) {
        case 'received': received.push(effect.messageId); break;
        case 'updated': updated.push(effect.messageId); break;
        case 'notice': received.push(effect.messageId); break;
        case 'deadline': updated.push(...effect.messageIds); break;
        case 'timer-set': timersSet.add(effect.conversationId); break;
        case 'status': updated.push(...effect.messageIds); break;
        case 'removed': ctx.emit('message.removed', { id: effect.messageId, conversation: effect.conversationId, reason: 'deleted' }); break;
        case 'sender-key-arrived': keys.keyArrived(); break;
        case 'sender-key-request': keys.asked(effect.requester, effect.channelId, effect.keyId); break;
        case 'channel-key-request': channelKeys.asked(effect.requester, effect.channelId, effect.keyId); break;
        case 'channel-keys-arrived': keyed.add(effect.channelId); break;
        case 'delivered-receipt': break;
        case 'profile': await this.#parts.names.arrived(effect.username, effect.displayName).catch((error: Error) => ctx.problem(error)); break;
        case 'org-key': await this.#parts.orgKeyArrived?.(effect.seed).catch((error: Error) => ctx.problem(error)); break;
      }
    }
    const views = await messageViews(ctx.vault, received);
    for (const view of views) {
      ctx.emit('message.received', view);
      if (!view.outgoing && refOf(view.conversation).kind === 'direct' && ctx.profile.receipts) receipts.set(view.sender, [...(receipts.get(view.sender) ?? []), view.id]);
    }
    // a reply in a thread changes its root's count of replies
    await emitUpdated(ctx, [...updated, ...views.flatMap((v) => (v.threadRoot ? [v.threadRoot] : []))]);
    // Every conversation that received messages, as it is now that they are committed: its counts, read after the
    // commit, include them (a view read before it, by conversations.list or when a channel's keys arrived, may or may
    // not have), so a window takes the counts from here rather than adding up events. A new timer too.
    const changed = new Set([...timersSet, ...effects.flatMap((e) => (e.kind === 'received' && !e.outgoing ? [e.conversationId] : []))]);
    for (const id of changed) {
      for (const view of await conversationViews(ctx, channels, this.#parts.routing, 'id = ?', [id], this.#parts.archiveAccount?.() ?? null)) ctx.emit('conversation.updated', view);
    }
    if (received.length || updated.length) await this.#parts.expiry.rearm(); // a timer may have arrived or started
    for (const notice of notices) await channels.onNotice(notice).catch((error: Error) => ctx.problem(error));
    if (keyed.size) await channels.keysArrived([...keyed]).catch((error: Error) => ctx.problem(error));
    // follow-ups that send: answers to key requests, our own key requests, delivery receipts, held frames
    // Only follow-ups that send need the lane; a batch without any must not queue behind the next batch's decrypt.
    if (receipts.size || keys.hasRequests || resets.due || channelKeys.hasRequests) {
      await ctx.lane.run(async () => {
        for (const [user, ids] of receipts) await outbound.queueControl(user, { kind: 'receipt', receipt: 'delivered', targets: ids.map(fromBase64Url) }).catch((error: Error) => ctx.problem(error));
        await keys.sendRequests();
        await channelKeys.sendRequests();
        await resets.resetBroken();
      });
    }
    if (keys.retryDue) {
      const retried = await ctx.lane.run(() => keys.retryHeldFrames());
      if (retried.length) await this.#afterReceive(retried, []);
    }
    outbound.flushSoon();
  }
}
