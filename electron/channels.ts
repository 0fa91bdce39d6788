// The two IPC channels between the preload and main: the preload's calls (invoke) and main's events (send).
export const CALL_CHANNEL = 'wardroom:call';
export const EVENT_CHANNEL = 'wardroom:event';
/** The longest command name a call may carry (the contract's are far shorter). */
export const NAME_MAX = 100;

/** How a call's answer crosses IPC: errors as the contract's { code, message }, never as a thrown Error. */
export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };
