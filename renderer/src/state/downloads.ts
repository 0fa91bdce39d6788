// Files on their way in: each files.open (to view a file or to save it) runs under an operation id whose progress
// events move its bar, and Cancel stops it; the engine keeps nothing of a cancelled one.
import { transferStore } from './transfers.ts';

export interface Download {
  /** the operation id files.open runs under */
  id: string;
  message: string;
  index: number;
  done: number;
  total: number;
  /** the engine cannot reach the relay and waits for it */
  waiting: boolean;
  cancelled: boolean;
}

export const useDownloads = transferStore<Download>();
