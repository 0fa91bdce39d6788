// Fuzzing harness for every protocol decoder. Each target gets valid samples, then byte-level mutations (bit
// flips, overwrites, truncation, insertion, slice duplication, random noise) and structural mutations (a random
// field somewhere in the decoded CBOR replaced by a random value of another type, then re-encoded). The only
// acceptable failure is a ProtocolError; anything else (TypeError, RangeError, a libsodium exception) is a bug.
// Used by test/unit/protocol/fuzz.test.ts (bounded, fixed seed) and scripts/fuzz.ts (`npm run fuzz`, long).
import { Encoder } from 'cbor-x';
import { newChannelMetaKey, openChannelField, readChannelBox, sealChannelField } from '../../core/protocol/channel-meta.ts';
import { ProtocolError } from '../../core/protocol/errors.ts';
import {
  applyDeviceList, createAccountIdentity, createDevice, createRecoveryKit, decodeDeviceCertificate, decodeDeviceList, deserializeAccountIdentity,
  deserializeDeviceIdentity, deserializeKnownAccount, openRecoveryKit, serializeAccountIdentity, serializeDeviceIdentity, serializeKnownAccount, signDeviceList,
} from '../../core/protocol/identity.ts';
import { decodePrekeyBundle, deserializePrekeyState, encodePrekeyBundle, serializePrekeyState } from '../../core/protocol/prekeys.ts';
import { decryptFrame, encryptChannelMessage, encryptToDevices, prepareChannelKey } from '../../core/protocol/processor.ts';
import { verifySafetyQr, safetyNumber } from '../../core/protocol/safety-number.ts';
import {
  deserializeInboundSenderKey, deserializeOutboundSenderKey, serializeInboundSenderKey, serializeOutboundSenderKey,
} from '../../core/protocol/sender-keys.ts';
import { deserializeSessionRecord, serializeSessionRecord } from '../../core/protocol/session.ts';
import { decodeEnvelope, decodePayload, encodePayload, type Payload } from '../../core/protocol/wire.ts';
import { ImageError } from '../../core/engine/media/errors.ts';
import { stripImageMetadata } from '../../core/engine/media/strip.ts';
import { cameraGif, cameraJpeg, cameraPng, cameraWebp } from '../support/camera-images.ts';
import { introduce, knownAccountOf, makeUser, NOW, Relay, textPayload } from '../unit/protocol/world.ts';

/** mulberry32: a tiny seeded PRNG, so every run is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target {
  name: string;
  samples: Uint8Array[];
  run(input: Uint8Array): unknown;
  /** the typed refusal this target may answer with; a ProtocolError when absent */
  refusal?: abstract new (...args: never[]) => Error & { code: string };
}

