// A worker thread running electron/engine-service.ts exactly as electron/engine-process.ts runs it in Electron's
// utility process, over worker_threads ports instead of process.parentPort.
import { parentPort, workerData } from 'node:worker_threads';
import { startEngineService } from '../../electron/engine-service.ts';
import type { KeystoreStatus } from '../../electron/keystore-plan.ts';
import { workerControl } from './node-ports.ts';

const { root, keystore, env } = workerData as { root: string; keystore: KeystoreStatus; env: Record<string, string> };
const service = startEngineService({
  root,
  keystore,
  control: workerControl(parentPort!),
  log: (line) => process.env.WARDROOM_TEST_LOG && console.error(`[engine worker] ${line}`),
  host: { env, idleCheckMs: 50 },
});
await service.closed;
parentPort!.close();
