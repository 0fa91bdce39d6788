// A sending engine in its own process, for the crash tests (the test SIGKILLs it mid-send). Usage:
//   node engine-child.ts <profileDir> <passphrase> <count> <target,target,...> [sendWaitMs]
// Opens the enrolled profile with Engine.open, prints "ready", then sends `count` messages one after another as
// fast as it can, cycling through the targets (text "<username> <i>"), and prints one JSON line
// {"i","id","target","status"} as each messages.send returns; then "done". Engine diagnostics go to stderr.
import { Engine } from '../../core/engine/engine.ts';

const [profileDir, passphrase, countText, targetsText, sendWaitText] = process.argv.slice(2);
const engine = await Engine.open({
  profileDir: profileDir!, passphrase: passphrase!,
  ...(sendWaitText !== undefined ? { sendWaitMs: Number(sendWaitText) } : {}),
  log: (line) => process.stderr.write(`[child ${process.pid}] ${line}\n`),
});
console.log('ready');
const targets = targetsText!.split(',');
for (let i = 0; i < Number(countText); i++) {
  const target = targets[i % targets.length]!;
  const sent = await engine.api.call('messages.send', { conversation: (await engine.api.call('conversations.resolve', { target })).id, text: `${engine.username} ${i}` });
  console.log(JSON.stringify({ i, id: sent.id, target, status: sent.status }));
}
console.log('done');
await engine.close();
