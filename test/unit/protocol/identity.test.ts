// Account keys, recovery kits, device certificates, signed device lists and what the directory accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyDeviceList, createAccountIdentity, createDevice, createRecoveryKit, decodeDeviceCertificate, deserializeAccountIdentity,
  deserializeDeviceIdentity, deserializeKnownAccount, openRecoveryKit, serializeAccountIdentity, serializeDeviceIdentity,
  serializeKnownAccount, signDeviceList, verifyDeviceForAccount,
} from '../../../core/protocol/identity.ts';
import { ProtocolError } from '../../../core/protocol/errors.ts';
import { safetyNumber, verifySafetyQr } from '../../../core/protocol/safety-number.ts';

const NOW = 1_790_000_000_000;
const codeOf = (code: string) => (e: unknown) => e instanceof ProtocolError && e.code === code;

test('recovery kit: the code shown once restores the same account key; a wrong or mistyped code does not', () => {
  const account = createAccountIdentity();
  const { kit, recoveryCode } = createRecoveryKit(account);
  assert.match(recoveryCode, /^([A-Z2-7]{5}-){10}[A-Z2-7]{5}$/);
  assert.deepEqual(openRecoveryKit(kit, recoveryCode).publicKey, account.publicKey);
  // forgiving about case and separators
  assert.deepEqual(openRecoveryKit(kit, recoveryCode.toLowerCase().replace(/-/g, ' ')).secretKey, account.secretKey);
  // a typo is caught by the checksum before any decryption
  const typo = (recoveryCode[0] === 'A' ? 'B' : 'A') + recoveryCode.slice(1);
  assert.throws(() => openRecoveryKit(kit, typo), codeOf('MALFORMED'));
  // another valid code (another kit's) does not open this kit
  assert.throws(() => openRecoveryKit(kit, createRecoveryKit(account).recoveryCode), codeOf('DECRYPT_FAILED'));
  assert.deepEqual(deserializeAccountIdentity(serializeAccountIdentity(account)), account);
});

test('device certificates are signed by the account key and round-trip with the device identity', () => {
  const account = createAccountIdentity();
  const device = createDevice(account, 'alice', 'laptop', NOW);
  const cert = decodeDeviceCertificate(device.certificate);
  assert.equal(cert.deviceId, 'laptop');
  assert.deepEqual(cert.accountPublicKey, account.publicKey);
  assert.deepEqual(cert.dhPublicKey, device.dh.publicKey);
  assert.deepEqual(deserializeDeviceIdentity(serializeDeviceIdentity(device)), device);
  const flipped = Uint8Array.from(device.certificate);
  flipped[flipped.length - 10]! ^= 1; // inside the signature
  assert.throws(() => decodeDeviceCertificate(flipped), codeOf('BAD_SIGNATURE'));
});

test('directory: first list accepted, newer lists update, older or conflicting lists are refused', () => {
  const account = createAccountIdentity();
  const v1 = signDeviceList(account, { userId: 'alice', version: 1, devices: ['a'], issuedAt: NOW });
  const v2 = signDeviceList(account, { userId: 'alice', version: 2, devices: ['a', 'b'], issuedAt: NOW + 1 });
  const v2conflict = signDeviceList(account, { userId: 'alice', version: 2, devices: ['a', 'evil'], issuedAt: NOW + 1 });
  const first = applyDeviceList(null, 'alice', v1);
  assert.equal(first.kind, 'first-seen');
  const second = applyDeviceList(first.entry, 'alice', v2);
  assert.equal(second.kind, 'updated');
  assert.deepEqual(second.kind === 'updated' ? second.added : [], ['b']);
  assert.equal(applyDeviceList(second.entry, 'alice', v2).kind, 'unchanged');
  assert.throws(() => applyDeviceList(second.entry, 'alice', v1), codeOf('STALE_DEVICE_LIST'));
  assert.throws(() => applyDeviceList(second.entry, 'alice', v2conflict), codeOf('STALE_DEVICE_LIST'));
  assert.throws(() => applyDeviceList(null, 'bob', v1), codeOf('WRONG_RECIPIENT'));
  assert.deepEqual(deserializeKnownAccount(serializeKnownAccount(second.entry)), second.entry);
});

test('a changed account key is a key-change outcome, never a silent update', () => {
  const oldKey = createAccountIdentity();
  const newKey = createAccountIdentity();
  const known = applyDeviceList(null, 'alice', signDeviceList(oldKey, { userId: 'alice', version: 5, devices: ['a'], issuedAt: NOW })).entry;
  const outcome = applyDeviceList(known, 'alice', signDeviceList(newKey, { userId: 'alice', version: 1, devices: ['a'], issuedAt: NOW }));
  assert.equal(outcome.kind, 'key-changed');
  assert.deepEqual(outcome.kind === 'key-changed' ? outcome.previousAccountKey : null, oldKey.publicKey);
  assert.deepEqual(outcome.entry.accountPublicKey, newKey.publicKey);
});

test('a device is accepted only with a certificate from the known account key and a place on the signed list', () => {
  const account = createAccountIdentity();
  const other = createAccountIdentity();
  const known = applyDeviceList(null, 'alice', signDeviceList(account, { userId: 'alice', version: 1, devices: ['a'], issuedAt: NOW })).entry;
  assert.equal(verifyDeviceForAccount(known, createDevice(account, 'alice', 'a', NOW).certificate).deviceId, 'a');
  assert.throws(() => verifyDeviceForAccount(known, createDevice(account, 'alice', 'unlisted', NOW).certificate), codeOf('UNKNOWN_DEVICE'));
  assert.throws(() => verifyDeviceForAccount(known, createDevice(other, 'alice', 'a', NOW).certificate), codeOf('UNKNOWN_DEVICE'));
  assert.throws(() => verifyDeviceForAccount(known, createDevice(account, 'mallory', 'a', NOW).certificate), codeOf('UNKNOWN_DEVICE'));
});

test('safety numbers: 60 digits, identical on both sides, changed by either account key, QR verifies', () => {
  const alice = { userId: 'alice', accountPublicKey: createAccountIdentity().publicKey };
  const bob = { userId: 'bob', accountPublicKey: createAccountIdentity().publicKey };
  const fromAlice = safetyNumber(alice, bob);
  const fromBob = safetyNumber(bob, alice);
  assert.match(fromAlice.digits, /^\d{60}$/);
  assert.match(fromAlice.display, /^(\d{5} ){11}\d{5}$/);
  assert.equal(fromAlice.digits, fromBob.digits);
  assert.deepEqual(fromAlice.qrPayload, fromBob.qrPayload);
  assert.equal(verifySafetyQr(fromBob.qrPayload, alice, bob), true);
  const bobNewKey = { userId: 'bob', accountPublicKey: createAccountIdentity().publicKey };
  assert.notEqual(safetyNumber(alice, bobNewKey).digits, fromAlice.digits);
  assert.equal(verifySafetyQr(fromBob.qrPayload, alice, bobNewKey), false);
  const aliceNewKey = { userId: 'alice', accountPublicKey: createAccountIdentity().publicKey };
  assert.notEqual(safetyNumber(aliceNewKey, bob).digits.slice(0, 30) + safetyNumber(aliceNewKey, bob).digits.slice(30), fromAlice.digits);
  assert.throws(() => verifySafetyQr(Uint8Array.of(9, ...fromBob.qrPayload.subarray(1)), alice, bob), codeOf('UNKNOWN_VERSION'));
});