/** Builds a small world once and returns each decoder with valid samples of its input. */
export function buildTargets(): Target[] {
  const relay = new Relay();
  const alice = makeUser(relay, 'alice', 1, 3);
  const bob = makeUser(relay, 'bob', 1, 3);
  introduce([alice, bob]);
  const a = alice.devices[0]!;
  const b = bob.devices[0]!;
  const start = encryptToDevices(a.store, [b.address], textPayload('fuzz'), NOW, [{ known: knownAccountOf(bob), bundle: relay.bundle(b.address) }]);
  a.store.commit(start.writes);
  const dist = prepareChannelKey(a.store, 'general', [b.address], NOW, false);
  a.store.commit(dist.writes);
  const channel = encryptChannelMessage(a.store, 'general', textPayload('channel fuzz'), NOW);
  const later = encryptToDevices(a.store, [b.address], textPayload('second'), NOW);
  const frames = [start.frames[0]!.frame, dist.frames[0]!.frame, channel.frame, later.frames[0]!.frame];
  // the receiver has taken the session start and the sender key; after that it is never committed to, so every
  // fuzzed frame meets the same state, and the two valid samples (a channel and a ratchet message) stay valid
  const receiver = b.store;
  for (const frame of frames.slice(0, 2)) receiver.commit(decryptFrame(receiver, frame, NOW).writes);
  const account = createAccountIdentity();
  const kit = createRecoveryKit(account);
  const ids = { userId: 'alice', accountPublicKey: alice.account.publicKey };
  const other = { userId: 'bob', accountPublicKey: bob.account.publicKey };
  const outbound = a.store.outboundSenderKey('general')!;
  const metaKey = newChannelMetaKey();
  const sealer = { userId: 'alice', deviceId: 'd0' };
  const channelNames = [sealChannelField(metaKey, 'name', { text: 'general', setAt: NOW }, sealer, 'general'), sealChannelField(metaKey, 'name', { text: 'ops', setAt: NOW }, sealer)];
  return [
    { name: 'openChannelField', samples: channelNames, run: (input) => openChannelField(readChannelBox(input), 'name', metaKey) },
    { name: 'decodeEnvelope', samples: frames, run: decodeEnvelope },
    { name: 'decryptFrame', samples: frames.slice(2), run: (input) => decryptFrame(receiver, input, NOW) },
    { name: 'decodePayload', samples: [encodePayload(textPayload('hello')), encodePayload({ ...textPayload('see https://example.com/'), preview: { url: 'https://example.com/', title: 'Example', description: null, image: { jpeg: Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), width: 4, height: 3 } } } as Payload), encodePayload({ id: new Uint8Array(16), sentAt: NOW, timers: { expiresAt: NOW, burnAfterReadSeconds: null }, syncTo: 'bob', group: { id: new Uint8Array(16), members: ['alice', 'bob', 'carol'] }, kind: 'receipt', receipt: 'read', targets: [new Uint8Array(16)] })], run: decodePayload },
    { name: 'decodeDeviceCertificate', samples: [a.identity.certificate], run: decodeDeviceCertificate },
    { name: 'decodeDeviceList', samples: [alice.deviceList], run: decodeDeviceList },
    { name: 'applyDeviceList', samples: [signDeviceList(alice.account, { userId: 'alice', version: 2, devices: ['d0', 'd1'], issuedAt: NOW })], run: (input) => applyDeviceList(knownAccountOf(alice), 'alice', input) },
    { name: 'decodePrekeyBundle', samples: [encodePrekeyBundle(relay.bundle(a.address))], run: decodePrekeyBundle },
    { name: 'deserializeSessionRecord', samples: [serializeSessionRecord(a.store.sessionRecord(b.address)!)], run: deserializeSessionRecord },
    { name: 'deserializePrekeyState', samples: [serializePrekeyState(b.store.prekeys())], run: deserializePrekeyState },
    { name: 'deserializeOutboundSenderKey', samples: [serializeOutboundSenderKey(outbound)], run: deserializeOutboundSenderKey },
    {
      name: 'deserializeInboundSenderKey',
      samples: [serializeInboundSenderKey({ channelId: 'general', sender: a.address, keyId: 1, chainKey: new Uint8Array(32), iteration: 3, firstIteration: 0, signingPublicKey: new Uint8Array(32), skipped: [{ iteration: 1, messageKey: new Uint8Array(32) }], discarded: [{ chain: new Uint8Array(0), from: 0, to: 1 }] })],
      run: deserializeInboundSenderKey,
    },
    { name: 'deserializeKnownAccount', samples: [serializeKnownAccount(knownAccountOf(alice))], run: deserializeKnownAccount },
    { name: 'deserializeAccountIdentity', samples: [serializeAccountIdentity(account)], run: deserializeAccountIdentity },
    { name: 'deserializeDeviceIdentity', samples: [serializeDeviceIdentity(createDevice(account, 'u', 'd', NOW))], run: deserializeDeviceIdentity },
    { name: 'openRecoveryKit', samples: [kit.kit], run: (input) => openRecoveryKit(input, kit.recoveryCode) },
    { name: 'verifySafetyQr', samples: [safetyNumber(ids, other).qrPayload], run: (input) => verifySafetyQr(input, ids, other) },
  ];
}

/** The image metadata strippers (core/engine/media), fed camera-style photos; the only acceptable refusal is an ImageError. */
export async function buildImageTargets(): Promise<Target[]> {
  const samples = await Promise.all([cameraJpeg(), cameraPng(), cameraWebp(), cameraGif()]);
  return [{ name: 'stripImageMetadata', samples, run: stripImageMetadata, refusal: ImageError }];
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, pack: false, bundleStrings: false });

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * 12);
  switch (pick) {
    case 0: return Math.floor(rand() * 2 ** 32);
    case 1: return -Math.floor(rand() * 1000) - 1;
    case 2: return rand() * 1e6;
    case 3: return 'x'.repeat(Math.floor(rand() * 300));
    case 4: return new Uint8Array(Math.floor(rand() * 80)).map(() => Math.floor(rand() * 256));
    case 5: return null;
    case 6: return rand() < 0.5;
    case 7: return undefined;
    case 8: return depth < 3 ? Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1)) : [];
    case 9: return depth < 3 ? { v: 1, kind: 'text', [String(Math.floor(rand() * 5))]: randomValue(rand, depth + 1) } : {};
    case 10: return 2 ** 60;
    default: return '\u{1F600}'.repeat(Math.floor(rand() * 50));
  }
}

