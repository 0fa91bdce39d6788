// The profiles in an app data directory, each a subdirectory holding one vault, and the engines of those that are
// open. One process can hold a profile locked and unlock it again: locking stops its engine and closes the vault,
// so its keys leave memory. Idle locking counts from the last activity the front end reported.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/contract.ts';
import { checkedCall } from '../api/dispatch.ts';
import { hostCommands, hostEvents, type HostCommandName, type HostEventName, type ProfileViewT, ProfileName } from '../api/host.ts';
import type { EngineHost, OpenEngine } from '../api/host.ts';
import { createEngineHost, type HostOptions } from '../engine/host.ts';
import { destroyVault, vaultExists } from '../vault/index.ts';

type State = ProfileViewT['state'];
type Reason = 'requested' | 'idle' | 'system' | 'failed';

interface Held {
  state: State;
  engine?: OpenEngine;
  username?: string;
  /** cancels a link in progress */
  linking?: AbortController;
  lockAfterSeconds: number;
  offSettings?: () => void;
}

export interface ProfileHostOptions extends HostOptions {
  /** the app data directory: one subdirectory per profile */
  root: string;
  /** how engines are started (default: the real engine); the CLI hands in its own lazily loaded one */
  engines?: EngineHost;
  now?: () => number;
  /** how often idle locking looks at the clock */
  idleCheckMs?: number;
  log?: (line: string) => void;
  /** an invite the first screen offers (app.welcome) while the directory holds no profile: an embedded relay's first admin invite */
  firstInvite?: string;
}

type Listener = (payload: unknown, seq: number) => void;

export class ProfileHost {
  readonly #root: string;
  readonly #engines: EngineHost;
  readonly #held = new Map<string, Held>();
  readonly #listeners = new Map<HostEventName, Set<Listener>>();
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #idleTimer: NodeJS.Timeout;
  readonly #firstInvite: string | undefined;
  #lastActivity: number;
  #seq = 0;

  constructor(options: ProfileHostOptions) {
    this.#root = path.resolve(options.root);
    this.#engines = options.engines ?? createEngineHost(options);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#firstInvite = options.firstInvite;
    this.#lastActivity = this.#now();
    this.#idleTimer = setInterval(() => void this.#lockIdle(), options.idleCheckMs ?? 5_000);
    this.#idleTimer.unref();
  }

