// Retention as every participant's device sees it: on or off, and which account is the archive, taken only from the
// org-signed policy (so a relay can neither turn it on in secret nor hide it). While it is on, this device copies
// everything a person writes to the archive's devices (outbound/fanout.ts asks copiesTo), adds the archive to the
// channels it manages, and shows a permanent notice; each change is announced in every conversation. The archive's
// own device joins, citing the signed policy, every channel no manager has added it to. While it is off, the
// archive gets no channel keys from us, whoever put it in a channel.
import { fromUtf8, toBase64Url, utf8 } from '../../crypto/sodium.ts';
import { newMessageId } from '../../protocol/processor.ts';
import type { Statement } from '../../vault/index.ts';
import type { ChannelKeySharing } from '../channels/key-sharing.ts';
import type { ChannelDirectory } from '../channels/members.ts';
import { rotationFlagStatement } from '../channels/rotation.ts';
import type { EngineContext } from '../context.ts';
import { conversationRows, messageViews, noticeStatement } from '../history.ts';
import type { SignedBlob } from '../relay-http.ts';

/** The permanent notice: what a participant must know while retention is on. */
export const RETENTION_NOTICE = 'Retention is on in this workspace: the organisation\'s archive keeps a copy of every message, edit, deletion and attachment';

/** The policy's retention fields as the org signed them (anything else is ignored here). */
export interface RetentionFields {
  version?: number;
  retention?: unknown;
  archiveAccount?: unknown;
}

/** The org policy as this device holds it (policy/policy.ts): in force, signed, and fetched afresh on request. */
export interface PolicySource {
  readonly current: RetentionFields;
  readonly signed: SignedBlob | null;
  /** fetches and verifies it afresh (a refused one leaves it as it was) */
  refresh(): Promise<unknown>;
}

export interface RetentionState {
  on: boolean;
  archiveAccount: string | null;
}

/** What the last announcement said, so each change is announced once on this device (and a restart announces none). */
const ANNOUNCED_KEY = 'e:retention-announced';
const ARCHIVE_MODE_KEY = 'e:archive-mode';

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;

export function retentionOf(policy: RetentionFields): RetentionState {
  const archiveAccount = typeof policy.archiveAccount === 'string' && USERNAME.test(policy.archiveAccount) ? policy.archiveAccount : null;
  // on only with an archive to send to: a policy that names none keeps nothing anywhere
  return { on: policy.retention === true && archiveAccount !== null, archiveAccount };
}

export class Retention {
  readonly #ctx: EngineContext;
  readonly #channels: ChannelDirectory;
  readonly #sharing: ChannelKeySharing;
  readonly #policy: PolicySource;
  #archiveMode = false;
  #joining: Promise<number> | null = null;
  /** What else is committed with an announcement (the compliance archive's record of it). */
  #recorder: (on: boolean, policyVersion: number) => Statement[] = () => [];

  constructor(ctx: EngineContext, channels: ChannelDirectory, sharing: ChannelKeySharing, policy: PolicySource) {
    this.#ctx = ctx;
    this.#channels = channels;
    this.#sharing = sharing;
    this.#policy = policy;
  }

  recordWith(recorder: (on: boolean, policyVersion: number) => Statement[]): void {
    this.#recorder = recorder;
  }

  /** The state after asking the relay for the newest policy (what whoami shows: a notice must not lag behind). */
  async current(): Promise<RetentionState & { notice: string | null }> {
    await this.#policy.refresh().catch((error: Error) => this.#ctx.problem(error));
    return { ...this.state, notice: this.notice };
  }

  /** Reads what this profile remembers (archive mode) before anything is received. */
  async load(): Promise<void> {
    this.#archiveMode = (await this.#ctx.vault.get('SELECT 1 AS x FROM kv WHERE key = ?', [ARCHIVE_MODE_KEY])) !== undefined;
  }

