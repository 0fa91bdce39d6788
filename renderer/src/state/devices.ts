// This account's devices as the relay lists them (devices.list), and a link request this window is waiting on:
// the code a new install shows until an existing device approves it.
import { create } from 'zustand';
import type { Response } from '../bridge/api.ts';

export type Device = Response<'devices.list'>['devices'][number];

interface DevicesState {
  devices?: Device[];
  loading: boolean;
  error?: string;
  /** profiles.link in progress here: the profile it creates, and the code once the relay holds the request */
  linking?: { profile: string; code?: string };
  set(patch: Partial<Omit<DevicesState, 'set' | 'upsert' | 'clear'>>): void;
  upsert(device: Device): void;
  clear(): void;
}

export const useDevices = create<DevicesState>()((set) => ({
  loading: false,
  set: (patch) => set(patch),
  upsert: (device) => set((s) => ({ devices: s.devices?.some((d) => d.id === device.id) ? s.devices.map((d) => (d.id === device.id ? device : d)) : [...(s.devices ?? []), device] })),
  clear: () => set({ devices: undefined, loading: false, error: undefined }),
}));
