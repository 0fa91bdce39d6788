// A device's prekey state and what it uploads: last-resort keys distinct from one-time keys and rotated with the
// signed prekey, and top-ups decided from the relay's count (planPrekeyUpload), not from what the device believes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice, createAccountIdentity } from '../../../core/protocol/identity.ts';
import {
  addOneTimePrekeys, createPrekeys, deserializePrekeyState, MAX_ONE_TIME_PREKEYS, planPrekeyUpload, PREKEY_POLICY, serializePrekeyState,
  takePrekeysForSessionStart, type PrekeyState, type RelayPrekeyStock,
} from '../../../core/protocol/prekeys.ts';
import { classicPrekeys, NOW } from './world.ts';

const device = createDevice(createAccountIdentity(), 'dana', 'd0', NOW);
const DAY = 24 * 3600 * 1000;

/** What a relay holding everything `state` uploaded would report. */
const complete = (state: PrekeyState, oneTime: number = PREKEY_POLICY.target, kemOneTime: number = PREKEY_POLICY.target): RelayPrekeyStock => ({
  oneTime, kemOneTime, signedPrekeyId: state.signed[0]!.id, lastResortId: state.lastResort[0]!.id, kemLastResortId: state.kemLastResort[0]!.id,
});

test('a new device has a signed prekey, last-resort keys of both kinds apart from its one-time keys, and uploads them all', () => {
  const { state, upload } = createPrekeys(device, NOW, PREKEY_POLICY.target);
  assert.equal(state.signed.length, 1);
  assert.equal(state.signed[0]!.hybrid, true);
  assert.equal(state.oneTime.length, PREKEY_POLICY.target);
  assert.equal(state.kemOneTime.length, PREKEY_POLICY.target);
  const lastResortIds = [state.lastResort[0]!.id, state.kemLastResort[0]!.id];
  const oneTimeIds = [...state.oneTime, ...state.kemOneTime].map((k) => k.id);
  assert.ok(lastResortIds.every((id) => !oneTimeIds.includes(id)), 'last-resort keys are not one-time keys');
  assert.equal(new Set([state.signed[0]!.id, ...lastResortIds, ...oneTimeIds]).size, 3 + 2 * PREKEY_POLICY.target, 'every id names one key');
  assert.equal(upload.lastResort!.id, state.lastResort[0]!.id);
  assert.equal(upload.kemLastResort!.id, state.kemLastResort[0]!.id);
  assert.equal(upload.kemLastResort!.publicKey.length, 1184);
  assert.equal(upload.oneTime.length, PREKEY_POLICY.target);
  assert.equal(upload.kemOneTime.length, PREKEY_POLICY.target);
  assert.equal(upload.oneTime.some((k) => lastResortIds.includes(k.id)), false, 'the last-resort key is not uploaded as a one-time key');
  assert.deepEqual(deserializePrekeyState(serializePrekeyState(state)), state);
});

test('session starts consume one-time keys of both kinds, never the last-resort keys', () => {
  const { state } = createPrekeys(device, NOW, 2);
  const [signed, lastResort, kemLastResort] = [state.signed[0]!.id, state.lastResort[0]!.id, state.kemLastResort[0]!.id];
  const used = takePrekeysForSessionStart(state, { signedPrekeyId: signed, oneTimePrekeyId: state.oneTime[0]!.id, kemPrekeyId: state.kemOneTime[0]!.id });
  assert.equal(used.state.oneTime.length, 1);
  assert.equal(used.state.kemOneTime.length, 1);
  assert.equal(used.kem?.lastResort, false);
  const fallback = takePrekeysForSessionStart(used.state, { signedPrekeyId: signed, oneTimePrekeyId: lastResort, kemPrekeyId: kemLastResort });
  assert.deepEqual(fallback.state, used.state, 'last-resort keys stay');
  assert.equal(fallback.kem?.lastResort, true);
});