  get state(): RetentionState {
    return retentionOf(this.#policy.current);
  }

  /** The notice a participant sees while retention is on (null while it is off). */
  get notice(): string | null {
    return this.state.on ? RETENTION_NOTICE : null;
  }

  /** The account that gets a copy of everything this device sends, or null (off, or this is the archive). */
  copiesTo(): string | null {
    const { on, archiveAccount } = this.state;
    return on && archiveAccount !== this.#ctx.username ? archiveAccount : null;
  }

  /** The archive gets no sender keys while retention is off, even if a relay (or anyone) put it in a channel. */
  withheldFrom(username: string): boolean {
    const { on, archiveAccount } = this.state;
    return !on && username === archiveAccount;
  }

  /**
   * Whether this profile records what it receives as the archive: the policy names it, or it was started as one
   * (`wardroom archive run` or `sync`), which it remembers so that no engine opening it misses a copy.
   */
  get archiving(): boolean {
    return this.#archiveMode || this.state.archiveAccount === this.#ctx.username;
  }

  async enterArchiveMode(): Promise<void> {
    if (this.#archiveMode) return;
    await this.#ctx.vault.transaction([{ sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [ARCHIVE_MODE_KEY, utf8('1')] }]);
    this.#archiveMode = true;
  }

  /**
   * The policy this device holds changed (or the engine opened): a change of retention is announced in every
   * conversation, and the channels this user manages follow it. Safe to call any number of times.
   */
  async policyChanged(): Promise<void> {
    const ctx = this.#ctx;
    const state = this.state;
    const row = await ctx.vault.get<{ value: Uint8Array }>('SELECT value FROM kv WHERE key = ?', [ANNOUNCED_KEY]);
    const announced = row ? fromUtf8(row.value) === 'on' : false;
    if (state.on !== announced) await this.#announce(state);
    await this.followInChannels();
  }

  async #announce(state: RetentionState): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const notice = state.on ? 'retention-on' : 'retention-off';
    const rows = await conversationRows(ctx.vault);
    const ids = rows.map(() => toBase64Url(newMessageId()));
    await ctx.vault.transaction([
      ...rows.map((r, i) => noticeStatement(r.id, ids[i]!, state.archiveAccount ?? ctx.username, notice, now)),
      { sql: 'INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)', params: [ANNOUNCED_KEY, utf8(state.on ? 'on' : 'off')] },
      ...this.#recorder(state.on, this.#policy.current.version ?? 0),
      // off: every channel gets a new sender key at its next message, which the archive is not given
      ...(state.on ? [] : rows.filter((r) => r.kind === 'channel').map((r) => rotationFlagStatement(r.remote_id))),
    ]);
    for (const view of await messageViews(ctx.vault, ids)) ctx.emit('message.received', view);
    ctx.log(`retention ${state.on ? 'on' : 'off'}: announced in ${rows.length} conversations`);
  }

  /** In every channel this user owns or administers: the archive is a member while retention is on, and not after. */
  async followInChannels(): Promise<void> {
    const ctx = this.#ctx;
    const { on, archiveAccount } = this.state;
    if (archiveAccount === null || archiveAccount === ctx.username) return;
    const managed = await conversationRows(ctx.vault, "kind = 'channel' AND member = 1 AND role IN ('owner', 'admin')");
    if (managed.length === 0) return;
    const archive = await ctx.directory.accountIdOf(archiveAccount);
    for (const row of managed) {
      try {
        const channel = await this.#channels.channel(row.remote_id, true);
        if (!channel || channel.members.has(archiveAccount) === on) continue;
        if (on) await this.#addArchive(row.remote_id, archive, archiveAccount);
        else {
          // signed in the channel's membership log like any removal, so every member sees who took the archive out
          await this.#channels.logs.change(row.remote_id, { change: 'remove', targets: [archiveAccount] }, (log) => ctx.http.removeMember(row.remote_id, archive, log));
          await ctx.vault.transaction([rotationFlagStatement(row.remote_id)]);
        }
      } catch (error) {
        ctx.problem(error as Error); // another manager may have done it first; the next change tries again
      }
    }
  }

  /**
   * On the archive's own profile, while retention is on: it joins every channel it is not in yet, by a membership
   * entry it signs itself citing the signed policy that names it. So no channel goes unrecorded because its owners
   * and admins are offline; every member checks the policy under its pinned org key and sees "archive joined".
   * Run by archive.sync (every few seconds under `archive run`), so managers who are online add it first.
   */
  joinAsArchive(): Promise<number> {
    this.#joining ??= this.#joinAll().finally(() => (this.#joining = null));
    return this.#joining;
  }

  async #joinAll(): Promise<number> {
    const ctx = this.#ctx;
    const { on, archiveAccount } = this.state;
    const signed = this.#policy.signed;
    if (!on || archiveAccount !== ctx.username || signed === null) return 0;
    let joined = 0;
    // the relay lists every channel to the archive the policy names; one it hides stays unrecorded, as it could
    // withhold the channel's messages anyway: it cannot make anyone send to a reader they have not verified
    for (const channel of await ctx.http.listChannels()) {
      if (channel.role !== null) continue;
      try {
        await this.#channels.logs.change(channel.channelId, { change: 'join', targets: [ctx.username], retention: signed }, (log) => ctx.http.joinChannel(channel.channelId, log));
        joined++;
      } catch (error) {
        ctx.problem(error as Error); // a manager may have added it meanwhile; the next sync tries again
      }
    }
    if (joined) {
      await this.#channels.sync();
      ctx.log(`archive: joined ${joined} channels by the retention policy`);
    }
    return joined;
  }

  /** A channel created while retention is on has the archive in it from the start. */
  async channelCreated(channelId: string): Promise<void> {
    const { archiveAccount } = this.state;
    if (this.copiesTo() === null || archiveAccount === null) return;
    await this.#addArchive(channelId, await this.#ctx.directory.accountIdOf(archiveAccount), archiveAccount);
  }

  async #addArchive(channelId: string, accountId: string, username: string): Promise<void> {
    // a signed entry of the membership log, as any addition: members see who added the archive, and no one else can
    await this.#channels.logs.change(channelId, { change: 'add', targets: [username] }, (log) => this.#ctx.http.addMembers(channelId, [accountId], log));
    // it reads the channel's name like any member
    await this.#ctx.lane.run(() => this.#sharing.shareWith(channelId, [username]));
  }
}
