// The org policy's file rules as a device enforces them: believed only under the org key the profile pinned, read
// from the signed document's fields, and applied to a file's name, type and size in the user's terms. The relay's
// reply is the only stand-in here (the policy travels in it); signing and verification are libsodium's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, signingKeyPair, toBase64Url, utf8 } from '../../../core/crypto/sodium.ts';
import type { EngineContext } from '../../../core/engine/context.ts';
import { checkFile, FilePolicies } from '../../../core/engine/files/policy.ts';
import { blobBytes, padme } from '../../../core/engine/files/blob-format.ts';

const org = signingKeyPair();
const policyContext = (document: object, signer = org.secretKey, pinned: string | null = toBase64Url(org.publicKey)) => {
  const data = utf8(JSON.stringify(document));
  return {
    now: () => 0,
    profile: { orgKey: pinned },
    http: { org: async () => ({ orgKey: org.publicKey, orgFingerprint: null, policy: { version: 1, document: { data, signature: sign(data, signer) } } }) },
  } as unknown as EngineContext;
};

test('reads the file rules of a policy signed by the pinned org key, and refuses one signed by anyone else', async () => {
  const policy = await new FilePolicies(policyContext({ version: 1, maxFileBytes: 1000, allowedFileTypes: ['image/*', 'application/pdf'], filePreviewOnly: true })).current();
  assert.deepEqual(policy, { enabled: true, maxBytes: 1000, allowedTypes: ['image/*', 'application/pdf'], previewOnly: true });
  await assert.rejects(new FilePolicies(policyContext({ version: 1, fileSharing: true }, signingKeyPair().secretKey)).current(), /org key did not sign/);
  await assert.rejects(new FilePolicies(policyContext({ version: 1 }, org.secretKey, null)).current(), /org key did not sign/, 'no pinned key: nothing is believed');
  await assert.rejects(new FilePolicies(policyContext({ version: 1, maxFileBytes: 'lots' })).current(), /cannot be read/);
});

test('applies the rules to a file in one line each: off, too large, a type not allowed; type/* matches a family', async () => {
  const policy = { enabled: true, maxBytes: 1000, allowedTypes: ['image/*', 'application/pdf'], previewOnly: false };
  checkFile(policy, { name: 'a.png', mime: 'image/png', size: 1000 });
  checkFile(policy, { name: 'a.pdf', mime: 'application/pdf', size: 1 });
  assert.throws(() => checkFile(policy, { name: 'a.png', mime: 'image/png', size: 1001 }), /a\.png is 1,001 bytes; your organisation's policy allows files up to 1,000/);
  assert.throws(() => checkFile(policy, { name: 'x.zip', mime: 'application/zip', size: 1 }), /does not allow application\/zip files \(x\.zip\)/);
  assert.throws(() => checkFile(policy, { name: 'x.imagery', mime: 'imagex/png', size: 1 }), /does not allow/, 'image/* is not a prefix match on the type name');
  assert.throws(() => checkFile({ ...policy, enabled: false }, { name: 'a.png', mime: 'image/png', size: 1 }), /does not allow sending files/);
});

test('pads to Padmé buckets: never smaller, at most 12% larger, few distinct sizes', () => {
  const sizes = new Set<number>();
  for (let size = 1; size < 5_000_000; size = Math.ceil(size * 1.01) + 1) {
    const padded = blobBytes(size);
    assert.ok(padded >= size + 36, 'header and tag fit');
    assert.ok(padded <= (size + 36 + 16 * Math.ceil(size / 2 ** 20)) * 1.12 + 1, `at most 12% overhead at ${size}`);
    assert.equal(padme(padded), padded, 'a bucket is its own bucket');
    sizes.add(padded);
  }
  assert.ok(sizes.size < 700, `${sizes.size} buckets`);
});