  /** The directory a profile lives in; the name is checked, so it can never point outside the root. */
  dirOf(name: string): string {
    const parsed = ProfileName.safeParse(name);
    if (!parsed.success) throw new ApiError('BAD_REQUEST', parsed.error.issues[0]!.message);
    return path.join(this.#root, parsed.data);
  }

  engineOf(name: string): OpenEngine | undefined {
    return this.#held.get(name)?.engine;
  }

  view(name: string): ProfileViewT {
    const held = this.#held.get(name);
    return { name, state: held?.state ?? 'locked', ...(held?.username ? { username: held.username } : {}) };
  }

  list(): ProfileViewT[] {
    const names = new Set(this.#held.keys());
    if (existsSync(this.#root)) {
      for (const entry of readdirSync(this.#root, { withFileTypes: true })) {
        if (entry.isDirectory() && ProfileName.safeParse(entry.name).success && vaultExists(path.join(this.#root, entry.name))) names.add(entry.name);
      }
    }
    return [...names].sort().map((n) => this.view(n));
  }

  on(name: HostEventName, listener: Listener): () => void {
    const set = this.#listeners.get(name) ?? new Set();
    this.#listeners.set(name, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  #emit(name: HostEventName, payload: unknown): void {
    const checked = hostEvents[name].parse(payload);
    this.#seq += 1;
    for (const listener of this.#listeners.get(name) ?? []) listener(checked, this.#seq);
  }

  #setState(name: string, state: State, reason?: Reason): void {
    const held = this.#held.get(name) ?? { state, lockAfterSeconds: 0 };
    held.state = state;
    this.#held.set(name, held);
    this.#emit('profile.state', { profile: name, state, ...(reason ? { reason } : {}) });
  }

  /** Marks a profile busy for the length of `task`, so two front ends cannot unlock or enrol it at once. */
  #claim(name: string, state: 'unlocking' | 'linking'): Held {
    const current = this.#held.get(name)?.state;
    if (current === 'open') throw new ApiError('CONFLICT', `the profile ${name} is already open`);
    if (current === 'unlocking' || current === 'linking') throw new ApiError('CONFLICT', `the profile ${name} is busy (${current})`);
    this.#setState(name, state);
    return this.#held.get(name)!;
  }

  async #opened(name: string, held: Held, engine: OpenEngine): Promise<ProfileViewT> {
    this.#lastActivity = this.#now(); // opening is activity: the idle clock starts now, not at the last use
    held.engine = engine;
    held.linking = undefined;
    try {
      held.username = (await engine.api.call('account.whoami', {})).username;
      held.lockAfterSeconds = (await engine.api.call('settings.get', {})).lockAfterSeconds;
      held.offSettings = engine.api.on('settings.changed', (s) => {
        held.lockAfterSeconds = s.lockAfterSeconds;
      });
    } catch (error) {
      this.#log(`profile ${name}: reading its settings failed: ${(error as Error).message}`);
    }
    this.#setState(name, 'open');
    return this.view(name);
  }

  async #failed(name: string, error: unknown): Promise<never> {
    this.#held.delete(name);
    this.#emit('profile.state', { profile: name, state: 'locked', reason: 'failed' });
    throw error;
  }

  /** Without a passphrase, the engine host's keystore is asked. */
  async unlock(name: string, passphrase?: string): Promise<ProfileViewT> {
    const dir = this.dirOf(name);
    const held = this.#claim(name, 'unlocking');
    try {
      return await this.#opened(name, held, await this.#engines.open(dir, passphrase));
    } catch (error) {
      return this.#failed(name, error);
    }
  }

  async join(name: string, link: string, username: string, passphrase: string): Promise<{ profile: ProfileViewT; recoveryKit: string }> {
    const dir = this.dirOf(name);
    const held = this.#claim(name, 'unlocking');
    try {
      mkdirSync(this.#root, { recursive: true, mode: 0o700 });
      const joined = await this.#engines.join(dir, link, username, passphrase);
      return { profile: await this.#opened(name, held, joined), recoveryKit: joined.recoveryKit };
    } catch (error) {
      return this.#failed(name, error);
    }
  }

  async link(name: string, link: string, username: string, passphrase: string, recoveryKit: string | undefined): Promise<ProfileViewT> {
    const dir = this.dirOf(name);
    const held = this.#claim(name, 'linking');
    const cancel = new AbortController();
    held.linking = cancel;
    try {
      mkdirSync(this.#root, { recursive: true, mode: 0o700 });
      const linked = await this.#engines.link(dir, link, username, passphrase, { ...(recoveryKit ? { recoveryKit } : {}), signal: cancel.signal }, (code) => {
        if (!recoveryKit) this.#emit('profile.linkCode', { profile: name, code });
      });
      return await this.#opened(name, held, linked);
    } catch (error) {
      return this.#failed(name, cancel.signal.aborted ? new ApiError('CANCELLED', 'linking was cancelled') : error);
    }
  }

  /** Stops the profile's engine (closing its vault: the keys leave memory), or cancels a link in progress. */
  async lock(name: string, reason: Reason = 'requested'): Promise<ProfileViewT> {
    const held = this.#held.get(name);
    if (!held) return this.view(name);
    if (held.linking) {
      held.linking.abort();
      return this.view(name);
    }
    if (!held.engine) return this.view(name);
    const engine = held.engine;
    held.engine = undefined;
    held.offSettings?.();
    await engine.close().catch((error: Error) => this.#log(`profile ${name}: closing failed: ${error.message}`));
    this.#setState(name, 'locked', reason);
    return this.view(name);
  }

  async remove(name: string): Promise<void> {
    const dir = this.dirOf(name);
    const state = this.#held.get(name)?.state;
    if (state && state !== 'locked') throw new ApiError('CONFLICT', `lock the profile ${name} before removing it`);
    if (!vaultExists(dir)) throw new ApiError('NOT_FOUND', `no profile named ${name}`);
    await destroyVault(dir).catch((error: { code?: string }) => {
      if (error.code === 'LOCKED_BY_OTHER_PROCESS') throw new ApiError('LOCKED', `the profile ${name} is open in another Wardroom process`);
      throw error;
    });
    this.#held.delete(name);
  }

  activity(): void {
    this.#lastActivity = this.#now();
  }

  async lockAll(reason: Reason): Promise<void> {
    await Promise.all([...this.#held.keys()].map((name) => this.lock(name, reason)));
  }

  async #lockIdle(): Promise<void> {
    const idle = this.#now() - this.#lastActivity;
    for (const [name, held] of this.#held) {
      if (held.state === 'open' && held.engine && held.lockAfterSeconds > 0 && idle >= held.lockAfterSeconds * 1000) await this.lock(name, 'idle');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#idleTimer);
    await this.lockAll('system');
  }

  /** The host's side of the contract, checked by the same code as the engine's commands. */
  call(name: HostCommandName, request: unknown, session: { select(name: string): void; current(): string | undefined }): Promise<unknown> {
    const handlers: Record<HostCommandName, (r: never) => Promise<unknown>> = {
      'profiles.list': async () => ({ profiles: this.list(), ...(session.current() ? { current: session.current() } : {}) }),
      'profiles.join': async (r: { profile: string; link: string; username: string; passphrase: string }) => {
        const joined = await this.join(r.profile, r.link, r.username, r.passphrase);
        session.select(r.profile);
        return joined;
      },
      'profiles.link': async (r: { profile: string; link: string; username: string; passphrase: string; recoveryKit?: string }) => {
        const profile = await this.link(r.profile, r.link, r.username, r.passphrase, r.recoveryKit);
        session.select(r.profile);
        return { profile };
      },
      'profiles.unlock': async (r: { profile: string; passphrase?: string }) => {
        const view = await this.unlock(r.profile, r.passphrase);
        session.select(r.profile);
        return view;
      },
      'profiles.select': async (r: { profile: string }) => {
        if (!this.engineOf(r.profile)) throw new ApiError('LOCKED', `the profile ${r.profile} is locked: unlock it first`);
        session.select(r.profile);
        return this.view(r.profile);
      },
      'profiles.lock': async (r: { profile: string }) => this.lock(r.profile),
      'profiles.remove': async (r: { profile: string }) => {
        await this.remove(r.profile);
        return {};
      },
      'app.activity': async () => {
        this.activity();
        return {};
      },
      'app.lockAll': async () => {
        await this.lockAll('system');
        return {};
      },
      'app.welcome': async () => (this.#firstInvite && this.list().length === 0 ? { invite: this.#firstInvite } : {}),
    };
    const handler = handlers[name] as (r: unknown) => Promise<unknown>;
    return checkedCall(name, hostCommands[name], handler, request, (command, error) => this.#log(`host command ${command} failed: ${(error as Error)?.stack ?? String(error)}`));
  }
}
