// What every engine feature shares: the vault, the protocol state, the relay clients, the one commit lane, the
// clock and the way out to the UI (events) and the log. engine.ts builds one and hands it to each feature module,
// so features depend on this shape rather than on each other's internals.
import type { EventName, EventPayload } from '../api/contract.ts';
import type { AccountIdentity } from '../protocol/identity.ts';
import type { DeviceAddress } from '../protocol/wire.ts';
import type { Vault } from '../vault/index.ts';
import type { Directory } from './directory.ts';
import type { CommitLane } from './lane/commit-lane.ts';
import type { Outbox } from './outbox.ts';
import type { PolicyDocument } from './policy/document.ts';
import type { Profile } from './profile.ts';
import type { VaultProtocolStore } from './protocol-store.ts';
import type { RelayHttp } from './relay-http.ts';
import type { RelaySocket } from './relay-socket.ts';
import type { TrustedClock } from './timers/clock.ts';

export interface EngineContext {
  readonly vault: Vault;
  readonly store: VaultProtocolStore;
  readonly http: RelayHttp;
  readonly socket: RelaySocket;
  readonly directory: Directory;
  readonly outbox: Outbox;
  readonly lane: CommitLane;
  /** Only the first device and devices recovered with the kit hold the account key. */
  readonly account: AccountIdentity | null;
  readonly now: () => number;
  /** What deadlines are judged by: never earlier than the relay's time last seen (timers/clock.ts). */
  readonly clock: TrustedClock;
  /** How long a command waits for the relay's acknowledgement before answering with what it has. */
  readonly sendWaitMs: number;
  readonly username: string;
  readonly deviceId: string;
  readonly self: DeviceAddress;
  /** What the profile remembers about itself; changed only through updateProfile (it is committed first). */
  readonly profile: Profile;
  updateProfile(change: Partial<Profile>): Promise<void>;
  /** The org policy in force: verified under the pinned org key, the highest version seen (policy/policy.ts). */
  readonly policy: PolicyDocument;
  emit<N extends EventName>(name: N, payload: EventPayload<N>): void;
  /** Something went wrong that the user cannot act on: logged, never thrown at them. */
  problem(error: Error): void;
  log(line: string): void;
}
