// One file transfer by an engine in its own process, for the tests that SIGKILL it mid-transfer or measure its
// peak memory. Usage:
//   node file-child.ts <profileDir> <passphrase> send <target> <file>
//   node file-child.ts <profileDir> <passphrase> download <messageId> <dir>
// A receiver syncs first. Prints "ready" once the engine is open, a JSON line {"done","total"} for each progress step, then one JSON line
// {"result", "ms", "maxRssBytes"} (the transfer's time and the process's peak resident memory) and exits. Engine diagnostics go to stderr.
import { Engine } from '../../core/engine/engine.ts';

const [profileDir, passphrase, action, what, where] = process.argv.slice(2);
const engine = await Engine.open({ profileDir: profileDir!, passphrase: passphrase!, log: (line) => process.stderr.write(`[file-child ${process.pid}] ${line}\n`) });
console.log('ready');
engine.api.on('operation.progress', (p) => console.log(JSON.stringify({ done: p.done, total: p.total })));
// a receiver fetches what the relay holds first: the message naming the file may not have arrived yet
if (action === 'download') await engine.api.call('sync.now', {});
const started = performance.now();
const result = action === 'send'
  ? await engine.api.call('messages.send', { conversation: (await engine.api.call('conversations.resolve', { target: what! })).id, attachments: [{ path: where! }], operation: 'child' })
  : await engine.api.call('files.download', { message: what!, dir: where!, operation: 'child' });
console.log(JSON.stringify({ result, ms: performance.now() - started, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
await engine.close();
