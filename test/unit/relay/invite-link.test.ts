import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatInviteLink, InviteLinkError, parseInviteLink } from '../../../core/relay/invite-link.ts';

const PIN = 'Bg5NCOLc0ltF30evfOyfP95KMOueQmZJibHIFMn2l7c';
const ORG = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('invite links', () => {
  it('round-trips every field', () => {
    const link = { server: 'https://chat.example.org:8443', pin: PIN, org: ORG, code: 'abc_DEF-123' };
    const text = formatInviteLink(link);
    assert.match(text, /^wardroom:\/\/join\?server=https%3A%2F%2Fchat\.example\.org%3A8443&pin=/);
    assert.deepEqual(parseInviteLink(text), link);
    assert.deepEqual(parseInviteLink(`  ${formatInviteLink({ ...link, org: null })}\n`), { ...link, org: null });
  });

  it('refuses links that would weaken the pin or smuggle data', () => {
    const bad = [
      'https://example.org/join?code=x',
      `wardroom://join?server=https%3A%2F%2Fa.example&code=x`, // https without a pin
      `wardroom://join?server=ftp%3A%2F%2Fa.example&pin=${PIN}&code=x`,
      `wardroom://join?server=https%3A%2F%2Fuser%3Apw%40a.example&pin=${PIN}&code=x`,
      `wardroom://join?server=https%3A%2F%2Fa.example&pin=short&code=x`,
      `wardroom://join?server=https%3A%2F%2Fa.example&pin=${PIN}&code=x&code=y`,
      `wardroom://join?server=https%3A%2F%2Fa.example&pin=${PIN}&code=x&extra=1`,
      `wardroom://join?server=https%3A%2F%2Fa.example&pin=${PIN}&code=has%20space`,
      `wardroom://join?server=https%3A%2F%2Fa.example&pin=${PIN}&code=${'x'.repeat(3000)}`,
    ];
    for (const text of bad) assert.throws(() => parseInviteLink(text), InviteLinkError, text);
  });

  it('never throws anything but InviteLinkError on arbitrary input (fuzz, fixed seed)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (tail) => {
      try {
        parseInviteLink(`wardroom://join?${tail}`);
      } catch (error) {
        assert.ok(error instanceof InviteLinkError);
      }
    }), { numRuns: 500, seed: 4 });
  });
});