/** Replaces one randomly chosen field (at any depth) of a decoded CBOR value. */
function mutateStructure(value: unknown, rand: () => number): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return randomValue(rand);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 || rand() < 0.15) return randomValue(rand);
  const [key, child] = entries[Math.floor(rand() * entries.length)]!;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const action = rand();
  if (action < 0.1 && !Array.isArray(copy)) delete (copy as Record<string, unknown>)[key];
  else if (action < 0.2 && !Array.isArray(copy)) (copy as Record<string, unknown>)[`extra${Math.floor(rand() * 9)}`] = randomValue(rand);
  else (copy as Record<string, unknown>)[key as never] = rand() < 0.5 ? mutateStructure(child, rand) : randomValue(rand);
  return copy;
}

function mutateBytes(input: Uint8Array, rand: () => number): Uint8Array {
  const out = Uint8Array.from(input);
  const at = () => Math.floor(rand() * Math.max(1, out.length));
  switch (Math.floor(rand() * 7)) {
    case 0: { out[at()]! ^= 1 << Math.floor(rand() * 8); return out; }
    case 1: { for (let i = 0; i < 1 + rand() * 8; i++) out[at()] = Math.floor(rand() * 256); return out; }
    case 2: return out.subarray(0, at());
    case 3: { const i = at(); return Uint8Array.of(...out.subarray(0, i), ...new Uint8Array(1 + Math.floor(rand() * 8)).map(() => Math.floor(rand() * 256)), ...out.subarray(i)); }
    case 4: { const i = at(); const j = Math.min(out.length, i + Math.floor(rand() * 64)); return Uint8Array.of(...out, ...out.subarray(i, j)); }
    case 5: return new Uint8Array(Math.floor(rand() * 512)).map(() => Math.floor(rand() * 256));
    default: { const i = at(); out[i] = [0x00, 0x18, 0x1b, 0x5f, 0x7f, 0x9f, 0xbf, 0xc0, 0xd9, 0xf7, 0xff][Math.floor(rand() * 11)]!; return out; }
  }
}

export interface FuzzStats {
  runs: number;
  byTarget: Record<string, { runs: number; accepted: number; codes: Record<string, number> }>;
}

/** Runs `iterations` inputs per target. Throws (with the target and input hex) on any non-ProtocolError. */
export function fuzz(targets: Target[], iterations: number, seed: number): FuzzStats {
  const rand = prng(seed);
  const stats: FuzzStats = { runs: 0, byTarget: {} };
  for (const target of targets) {
    const s = (stats.byTarget[target.name] = { runs: 0, accepted: 0, codes: {} as Record<string, number> });
    for (let i = 0; i < iterations; i++) {
      const sample = target.samples[Math.floor(rand() * target.samples.length)]!;
      let input: Uint8Array;
      if (rand() < 0.35) {
        let decoded: unknown;
        try {
          decoded = cbor.decode(sample);
        } catch {
          decoded = null;
        }
        input = Uint8Array.from(cbor.encode(mutateStructure(decoded, rand)));
      } else {
        input = mutateBytes(sample, rand);
        if (rand() < 0.3) input = mutateBytes(input, rand);
      }
      s.runs++;
      stats.runs++;
      try {
        target.run(input);
        s.accepted++;
      } catch (error) {
        if (!(error instanceof (target.refusal ?? ProtocolError))) {
          const hex = Buffer.from(input).toString('hex').slice(0, 2000);
          throw new Error(`fuzz target ${target.name} threw ${String(error)} for input ${hex}`, { cause: error });
        }
        const { code } = error as { code: string };
        s.codes[code] = (s.codes[code] ?? 0) + 1;
      }
    }
  }
  return stats;
}
