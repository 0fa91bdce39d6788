// Files on their way out: each send with attachments is one upload, first staged chunk by chunk into the engine
// (the web shell's renderer has bytes, not paths), then sealed and uploaded by the engine under an operation id
// whose progress events move the bar. Cancel stops whichever part is running; nothing half-sent is left.
import { transferStore } from './transfers.ts';

export interface Upload {
  /** the operation id messages.send runs under */
  id: string;
  conversation: string;
  names: string[];
  /** staging counts the first half of the bar, the engine's upload the second */
  phase: 'staging' | 'uploading';
  done: number;
  total: number;
  /** the engine cannot reach the relay and waits for it */
  waiting: boolean;
  cancelled: boolean;
}

export const useUploads = transferStore<Upload>();
