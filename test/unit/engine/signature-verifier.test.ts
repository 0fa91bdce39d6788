// Channel signatures checked ahead on a worker thread: the results are right, and a result can only ever stand for
// the exact bytes it was computed over (anything else is verified again), so it cannot make a forgery pass.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, sign, signingKeyPair } from '../../../core/crypto/sodium.ts';
import { precheckedSignatures, SignatureVerifier, type SignatureJob } from '../../../core/engine/signature-verifier.ts';
import { repoModule, runModule } from '../../support/child-module.ts';

const keys = signingKeyPair();
const job = (message: Uint8Array, signature = sign(message, keys.secretKey)): SignatureJob => ({ signature, message, publicKey: keys.publicKey });

describe('signature verifier', () => {
  const verifier = new SignatureVerifier();
  after(() => verifier.close());

  it('verifies on the worker thread: good signatures pass, damaged ones and wrong keys fail', async () => {
    const good = Array.from({ length: 50 }, () => job(randomBytes(300)));
    const bad = job(randomBytes(300), randomBytes(64));
    const otherKey = { ...job(randomBytes(300)), publicKey: signingKeyPair().publicKey };
    assert.deepEqual(await verifier.verifyAll([...good, bad, otherKey]), [...good.map(() => true), false, false]);
  });

  it('keeps the process alive while the worker owes an answer, and lets it end once idle', async () => {
    // Awaited at top level with nothing else running, as a command closing its engine mid-batch does.
    const child = await runModule(`
      import { sign, signingKeyPair } from ${JSON.stringify(repoModule('core/crypto/sodium.ts'))};
      import { SignatureVerifier } from ${JSON.stringify(repoModule('core/engine/signature-verifier.ts'))};
      const keys = signingKeyPair();
      const message = new Uint8Array(100);
      const verifier = new SignatureVerifier();
      console.log(await verifier.verifyAll([{ signature: sign(message, keys.secretKey), message, publicKey: keys.publicKey }]));
    `, 20_000);
    assert.equal(child.code, 0, child.stderr);
    assert.equal(child.stdout, '[ true ]\n', 'answered; then the idle worker let the process end (the child never calls close())');
  });

  it('answers only for the exact bytes checked ahead, and verifies anything else itself', () => {
    const checked = job(randomBytes(100));
    const lying = precheckedSignatures([checked], [true]);
    assert.equal(lying(checked.signature, checked.message, checked.publicKey), true);
    const altered = Uint8Array.from(checked.message);
    altered[0]! ^= 1;
    assert.equal(lying(checked.signature, altered, checked.publicKey), false, 'same signature, other message: verified again');
    assert.equal(lying(checked.signature, checked.message, signingKeyPair().publicKey), false, 'other key: verified again');
    const refused = precheckedSignatures([checked], [false]);
    assert.equal(refused(checked.signature, checked.message, checked.publicKey), false, 'a refusal from the worker stands');
    const unknown = job(randomBytes(100));
    assert.equal(lying(unknown.signature, unknown.message, unknown.publicKey), true, 'never checked ahead: verified here');
  });
});
