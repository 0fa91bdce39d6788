// The one way the renderer reaches core: `window.wardroom`, the contract of core/api (engine and host commands, their
// events). The Electron preload provides it over IPC; in the web shell, web-shell-bridge.ts provides it over the
// shell's WebSocket. Only types come from core/api (the lint rule enforces it): the checks run in core.
import type { z } from 'zod';
import type { Commands, Events } from '../../../core/api/contract.ts';
import type { HostCommands, hostEvents } from '../../../core/api/host.ts';

/**
 * The desktop shell's own join-link command and event (electron/shell-commands.ts answers and sends them; the web
 * shell has neither, and refuses the command as unknown). Written out here because they live outside core/api.
 */
type ShellCommands = {
  'shell.takeJoinLink': { request: z.ZodObject<Record<string, never>>; response: z.ZodObject<{ link: z.ZodOptional<z.ZodString> }> };
};
type ShellEvents = { 'shell.joinLink': z.ZodObject<{ link: z.ZodString }> };

type AllCommands = Commands & HostCommands & ShellCommands;
type AllEvents = Events & typeof hostEvents & ShellEvents;

export type CommandName = keyof AllCommands;
export type Request<N extends CommandName> = z.input<AllCommands[N]['request']>;
export type Response<N extends CommandName> = z.output<AllCommands[N]['response']>;
export type EventName = keyof AllEvents;
export type Payload<N extends EventName> = z.output<AllEvents[N]>;

export interface WardroomBridge {
  call<N extends CommandName>(name: N, request: Request<N>): Promise<Response<N>>;
  /** `seq` numbers the engine's events (and, separately, the host's): see docs/architecture.md, resuming. */
  on<N extends EventName>(name: N, listener: (payload: Payload<N>, seq: number) => void): () => void;
  /**
   * Whether the bridge reaches its host at all (the web shell's WebSocket can drop; a new link is a new session,
   * with no profile selected yet). Optional: a shell whose link cannot drop leaves it out.
   */
  onLink?(listener: (up: boolean) => void): () => void;
}

/** How every failed call rejects: the contract's error code and a one-line message in the user's terms. */
export interface BridgeError {
  code: string;
  message: string;
}

export const errorCode = (error: unknown): string | undefined => (error as Partial<BridgeError> | undefined)?.code;
export const errorText = (error: unknown): string => (error as Partial<BridgeError> | undefined)?.message ?? String(error);

declare global {
  interface Window {
    wardroom?: WardroomBridge;
  }
}
