#!/usr/bin/env node
// `wardroom`: the command-line client. Wires runCli (core/cli/main.ts) to this process: argv, stdout/stderr, the
// environment, Ctrl-C and the exit code. Runs on Node 24 directly (type stripping), like server/bin.ts.
import module from 'node:module';
import path from 'node:path';
import type { EngineHost } from '../api/host.ts';

// Every command is a fresh process: V8's on-disk compile cache halves the start-up (type stripping and compiling
// the engine). It lives beside the project's own dependencies, not in a shared /tmp that others could write to.
module.enableCompileCache?.(path.join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'wardroom-compile-cache'));
const { runCli } = await import('./main.ts');

/** After the first Ctrl-C a command has this long to close its profile cleanly. */
const GRACE_MS = 5000;
/** A second SIGINT this soon after the first is the same Ctrl-C passed on by a wrapper (npm run forwards it). */
const SAME_INTERRUPT_MS = 1000;

// Under `npm run wardroom -- …` npm starts us in the package root; relative paths (--profile ./me) mean the
// directory the person typed the command in.
if (process.env.npm_lifecycle_event === 'wardroom' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

let interrupt: () => void = () => {};
const interrupted = new Promise<void>((resolve) => {
  interrupt = resolve;
});
let firstInterrupt = 0;
const onInterrupt = () => {
  if (firstInterrupt === 0) {
    firstInterrupt = Date.now();
    interrupt();
    setTimeout(() => process.exit(130), GRACE_MS).unref();
  } else if (Date.now() - firstInterrupt > SAME_INTERRUPT_MS) {
    process.exit(130); // asked twice: stop now
  }
};
process.on('SIGINT', onInterrupt);
// SIGTERM (a service manager stopping `serve`) asks for the same clean stop as Ctrl-C.
process.on('SIGTERM', onInterrupt);

// A reader that went away (`wardroom read … | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// The engine (libsodium, SQLCipher) loads only for commands that need it: --help and usage errors stay instant.
const engineHost = async () => (await import('../host/index.ts')).createEngineHost({ env: process.env });
const host: EngineHost = {
  open: async (...args) => (await engineHost()).open(...args),
  join: async (...args) => (await engineHost()).join(...args),
  link: async (...args) => (await engineHost()).link(...args),
};

/** Standard input up to the first line break (or its end), stopping once it is longer than `maxBytes`. */
async function stdinLine(maxBytes: number): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.includes('\n') || Buffer.byteLength(text) > maxBytes) break;
  }
  process.stdin.destroy();
  return text;
}

const code = await runCli(process.argv.slice(2), host, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  interrupted,
  stdio: { input: process.stdin, output: process.stdout },
  stdinLine,
  ...(process.stderr.isTTY ? { redraw: (text: string, end: boolean) => process.stderr.write(end ? '\n' : `\r\x1b[2K${text}`) } : {}),
});

// Exit explicitly (a stray handle must not keep a finished command alive), once both streams are flushed.
process.exitCode = code;
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
module.flushCompileCache?.();
process.exit(code);