test('the relay\'s count decides the top-up: a complete relay gets nothing, a drained one is refilled to the target, kind by kind', () => {
  const { state } = createPrekeys(device, NOW, PREKEY_POLICY.target);
  assert.equal(planPrekeyUpload(state, device, complete(state), NOW + DAY), null);
  assert.equal(planPrekeyUpload(state, device, complete(state, PREKEY_POLICY.lowWater, PREKEY_POLICY.lowWater), NOW), null, 'above the low-water mark nothing is sent');
  const drained = planPrekeyUpload(state, device, complete(state, 3, 70), NOW)!;
  assert.equal(drained.upload.oneTime.length, PREKEY_POLICY.target - 3);
  assert.equal(drained.upload.kemOneTime.length, 0, 'the ML-KEM stock is still above the low-water mark');
  assert.equal(drained.upload.signedPrekey, null);
  assert.equal(drained.upload.replaceOneTime, false);
  assert.deepEqual(drained.state.oneTime.slice(-drained.upload.oneTime.length).map((k) => k.id), drained.upload.oneTime.map((k) => k.id), 'what is uploaded is kept');
  const kemDrained = planPrekeyUpload(state, device, complete(state, PREKEY_POLICY.target, 0), NOW)!;
  assert.equal(kemDrained.upload.kemOneTime.length, PREKEY_POLICY.target);
  assert.ok(kemDrained.upload.kemOneTime.every((k) => k.publicKey.length === 1184 && k.signature.length === 64));
});

test('a device whose own count says it is full still refills a drained relay (its oldest unused keys are forgotten)', () => {
  let { state } = createPrekeys(device, NOW, PREKEY_POLICY.target);
  state = addOneTimePrekeys(state, MAX_ONE_TIME_PREKEYS).state;
  assert.equal(state.oneTime.length, MAX_ONE_TIME_PREKEYS, 'keys the relay handed out and nobody used');
  const plan = planPrekeyUpload(state, device, complete(state, 0, PREKEY_POLICY.target), NOW)!;
  assert.equal(plan.upload.oneTime.length, PREKEY_POLICY.target);
  assert.equal(plan.state.oneTime.length, MAX_ONE_TIME_PREKEYS);
  assert.deepEqual(plan.state.oneTime.slice(-PREKEY_POLICY.target).map((k) => k.id), plan.upload.oneTime.map((k) => k.id), 'the newest are kept');
});

test('a relay missing a current key gets it again; a due rotation replaces the signed prekey and both last-resort keys together', () => {
  const { state } = createPrekeys(device, NOW, PREKEY_POLICY.target);
  const lost = planPrekeyUpload(state, device, { ...complete(state), lastResortId: null, kemLastResortId: 12345 }, NOW)!;
  assert.equal(lost.upload.lastResort!.id, state.lastResort[0]!.id);
  assert.equal(lost.upload.kemLastResort!.id, state.kemLastResort[0]!.id);
  assert.equal(lost.upload.signedPrekey, null);
  assert.deepEqual(lost.state, state, 'nothing new was made');

  const due = planPrekeyUpload(state, device, complete(state), NOW + PREKEY_POLICY.rotationMs)!;
  for (const kind of ['signed', 'lastResort', 'kemLastResort'] as const) {
    assert.equal(due.state[kind].length, 2, `${kind}: the previous one is kept for starts in flight`);
    assert.equal(due.state[kind][1]!.id, state[kind][0]!.id);
  }
  assert.equal(due.upload.signedPrekey!.id, due.state.signed[0]!.id);
  assert.equal(due.upload.lastResort!.id, due.state.lastResort[0]!.id);
  assert.equal(due.upload.kemLastResort!.id, due.state.kemLastResort[0]!.id);
  assert.equal(due.upload.oneTime.length, 0);
});

test('a state from before ML-KEM loads, then gains ML-KEM keys and replaces the relay\'s stock (which held its last-resort key as a one-time key)', () => {
  const { state, upload } = classicPrekeys(device, NOW, 10);
  assert.deepEqual(state.kemLastResort, []);
  assert.equal(state.signed[0]!.hybrid, false);
  assert.equal(state.lastResort[0]!.id, 0);
  const legacyRelay: RelayPrekeyStock = { oneTime: 11, kemOneTime: 0, signedPrekeyId: upload.signedPrekey!.id, lastResortId: null, kemLastResortId: null };
  const plan = planPrekeyUpload(state, device, legacyRelay, NOW)!;
  assert.equal(plan.upload.replaceOneTime, true);
  assert.equal(plan.upload.oneTime.length, PREKEY_POLICY.target, 'the whole stock is new');
  assert.equal(plan.upload.kemOneTime.length, PREKEY_POLICY.target);
  assert.equal(plan.state.signed[0]!.hybrid, true);
  assert.equal(plan.state.signed[1]!.hybrid, false, 'the classic signed prekey is kept for starts in flight');
  assert.ok(plan.upload.signedPrekey && plan.upload.lastResort && plan.upload.kemLastResort);
  assert.deepEqual(deserializePrekeyState(serializePrekeyState(plan.state)), plan.state);
});
