// Electron's message ports as the Port the RPC peers speak over. Thin on purpose: everything above them is
// tested over Node's own MessageChannel, because Electron's runtime cannot run in this repository's tests.
import type { MessageChannelMain, MessagePortMain, ParentPort, UtilityProcess } from 'electron';
import type { ControlChannel } from './engine-service.ts';
import type { Port } from './rpc.ts';

export function portOfMain(port: MessagePortMain): Port {
  const adapted: Port = {
    post: (message) => port.postMessage(message),
    onMessage: (listener) => port.on('message', (event) => listener(event.data)),
    onClose: (listener) => port.on('close', listener),
    close: () => port.close(),
  };
  port.start();
  return adapted;
}

/** The engine process's end of its control channel. */
export function controlOfParent(parent: ParentPort): ControlChannel {
  const onMessage: Array<(message: unknown) => void> = [];
  const onPort: Array<(message: unknown, port: Port) => void> = [];
  parent.on('message', (event) => {
    const [port, ...extra] = event.ports;
    for (const other of extra) other.close();
    if (port) onPort.forEach((listener) => listener(event.data, portOfMain(port)));
    else onMessage.forEach((listener) => listener(event.data));
  });
  return {
    post: (message) => parent.postMessage(message),
    onMessage: (listener) => onMessage.push(listener),
    onPort: (listener) => onPort.push(listener),
    onClose: () => {}, // the engine process ends with main
    close: () => process.exit(0),
  };
}

/** Main's end of the control channel and the window ports it hands over. */
export function engineLinkOf(child: UtilityProcess, newChannel: () => MessageChannelMain) {
  const control: Port = {
    post: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', listener),
    onClose: (listener) => child.on('exit', listener),
    close: () => child.kill(),
  };
  return {
    control,
    attach(windowId: number): Port {
      const { port1, port2 } = newChannel();
      child.postMessage({ attach: windowId }, [port2]);
      return portOfMain(port1);
    },
  };
}
