// What runs in the engine process (an Electron utilityProcess, so a long decrypt never freezes the window): one
// ProfileHost over the app's profiles directory, and one host session per window, each speaking JSON-RPC over
// its own message port. The control channel (the process's parentPort) carries main's few commands (lock all,
// close) and the engine's calls back to main for the OS keystore. Names and requests pass through untouched: the
// session and the contract's schemas check them, exactly as for the CLI and the web shell.
import { z } from 'zod';
import { ApiError } from '../core/api/contract.ts';
import { createEngineHost, createSession, ProfileHost, type ProfileHostOptions } from '../core/host/index.ts';
import { remoteKeystore, withKeystore } from './keystore-host.ts';
import type { KeystoreStatus } from './keystore-plan.ts';
import { MAX_REQUEST_CHARS, RpcPeer, type Port } from './rpc.ts';

/** The process's channel to main: JSON-RPC text, plus the ports main hands over for new windows. */
export interface ControlChannel extends Port {
  onPort(listener: (message: unknown, port: Port) => void): void;
}

/** What main puts beside a window's port. */
export const AttachMessage = z.object({ attach: z.number().int().nonnegative() }).strict();

export interface EngineServiceOptions {
  /** the profiles directory (one subdirectory per profile) */
  root: string;
  keystore: KeystoreStatus;
  control: ControlChannel;
  log: (line: string) => void;
  /** tests: the idle check interval, engine options, the environment */
  host?: Partial<ProfileHostOptions>;
}

export interface EngineService {
  host: ProfileHost;
  /** resolves once main asked the service to close and every profile is closed */
  closed: Promise<void>;
}

export function startEngineService(options: EngineServiceOptions): EngineService {
  const { log } = options;
  // the keystore asks main over the control channel, which is set up below (its calls come later)
  const keystore = options.keystore.available ? remoteKeystore((method, params) => control.call(method, params), options.keystore.provider) : undefined;
  const hostOptions = { ...options.host, root: options.root, ...(keystore ? { keystore } : {}) };
  const keystoreHost = withKeystore(createEngineHost(hostOptions), { status: options.keystore, wrap: keystore }, log);
  const host = new ProfileHost({ ...hostOptions, engines: keystoreHost.engines, log });
  const windows = new Map<number, RpcPeer>();

  let finish: () => void = () => {};
  const closed = new Promise<void>((resolve) => (finish = resolve));
  const close = async () => {
    keystoreHost.quitting();
    for (const peer of windows.values()) peer.close();
    try {
      await host.close();
    } finally {
      finish();
    }
  };

  const commands: Record<string, () => Promise<unknown>> = {
    'engine.lockAll': async () => {
      await host.lockAll('system');
      return {};
    },
    'engine.close': async () => {
      await close();
      return {};
    },
  };
  const control = new RpcPeer(options.control, {
    maxInboundChars: MAX_REQUEST_CHARS,
    handle: async (method) => {
      const command = Object.hasOwn(commands, method) ? commands[method] : undefined;
      if (!command) throw new ApiError('UNKNOWN_COMMAND', `unknown control command: ${method.slice(0, 64)}`);
      return command();
    },
    // main went away: nothing can reach this process any more
    onClose: () => void close(),
    log,
  });

  options.control.onPort((message, port) => {
    const parsed = AttachMessage.safeParse(message);
    if (!parsed.success) {
      log('engine: refused a port without a window id');
      port.close();
      return;
    }
    const windowId = parsed.data.attach;
    windows.get(windowId)?.close(); // a reloaded window gets a fresh session
    const session = createSession(host);
    const peer = new RpcPeer(port, {
      maxInboundChars: MAX_REQUEST_CHARS,
      handle: (method, params) => session.callUntyped(method, params),
      onClose: () => {
        session.close();
        if (windows.get(windowId) === peer) windows.delete(windowId);
      },
      log,
    });
    session.onAny((name, payload, seq) => peer.notify(name, { ...(payload as object), seq }));
    windows.set(windowId, peer);
  });
  return { host, closed };
}
