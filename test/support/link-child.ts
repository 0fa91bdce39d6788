// A device being linked, in its own process, for tests that kill it (SIGKILL) while it waits. Usage:
//   node link-child.ts <profileDir> <passphrase> <invite link> <username>
// Starts link() (polling every 50 ms), prints the link code as one line, then waits for the approval.
import { link } from '../../core/engine/enrol.ts';
import { TEST_KDF } from './vault-helpers.ts';

const [profileDir, passphrase, invite, username] = process.argv.slice(2);
const pending = await link({ profileDir: profileDir!, passphrase: passphrase!, kdf: TEST_KDF }, invite!, username!, Date.now(), { pollMs: 50 });
console.log(pending.code);
await pending.completed;
