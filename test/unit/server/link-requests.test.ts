// The relay's table of devices waiting for approval, on its own with explicit times: lifetimes, limits, listing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signingKeyPair } from '../../../core/crypto/sodium.ts';
import { ApiError } from '../../../server/errors.ts';
import { deviceIdFor } from '../../../server/ids.ts';
import { LINK_IDLE_MS, LINK_TTL_MS, LISTED_PER_ACCOUNT, LinkRequests, requesterKey } from '../../../server/link-requests.ts';

const key = () => signingKeyPair().publicKey;
const refused = (code: string) => (error: unknown) => error instanceof ApiError && error.code === code;

describe('link requests', () => {
  it('lives while its device polls, lapses when it stops, and never outlives its lifetime', () => {
    const requests = new LinkRequests();
    const { deviceId } = requests.open('ann', key(), '10.0.0.1', 0);
    assert.ok(requests.live(deviceId, LINK_IDLE_MS - 1));
    assert.equal(requests.live(deviceId, LINK_IDLE_MS), null, 'no poll for the idle period: gone');

    const polled = requests.open('ann', key(), '10.0.0.1', 0).deviceId;
    for (let t = 1000; t < LINK_TTL_MS; t += 1000) requests.touch(requests.live(polled, t)!, t);
    assert.equal(requests.live(polled, LINK_TTL_MS), null, 'polling does not extend it past its lifetime');
  });

  it('answers a repeated request alike, and refuses the same key for another name', () => {
    const requests = new LinkRequests();
    const publicKey = key();
    const first = requests.open('ann', publicKey, '10.0.0.1', 0);
    assert.deepEqual(requests.open('ann', publicKey, '10.0.0.9', 500), first);
    assert.equal(first.deviceId, deviceIdFor(publicKey));
    assert.throws(() => requests.open('bob', publicKey, '10.0.0.1', 500), refused('device_exists'));
  });

  it('limits live requests per address (an IPv6 /64 is one address), not per account', () => {
    const requests = new LinkRequests();
    for (let i = 0; i < 5; i++) requests.open('ann', key(), '2001:db8:1:2::10', 0);
    assert.throws(() => requests.open('zed', key(), '2001:db8:1:2:ffff::1', 0), refused('too_many_pending'));
    assert.ok(requests.open('ann', key(), '2001:db8:1:3::10', 0), 'another /64');
    assert.ok(requests.open('ann', key(), '10.0.0.2', 0), 'another address, the same account');
    assert.ok(requests.open('ann', key(), '2001:db8:1:2::10', LINK_IDLE_MS), 'room again once the first lapsed');
  });

  it('lists a name\'s live requests, most recently polled first, at most a screenful', () => {
    const requests = new LinkRequests();
    const ids = Array.from({ length: LISTED_PER_ACCOUNT + 5 }, (_, i) => requests.open('ann', key(), `10.1.${i}.1`, i).deviceId);
    requests.open('bob', key(), '10.2.0.1', 0);
    requests.touch(requests.live(ids[0]!, 100)!, 100);
    const listed = requests.forUsername('ann', 100).map((r) => r.deviceId);
    assert.equal(listed.length, LISTED_PER_ACCOUNT);
    assert.equal(listed[0], ids[0]);
    requests.remove(ids[0]!);
    assert.equal(requests.live(ids[0]!, 100), null);
    assert.equal(requests.forUsername('ann', 100).some((r) => r.deviceId === ids[0]), false);
  });

  it('reduces IPv6 addresses to their /64 and leaves IPv4 alone', () => {
    assert.equal(requesterKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(requesterKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(requesterKey('::1'), '0:0:0:0::/64');
    assert.equal(requesterKey('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
    assert.equal(requesterKey('10.0.0.1'), '10.0.0.1');
  });
});
