// The renderer's pure trust and launch logic: a safety number in the groups people compare (and refused when it is
// not one), its QR code's module matrix, the launch fragment (token and deep-linked join link), the unread title,
// and who in a conversation holds its messages back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create } from 'qrcode';
import type { ContactViewT } from '../../../core/api/contract.ts';
import { formatInviteLink } from '../../../core/relay/invite-link.ts';
import { titleWithUnread } from '../../../renderer/src/lib/attention.ts';
import { joinLinkCandidate, readLaunchFragment } from '../../../renderer/src/lib/launch.ts';
import { digitGroups, digitRows, qrMatrix } from '../../../renderer/src/lib/safety-number.ts';
import { awaitingAcceptance } from '../../../renderer/src/state/trust.ts';

const DIGITS = '12345 67890 11111 22222 33333 44444 55555 66666 77777 88888 99999 00000';

describe('renderer: safety numbers', () => {
  it('splits the contract\'s digits into twelve groups of five, in three rows of four', () => {
    const groups = digitGroups(DIGITS);
    assert.equal(groups.length, 12);
    assert.equal(groups[0], '12345');
    assert.equal(groups[11], '00000');
    assert.deepEqual(digitRows(groups).map((row) => row.length), [4, 4, 4]);
    assert.equal(digitRows(groups).flat().join(' '), DIGITS, 'nothing lost or reordered');
  });

  it('refuses what is not a safety number rather than show a misleading one', () => {
    for (const bad of ['', '12345', DIGITS.slice(0, -1), `${DIGITS} 12345`, DIGITS.replace('12345', '1234a')]) {
      assert.throws(() => digitGroups(bad), /not a safety number/, JSON.stringify(bad));
    }
  });

  it('turns the QR payload into runs covering exactly the encoder\'s dark modules', () => {
    const text = 'AbCdEf0123456789_-'.repeat(5);
    const { size, runs } = qrMatrix(text);
    const { modules } = create(text, { errorCorrectionLevel: 'M' });
    assert.equal(size, modules.size);
    const drawn = new Uint8Array(size * size);
    for (const [x, y, length] of runs) {
      assert.ok(length >= 1 && x + length <= size, 'a run stays in its row');
      for (let i = 0; i < length; i++) {
        assert.equal(drawn[y * size + x + i], 0, 'no module drawn twice');
        drawn[y * size + x + i] = 1;
      }
    }
    assert.deepEqual([...drawn], [...modules.data].map((d) => (d ? 1 : 0)));
    assert.deepEqual(runs[0], [0, 0, 7], 'the top-left finder pattern starts the first row');
    assert.throws(() => qrMatrix(''), /empty or too long/);
    assert.throws(() => qrMatrix('x'.repeat(2000)), /empty or too long/);
  });
});

describe('renderer: the launch fragment and deep links', () => {
  const invite = formatInviteLink({ server: 'https://relay.example.org:8443', pin: 'A'.repeat(43), org: 'B'.repeat(43), code: 'abcDEF123' });

  it('reads the token and a join link from the fragment', () => {
    const token = 'T'.repeat(32);
    assert.deepEqual(readLaunchFragment(`#token=${token}`), { token });
    assert.deepEqual(readLaunchFragment(`#token=${token}&join=${encodeURIComponent(invite)}`), { token, join: invite });
    assert.deepEqual(readLaunchFragment(`#join=${encodeURIComponent(invite)}`), { join: invite });
  });

  it('ignores what is not a launch fragment: a short token, two of either, other links, oversized input', () => {
    assert.deepEqual(readLaunchFragment('#token=short'), {});
    assert.deepEqual(readLaunchFragment(''), {});
    assert.deepEqual(readLaunchFragment(`#token=${'a'.repeat(20)}&token=${'b'.repeat(20)}`), {});
    assert.deepEqual(readLaunchFragment(`#join=${encodeURIComponent(invite)}&join=${encodeURIComponent(invite)}`), {});
    assert.deepEqual(readLaunchFragment(`#join=${encodeURIComponent('https://evil.example/join?x')}`), {});
    assert.deepEqual(readLaunchFragment(`#join=${'a'.repeat(10_000)}`), {});
  });

  it('recognises a join link only as the wardroom://join form, trimmed, without spaces or control characters', () => {
    assert.equal(joinLinkCandidate(`  ${invite}\n`), invite);
    assert.equal(joinLinkCandidate('wardroom://open?x=1'), undefined);
    assert.equal(joinLinkCandidate(`${invite}\u0007`), undefined);
    assert.equal(joinLinkCandidate(`${invite} more`), undefined);
    assert.equal(joinLinkCandidate(`wardroom://join?${'a'.repeat(2100)}`), undefined);
  });
});

describe('renderer: attention outside the window', () => {
  it('puts the unread total in the title', () => {
    assert.equal(titleWithUnread(0), 'Wardroom');
    assert.equal(titleWithUnread(3), '(3) Wardroom');
    assert.equal(titleWithUnread(12_000), '(999+) Wardroom');
  });
});

describe('renderer: whose new identity holds a conversation', () => {
  const contact = (username: string, identity: ContactViewT['identity']): ContactViewT => ({ username, verified: false, identity });
  it('lists the others whose changed key the user has not accepted, never the user', () => {
    const contacts = { bob: contact('bob', 'changed'), cat: contact('cat', 'accepted'), ann: contact('ann', 'changed-while-verified'), dan: contact('dan', 'changed-while-verified') };
    assert.deepEqual(awaitingAcceptance(['ann', 'bob', 'cat', 'dan', 'eve'], 'ann', contacts).map((c) => c.username), ['bob', 'dan']);
    assert.deepEqual(awaitingAcceptance(['ann', 'cat'], 'ann', contacts), []);
  });
});
