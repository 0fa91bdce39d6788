// The signature verifier's thread: Ed25519 checks for channel messages, off the engine's thread (see
// signature-verifier.ts). It holds no keys: only public keys, messages and signatures come in.
import { parentPort } from 'node:worker_threads';
import { verify } from '../crypto/sodium.ts';
import type { SignatureJob } from './signature-verifier.ts';

parentPort!.on('message', ({ id, jobs }: { id: number; jobs: SignatureJob[] }) => {
  parentPort!.postMessage({ id, results: jobs.map((j) => verify(j.signature, j.message, j.publicKey)) });
});
