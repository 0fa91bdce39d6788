// The two things people copy between devices by hand: the device link code and the recovery kit. Both are parsed
// strictly with size limits, and anything else gets one clear error, never a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApiError } from '../../../core/api/contract.ts';
import { createAccountIdentity, createRecoveryKit, openRecoveryKit } from '../../../core/protocol/identity.ts';
import { formatLinkCode, formatRecoveryKit, parseLinkCode, parseRecoveryKit } from '../../../core/engine/enrol.ts';
import { randomBytes } from '../../../core/crypto/sodium.ts';

const request = { username: 'alice', signingPublicKey: randomBytes(32), dhPublicKey: randomBytes(32), createdAt: 1_900_000_000_000 };

function onlyApiErrors(parse: (text: string) => unknown, valid: string, seed: number) {
  const mutated = fc.tuple(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 })).map(([i, ch]) => valid.slice(0, i) + ch + valid.slice(i + 1));
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 2000 }), mutated, fc.constant(valid.repeat(20))), (text) => {
    try {
      parse(text);
    } catch (error) {
      assert.ok(error instanceof ApiError && error.code === 'INVALID', String(error));
    }
  }), { numRuns: 2000, seed });
}

describe('device link codes', () => {
  it('round-trip the new device\'s public keys', () => {
    const parsed = parseLinkCode(formatLinkCode(request));
    assert.deepEqual({ ...parsed, signingPublicKey: [...parsed.signingPublicKey], dhPublicKey: [...parsed.dhPublicKey] },
      { ...request, signingPublicKey: [...request.signingPublicKey], dhPublicKey: [...request.dhPublicKey] });
  });

  it('refuse wrong key sizes, extra fields and other text with INVALID (fuzz, fixed seed)', () => {
    assert.throws(() => parseLinkCode(formatLinkCode({ ...request, signingPublicKey: randomBytes(31) })), /damaged/);
    assert.throws(() => parseLinkCode('WRK1.abc'), /not a device link code/);
    onlyApiErrors(parseLinkCode, formatLinkCode(request), 21);
  });
});

describe('recovery kits', () => {
  it('round-trip and open the account they were made for', () => {
    const account = createAccountIdentity();
    const kit = createRecoveryKit(account);
    const parsed = parseRecoveryKit(formatRecoveryKit(kit.kit, kit.recoveryCode));
    assert.deepEqual([...openRecoveryKit(parsed.kit, parsed.code).publicKey], [...account.publicKey]);
  });

  it('refuse anything that is not a kit with INVALID (fuzz, fixed seed)', () => {
    const kit = createRecoveryKit(createAccountIdentity());
    onlyApiErrors(parseRecoveryKit, formatRecoveryKit(kit.kit, kit.recoveryCode), 22);
  });
});
