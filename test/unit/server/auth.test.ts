import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSync } from 'otplib';
import { ApiError } from '../../../server/errors.ts';
import { Backoff, Challenges, Sessions, totpStep, TotpReplayGuard } from '../../../server/auth.ts';

describe('auth state', () => {
  it('locks a key out with exponential backoff after the free failures, and a success clears it', () => {
    const backoff = new Backoff(3);
    const t0 = 1_000_000;
    for (let i = 0; i < 2; i++) backoff.fail('k', t0);
    backoff.check('k', t0); // two failures are free
    backoff.fail('k', t0);
    assert.throws(() => backoff.check('k', t0 + 1999), (e: ApiError) => e.status === 429 && e.retryAfterSeconds === 1);
    backoff.check('k', t0 + 2000);
    backoff.fail('k', t0 + 2000);
    assert.throws(() => backoff.check('k', t0 + 5999), ApiError, 'the second lock is twice as long');
    backoff.check('k', t0 + 6000);
    for (let i = 0; i < 40; i++) backoff.fail('k', t0);
    assert.throws(() => backoff.check('k', t0 + Backoff.MAX_LOCK_MS - 1), ApiError);
    backoff.check('k', t0 + Backoff.MAX_LOCK_MS, );
    backoff.check('other', t0);
    backoff.succeed('k');
    backoff.check('k', t0);
  });

  it('expires session tokens and revokes them by device and account', () => {
    const sessions = new Sessions(60);
    const a = sessions.create('acct', 'dev1', false, 0);
    const b = sessions.create('acct', 'dev2', true, 0);
    assert.equal(sessions.lookup(a.token, 59_999)?.deviceId, 'dev1');
    assert.equal(sessions.lookup(a.token, 60_000), null, 'expired');
    assert.equal(sessions.lookup('forged', 0), null);
    sessions.revokeDevice('dev2');
    assert.equal(sessions.lookup(b.token, 0), null);
    const c = sessions.create('acct', 'dev3', false, 0);
    sessions.revokeAccount('acct');
    assert.equal(sessions.lookup(c.token, 0), null);
  });

  it('makes challenges single-use, short-lived, bound to their device, and bounded per requester', () => {
    const challenges = new Challenges();
    const issued = challenges.issue('dev', 'ip', 0);
    assert.equal(challenges.take('dev', 'wrong', 0), null);
    assert.equal(challenges.take('other-dev', issued.challenge, 0), null, 'bound to the device it was issued for');
    assert.equal(challenges.take('dev', issued.challenge, 0), null, 'a misuse burns the challenge');
    const expired = challenges.issue('dev', 'ip', 0);
    assert.equal(challenges.take('dev', expired.challenge, 60_000), null, 'expired');
    const mine = challenges.issue('dev', 'ip', 0);
    challenges.issue('dev', 'attacker', 0); // someone else asking in this device's name does not cancel mine
    assert.ok(challenges.take('dev', mine.challenge, 1000));
    assert.equal(challenges.take('dev', mine.challenge, 1000), null, 'single use');
    for (let i = 0; i < Challenges.PER_REQUESTER - 1; i++) challenges.issue(`d${i}`, 'attacker', 0);
    assert.throws(() => challenges.issue('x', 'attacker', 0), (e: ApiError) => e.status === 429);
    assert.ok(challenges.issue('x', 'someone-else', 0), 'other requesters are unaffected');
    assert.ok(challenges.issue('x', 'attacker', 60_001), 'expired ones free the quota');
  });

  it('checks TOTP codes and accepts each time step once per account', () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const step = totpStep(secret, generateSync({ secret }));
    assert.equal(typeof step, 'number');
    assert.equal(totpStep(secret, '12345'), null);
    assert.equal(totpStep(secret, 'abcdef'), null);
    const guard = new TotpReplayGuard();
    assert.equal(guard.accept('a', step!), true);
    assert.equal(guard.accept('a', step!), false, 'the same code again is a replay');
    assert.equal(guard.accept('a', step! - 1), false, 'an older code too');
    assert.equal(guard.accept('b', step!), true, 'other accounts are independent');
    assert.equal(guard.accept('a', step! + 1), true);
  });
});
