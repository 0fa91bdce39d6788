// The web shell's entry, for `npm start` and the end-to-end tests.
export { SOCKET_PATH, startWebShell, type WebShell, type WebShellOptions } from './web-shell.ts';
export { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from './guard.ts';
