#!/usr/bin/env node
// `wardroom`: the command-line client. Wires runCli (core/cli/main.ts) to this process: argv, stdout/stderr, the
// environment, Ctrl-C and the exit code. Runs on Node 24 directly (type stripping), like server/bin.ts.
import { createEngineHost } from '../engine/host.ts';
import { runCli } from './main.ts';

/** After the first Ctrl-C a command has this long to close its profile cleanly; a second Ctrl-C exits at once. */
const GRACE_MS = 5000;

let interrupt: () => void = () => {};
const interrupted = new Promise<void>((resolve) => {
  interrupt = resolve;
});
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  interrupt();
  setTimeout(() => process.exit(130), GRACE_MS).unref();
});

// A reader that went away (`wardroom read … | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await runCli(process.argv.slice(2), createEngineHost({ env: process.env }), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  interrupted,
});

// Exit explicitly (a stray handle must not keep a finished command alive), once both streams are flushed.
process.exitCode = code;
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
process.exit(code);
