// Node's MessageChannel and worker threads as the Port and ControlChannel of electron/rpc.ts and
// electron/engine-service.ts: the same shapes Electron's MessagePortMain and parentPort take in electron/ports.ts,
// so the engine process's code runs unchanged in a worker thread (Electron's runtime cannot run in these tests).
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ControlChannel } from '../../electron/engine-service.ts';
import type { EngineLink } from '../../electron/engine-client.ts';
import type { Port } from '../../electron/rpc.ts';
import { MessageChannel } from 'node:worker_threads';

export function nodePort(port: MessagePort): Port {
  return {
    post: (message) => port.postMessage(message),
    onMessage: (listener) => port.on('message', listener),
    onClose: (listener) => port.on('close', listener),
    close: () => port.close(),
  };
}

/** A window's port arrives beside its attach message, as { message, port } (Electron puts it in event.ports). */
export function workerControl(parent: MessagePort): ControlChannel {
  const onMessage: Array<(message: unknown) => void> = [];
  const onPort: Array<(message: unknown, port: Port) => void> = [];
  parent.on('message', (data: unknown) => {
    const carried = data as { message?: unknown; port?: MessagePort } | null;
    if (carried !== null && typeof carried === 'object' && carried.port !== undefined) onPort.forEach((listener) => listener(carried.message, nodePort(carried.port!)));
    else onMessage.forEach((listener) => listener(data));
  });
  return {
    post: (message) => parent.postMessage(message),
    onMessage: (listener) => onMessage.push(listener),
    onPort: (listener) => onPort.push(listener),
    onClose: (listener) => parent.on('close', listener),
    close: () => parent.close(),
  };
}

/** Main's side of a worker running the engine service: its control channel, and a new port per window. */
export function workerLink(worker: Worker): EngineLink {
  return {
    control: {
      post: (message) => worker.postMessage(message),
      onMessage: (listener) => worker.on('message', listener),
      onClose: (listener) => worker.on('exit', listener),
      close: () => void worker.terminate(),
    },
    attach(windowId) {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ message: { attach: windowId }, port: port2 }, [port2]);
      return nodePort(port1);
    },
  };
}
