// The preload (sandboxed, context-isolated): window.wardroom = { call, on } over ipcRenderer, and nothing else.
// A sandboxed preload cannot load other files at run time, so the packaging step bundles this file with
// bridge.ts and channels.ts into one CommonJS script (docs/architecture.md, "Electron shell").
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge.ts';

contextBridge.exposeInMainWorld('wardroom', createBridge(ipcRenderer));
