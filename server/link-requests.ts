// Devices asking to join an account. Anyone can ask, without logging in (a new device has no session), so a
// request binds nothing: it is not counted against the account it names, it is accepted alike for names that
// exist and names that do not, and it becomes a device only when a device of that account (or the account key
// from the recovery kit) approves it. A request lives while the new device keeps polling (signed with its key) and
// at most LINK_TTL_MS; the device withdraws it when its link is cancelled. So an approval can only ever reach a
// device that is still there, holding its keys. In memory only: a relay restart drops requests, and waiting
// devices simply ask again.
import { isIPv6 } from 'node:net';
import { ApiError, conflict } from './errors.ts';
import { deviceIdFor } from './ids.ts';

/** The longest a link may wait for its approval. */
export const LINK_TTL_MS = 10 * 60_000;
/** A request whose device has not polled for this long is gone: its process stopped. Devices poll every second. */
export const LINK_IDLE_MS = 15_000;
/** Live requests one address (an IPv6 /64) may hold. */
const PER_ADDRESS = 5;
const MAX_REQUESTS = 100_000;
/** At most this many waiting requests are listed to an account's own devices, most recently polled first. */
export const LISTED_PER_ACCOUNT = 20;

export interface LinkRequest {
  deviceId: string;
  /** The account it asks to join, as the new device typed it: a hint for listing, checked at approval. */
  username: string;
  publicKey: Uint8Array;
  createdAt: number;
  lastSeen: number;
  requester: string;
}

/** The /64 of an IPv6 address (one subscriber's usual allocation), the address itself otherwise. */
export function requesterKey(address: string): string {
  if (!isIPv6(address) || address.startsWith('::ffff:')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** A set per key, dropped when it empties. */
class Index {
  readonly #sets = new Map<string, Set<string>>();
  add(key: string, id: string): void {
    const set = this.#sets.get(key) ?? new Set<string>();
    this.#sets.set(key, set.add(id));
  }
  delete(key: string, id: string): void {
    const set = this.#sets.get(key);
    if (set?.delete(id) && set.size === 0) this.#sets.delete(key);
  }
  ids(key: string): string[] {
    return [...(this.#sets.get(key) ?? [])];
  }
}

export class LinkRequests {
  readonly #byDevice = new Map<string, LinkRequest>();
  readonly #byRequester = new Index();
  readonly #byUsername = new Index();
  readonly #idleMs: number;

  /** `idleMs`: how long a request outlives its device's last poll (tests shorten it). */
  constructor(options: { idleMs?: number } = {}) {
    this.#idleMs = options.idleMs ?? LINK_IDLE_MS;
  }

  /** Opens a request (or answers the same for one already open with this key and name); never reveals the account. */
  open(username: string, publicKey: Uint8Array, address: string, now: number): { deviceId: string; expiresAt: number } {
    const deviceId = deviceIdFor(publicKey);
    const existing = this.live(deviceId, now);
    if (existing) {
      if (existing.username !== username) throw conflict('this device key is already asking to join another account', 'device_exists');
      return { deviceId, expiresAt: existing.createdAt + LINK_TTL_MS };
    }
    const requester = requesterKey(address);
    if (this.#alive(this.#byRequester.ids(requester), now).length >= PER_ADDRESS) {
      throw new ApiError(429, 'too_many_pending', 'too many devices waiting for approval from this address; retry later', Math.ceil(this.#idleMs / 1000));
    }
    if (this.#byDevice.size >= MAX_REQUESTS) this.sweep(now);
    if (this.#byDevice.size >= MAX_REQUESTS) throw new ApiError(503, 'busy', 'too many devices waiting for approval; retry shortly', 30);
    this.#byDevice.set(deviceId, { deviceId, username, publicKey, createdAt: now, lastSeen: now, requester });
    this.#byRequester.add(requester, deviceId);
    this.#byUsername.add(username, deviceId);
    return { deviceId, expiresAt: now + LINK_TTL_MS };
  }

  /** The request if it is still alive at `now`; a dead one is forgotten on the way. */
  live(deviceId: string, now: number): LinkRequest | null {
    const request = this.#byDevice.get(deviceId);
    if (!request) return null;
    if (request.createdAt + LINK_TTL_MS > now && request.lastSeen + this.#idleMs > now) return request;
    this.remove(deviceId);
    return null;
  }

  /** The device proved it is still there (a signed poll). */
  touch(request: LinkRequest, now: number): void {
    request.lastSeen = now;
  }

  remove(deviceId: string): void {
    const request = this.#byDevice.get(deviceId);
    if (!request) return;
    this.#byDevice.delete(deviceId);
    this.#byRequester.delete(request.requester, deviceId);
    this.#byUsername.delete(request.username, deviceId);
  }

  /** Live requests naming this username, for its own devices to see, most recently polled first. */
  forUsername(username: string, now: number): LinkRequest[] {
    return this.#alive(this.#byUsername.ids(username), now).sort((a, b) => b.lastSeen - a.lastSeen).slice(0, LISTED_PER_ACCOUNT);
  }

  sweep(now: number): void {
    this.#alive([...this.#byDevice.keys()], now);
  }

  #alive(deviceIds: string[], now: number): LinkRequest[] {
    return deviceIds.flatMap((id) => this.live(id, now) ?? []);
  }
}
