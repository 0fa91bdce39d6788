// Files on their way out: each send with attachments is one upload, first staged chunk by chunk into the engine
// (the web shell's renderer has bytes, not paths), then sealed and uploaded by the engine under an operation id
// whose progress events move the bar. Cancel stops whichever part is running; nothing half-sent is left.
import { create } from 'zustand';

export interface Upload {
  /** the operation id messages.send runs under */
  id: string;
  conversation: string;
  names: string[];
  /** staging counts the first half of the bar, the engine's upload the second */
  phase: 'staging' | 'uploading';
  done: number;
  total: number;
  cancelled: boolean;
}

interface UploadsState {
  uploads: Record<string, Upload>;
  begin(upload: Upload): void;
  update(id: string, patch: Partial<Upload>): void;
  end(id: string): void;
  clear(): void;
}

export const useUploads = create<UploadsState>()((set) => ({
  uploads: {},
  begin: (upload) => set((s) => ({ uploads: { ...s.uploads, [upload.id]: upload } })),
  update: (id, patch) => set((s) => (s.uploads[id] ? { uploads: { ...s.uploads, [id]: { ...s.uploads[id], ...patch } } } : s)),
  end: (id) => set((s) => {
    const { [id]: _gone, ...rest } = s.uploads;
    return { uploads: rest };
  }),
  clear: () => set({ uploads: {} }),
}));
