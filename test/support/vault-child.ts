// A separate process that uses a vault, for the multi-process and crash tests. Usage:
//   node vault-child.ts hold  <dir> <passphrase>   open the vault, print "ready", keep it open until killed
//   node vault-child.ts write <dir> <passphrase> <batchSize> <runId>
//       open the vault, then commit batches of messages forever, printing "committed <n> <ms the batch took>" after each commit
import { openVault, VaultError } from '../../core/vault/index.ts';
import { makeMessages } from './vault-helpers.ts';

const [mode, dir, passphrase, batchSizeText, runId] = process.argv.slice(2);

try {
  const vault = await openVault({ dir: dir!, passphrase: passphrase! });
  console.log('ready');
  if (mode === 'hold') {
    setInterval(() => {}, 60_000);
  } else if (mode === 'write') {
    const batchSize = Number(batchSizeText);
    for (let batch = 0; ; batch++) {
      const started = performance.now();
      await vault.insertMessages(makeMessages(`run${runId}`, batchSize, { start: batch * batchSize, body: (i) => `crashtest payload ${i} ${'x'.repeat(200)}` }));
      console.log(`committed ${batch + 1} ${Math.round(performance.now() - started)}`);
    }
  }
} catch (error) {
  console.log(`error ${error instanceof VaultError ? error.code : String(error)}`);
  process.exitCode = 1;
}
