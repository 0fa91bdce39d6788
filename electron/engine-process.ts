// The engine process's entry (run by utilityProcess.fork from main.ts): the profiles directory, the OS keystore's
// status and any first invite (npm start's embedded relay) come on the command line, everything else over
// process.parentPort. See engine-service.ts.
import type {} from 'electron'; // process.parentPort's type
import { parseArgs } from 'node:util';
import { startEngineService } from './engine-service.ts';
import { KeystoreStatusSchema } from './keystore.ts';
import { controlOfParent } from './ports.ts';

// Electron may put its own arguments beside ours: only the --wardroom-* options are read.
const { values } = parseArgs({
  args: process.argv.filter((arg) => arg.startsWith('--wardroom-')),
  options: { 'wardroom-profiles': { type: 'string' }, 'wardroom-keystore': { type: 'string' }, 'wardroom-first-invite': { type: 'string' } },
  strict: true,
});
const root = values['wardroom-profiles'];
const keystore = KeystoreStatusSchema.safeParse(JSON.parse(values['wardroom-keystore'] ?? 'null'));
if (root === undefined || !keystore.success) {
  process.stderr.write('wardroom engine: started without --wardroom-profiles and --wardroom-keystore (main.ts starts this process)\n');
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`wardroom engine: ${line}\n`);
// Main ends this process once engine.close has answered (every vault closed); it also ends with main.
const firstInvite = values['wardroom-first-invite'];
startEngineService({ root, keystore: keystore.data, control: controlOfParent(process.parentPort), log, ...(firstInvite ? { host: { firstInvite } } : {}) });
