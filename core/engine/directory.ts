// Who is who: usernames, the relay's account ids, and the signed device lists this device has accepted. The relay
// serves all of it, so nothing is taken on its word: the username inside an account's self-signed device list must
// match the directory entry, a list must be newer than the one we hold, and an account key that changes is
// accepted only with a loud key-change event (and the contact loses its verified mark).
import { ProtocolError } from '../protocol/errors.ts';
import { applyDeviceList, decodeDeviceList, type KnownAccount } from '../protocol/identity.ts';
import { concatBytes, DH_BYTES, SIGNATURE_BYTES } from '../crypto/sodium.ts';
import { ML_KEM_768_PUBLIC_KEY_BYTES } from '../crypto/ml-kem.ts';
import { verifyPrekeyBundle, type PrekeyBundle, type PublicSignedPrekey } from '../protocol/prekeys.ts';
import type { NewSession } from '../protocol/processor.ts';
import type { DeviceAddress } from '../protocol/wire.ts';
import type { SqlExecutor, Statement } from '../vault/index.ts';
import { protocolStatements, type VaultProtocolStore } from './protocol-store.ts';
import { RelayError, type RelayHttp } from './relay-http.ts';
import { EngineError } from './errors.ts';

/** A session to start, with the device it is for (checked by verifyPrekeyBundle against the bundle's certificate). */
export type StartedSession = NewSession & { device: DeviceAddress };

export interface DirectoryEvents {
  keyChanged(username: string, wasVerified: boolean): void;
  deviceAdded(username: string, deviceId: string): void;
  devicesRemoved(username: string, deviceIds: string[]): void;
}

/** Whether the identity key we hold for someone is one the user accepted: changed keys wait for the user. */
export type IdentityState = 'accepted' | 'changed' | 'changed-while-verified';
const IDENTITY_CODES: Record<IdentityState, number> = { accepted: 0, changed: 1, 'changed-while-verified': 2 };
const identityOf = (code: number): IdentityState => (code === 2 ? 'changed-while-verified' : code === 1 ? 'changed' : 'accepted');

interface Person {
  accountId: string;
  verified: boolean;
  identity: IdentityState;
}

const personStatement = (username: string, person: Person): Statement => ({
  sql: `INSERT INTO people (username, account_id, verified, identity_changed) VALUES (?, ?, ?, ?) ON CONFLICT (username)
        DO UPDATE SET account_id = excluded.account_id, verified = excluded.verified, identity_changed = excluded.identity_changed`,
  params: [username, person.accountId, person.verified ? 1 : 0, IDENTITY_CODES[person.identity]],
});

/**
 * Prekeys travel as opaque bytes through the relay: a signed prekey is its public key (32) || signature (64), an
 * ML-KEM prekey its public key (1,184) || signature (64), a one-time or last-resort X25519 prekey its key (32).
 */
export function encodeSignedPrekey(publicKey: Uint8Array, signature: Uint8Array): Uint8Array {
  return concatBytes(publicKey, signature);
}

/** The relay's bytes as a signed key, or null when they are not the length one must have. */
function decodeSignedPrekey(keyId: number, data: Uint8Array, keyBytes: number): PublicSignedPrekey | null {
  if (data.length !== keyBytes + SIGNATURE_BYTES) return null;
  return { id: keyId, publicKey: data.subarray(0, keyBytes), signature: data.subarray(keyBytes) };
}

export class Directory {
  readonly #http: RelayHttp;
  readonly #sql: SqlExecutor;
  readonly #store: VaultProtocolStore;
  readonly #events: DirectoryEvents;
  readonly #people = new Map<string, Person>();
  readonly #usernames = new Map<string, string>();
  /** Device certificates (protocol blobs) seen with the latest list, for building prekey bundles. */
  readonly #certificates = new Map<string, Map<string, Uint8Array>>();

  private constructor(http: RelayHttp, sql: SqlExecutor, store: VaultProtocolStore, events: DirectoryEvents) {
    this.#http = http;
    this.#sql = sql;
    this.#store = store;
    this.#events = events;
  }

  static async load(http: RelayHttp, sql: SqlExecutor, store: VaultProtocolStore, events: DirectoryEvents): Promise<Directory> {
    const directory = new Directory(http, sql, store, events);
    for (const row of await sql.all<{ username: string; account_id: string; verified: number; identity_changed: number }>('SELECT username, account_id, verified, identity_changed FROM people')) {
      directory.#remember(row.username, { accountId: row.account_id, verified: row.verified === 1, identity: identityOf(row.identity_changed) });
    }
    return directory;
  }

  #remember(username: string, person: Person): void {
    this.#people.set(username, person);
    this.#usernames.set(person.accountId, username);
  }

  known(username: string): KnownAccount | null {
    return this.#store.knownAccount(username);
  }

  isVerified(username: string): boolean {
    return this.#people.get(username)?.verified ?? false;
  }

  /** Marking a contact verified also accepts its current identity key (the user compared that very key). */
  async setVerified(username: string, verified: boolean): Promise<void> {
    const person = this.#people.get(username);
    if (!person) throw new EngineError('NOT_FOUND', `no contact @${username}`);
    const next = { ...person, verified, identity: verified ? 'accepted' as const : person.identity };
    await this.#sql.transaction([personStatement(username, next)]);
    this.#remember(username, next);
  }

  identity(username: string): IdentityState {
    return this.#people.get(username)?.identity ?? 'accepted';
  }

  /**
   * The user accepts a changed identity key. Only a local command reaches here, so a relay cannot make a client
   * accept. A contact that was verified must be verified again (setVerified) instead: accepting alone is refused.
   */
  async acceptIdentity(username: string): Promise<void> {
    const person = this.#people.get(username);
    if (!person) throw new EngineError('NOT_FOUND', `no contact @${username}`);
    if (person.identity === 'changed-while-verified') {
      throw new EngineError('FORBIDDEN', `@${username} was verified: compare the new safety number with them and mark it verified again`);
    }
    const next = { ...person, identity: 'accepted' as const };
    await this.#sql.transaction([personStatement(username, next)]);
    this.#remember(username, next);
  }

  async accountIdOf(username: string): Promise<string> {
    const person = this.#people.get(username);
    if (person) return person.accountId;
    const entry = await this.#http.directory(username).catch((error: unknown) => {
      // A name nobody has is the user's mistake (`channel add ops nobody`), not an engine failure.
      if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', `no user @${username} in this organisation`);
      throw error;
    });
    if (entry.username !== username) throw new EngineError('HOSTILE_SERVER', 'the relay answered a directory look-up with another user');
    await this.#sql.transaction([personStatement(username, { accountId: entry.accountId, verified: false, identity: 'accepted' })]);
    this.#remember(username, { accountId: entry.accountId, verified: false, identity: 'accepted' });
    return entry.accountId;
  }

  /** The username behind a relay account id: read from the account's self-signed list, then checked in the directory. */
  async usernameOf(accountId: string): Promise<string> {
    const cached = this.#usernames.get(accountId);
    if (cached) return cached;
    const devices = await this.#http.accountDevices(accountId);
    if (!devices.deviceList) throw new EngineError('HOSTILE_SERVER', 'the relay served an account without a device list');
    const claimed = decodeDeviceList(devices.deviceList.data).list.userId;
    if ((await this.accountIdOf(claimed)) !== accountId) throw new EngineError('HOSTILE_SERVER', 'an account\'s device list names a user the directory gives another account');
    return claimed;
  }

  async ensure(username: string): Promise<KnownAccount> {
    return this.known(username) ?? this.refresh(username);
  }

  /** Fetches the account's current device list and accepts it if it is valid and not older than ours. */
  async refresh(username: string): Promise<KnownAccount> {
    const accountId = await this.accountIdOf(username);
    const reply = await this.#http.accountDevices(accountId);
    const known = this.known(username);
    if (!reply.deviceList) {
      if (known) return known;
      throw new EngineError('NOT_FOUND', `@${username} has no published devices`);
    }
    let outcome;
    try {
      outcome = applyDeviceList(known, username, reply.deviceList.data);
    } catch (error) {
      // a stale or conflicting list from the relay changes nothing we hold
      if (known && error instanceof ProtocolError && error.code === 'STALE_DEVICE_LIST') return known;
      throw error;
    }
    const certificates = new Map<string, Uint8Array>();
    for (const device of reply.devices) if (device.certificate) certificates.set(device.deviceId, device.certificate.data);
    this.#certificates.set(username, certificates);
    if (outcome.kind === 'unchanged') return known!;

    const person = this.#people.get(username)!;
    const wasVerified = person.verified;
    // a changed key waits for the user; one that changed while verified waits for a new verification
    const changed: Person = { ...person, verified: false, identity: wasVerified || person.identity === 'changed-while-verified' ? 'changed-while-verified' : 'changed' };
    const statements = protocolStatements([{ kind: 'known-account', entry: outcome.entry }]);
    if (outcome.kind === 'key-changed') statements.push(personStatement(username, changed));
    await this.#sql.transaction(statements);
    this.#store.commit([{ kind: 'known-account', entry: outcome.entry }]);
    if (outcome.kind === 'key-changed') {
      // a new account key means every device is new: old sessions and sender keys must not be used again
      this.#remember(username, changed);
      this.#events.keyChanged(username, wasVerified);
      this.#events.devicesRemoved(username, known!.devices);
      for (const deviceId of outcome.entry.devices) this.#events.deviceAdded(username, deviceId);
    } else if (outcome.kind === 'updated') {
      for (const deviceId of outcome.added) this.#events.deviceAdded(username, deviceId);
      if (outcome.removed.length) this.#events.devicesRemoved(username, outcome.removed);
    }
    return outcome.entry;
  }

  /**
   * Fresh sessions for devices we have none with: claims a prekey bundle per device from the relay and checks
   * each against the device list we accepted. A device whose bundle is missing or invalid is left out (it can ask
   * for what it missed later); one bad bundle never blocks the others.
   */
  async newSessions(targets: readonly DeviceAddress[], report: (error: Error) => void): Promise<StartedSession[]> {
    const byUser = new Map<string, string[]>();
    for (const t of targets) byUser.set(t.userId, [...(byUser.get(t.userId) ?? []), t.deviceId]);
    const sessions: StartedSession[] = [];
    for (const [username, deviceIds] of byUser) {
      let known = await this.ensure(username);
      if (!deviceIds.every((d) => this.#certificates.get(username)?.has(d))) known = await this.refresh(username);
      // whatever asked for the session: none starts with an identity key the user has not accepted (the refresh
      // just now may be what changed it)
      if (this.identity(username) !== 'accepted') {
        report(new EngineError('FORBIDDEN', `@${username}'s identity key changed and is not accepted yet: no session starts with it`));
        continue;
      }
      let claimed;
      try {
        claimed = await this.#http.claimPrekeys(await this.accountIdOf(username), deviceIds);
      } catch (error) {
        // the relay's limit on claims (a burst far above a normal client's): that person waits, the others do not
        if (!(error instanceof RelayError && error.code === 'rate_limited')) throw error;
        report(error);
        continue;
      }
      for (const bundle of claimed.bundles) {
        const certificate = this.#certificates.get(username)?.get(bundle.deviceId);
        // only devices we asked for, each once, whatever the relay answered
        if (!certificate || !bundle.signedPrekey || !deviceIds.includes(bundle.deviceId) || sessions.some((s) => s.device.userId === username && s.device.deviceId === bundle.deviceId)) continue;
        try {
          const signedPrekey = decodeSignedPrekey(bundle.signedPrekey.keyId, bundle.signedPrekey.data, DH_BYTES);
          const kemPrekey = bundle.kemPrekey && decodeSignedPrekey(bundle.kemPrekey.keyId, bundle.kemPrekey.data, ML_KEM_768_PUBLIC_KEY_BYTES);
          const oneTimePrekey = bundle.oneTimePrekey && { id: bundle.oneTimePrekey.keyId, publicKey: bundle.oneTimePrekey.data };
          if (!signedPrekey || (bundle.kemPrekey && !kemPrekey) || (oneTimePrekey && oneTimePrekey.publicKey.length !== DH_BYTES)) throw new EngineError('HOSTILE_SERVER', 'malformed prekey bundle');
          const candidate: PrekeyBundle = { certificate, signedPrekey, oneTimePrekey, kemPrekey };
          // refuses a bad ML-KEM signature, and a bundle stripped of the ML-KEM prekey its device publishes (PQ_REQUIRED)
          verifyPrekeyBundle(known, candidate);
          sessions.push({ known, bundle: candidate, device: { userId: username, deviceId: bundle.deviceId } });
        } catch (error) {
          report(error as Error);
        }
      }
    }
    return sessions;
  }

  /** The account key we hold for a user, for safety numbers. */
  accountKey(username: string): Uint8Array {
    const known = this.known(username);
    if (!known) throw new EngineError('NOT_FOUND', `no keys known for @${username} yet`);
    return known.accountPublicKey;
  }
}
