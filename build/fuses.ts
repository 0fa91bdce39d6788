// Electron fuses to flip in the packaged binary before it is signed (DESIGN.md section 6). @electron/fuses is not
// installed here, so this is the checklist the packaging step applies with it, after electron-builder has laid
// out the app and before signing (flipping changes the binary, so it must come first):
//
//   import { flipFuses, FuseVersion, FuseV1Options } from '@electron/fuses';
//   await flipFuses(electronBinary, { version: FuseVersion.V1, resetAdHocDarwinSignature: isMac,
//     ...Object.fromEntries(FUSES.map((f) => [FuseV1Options[f.fuse], f.value])) });
//
// and then checks each with `npx @electron/fuses read --app <binary>`. The names are FuseV1Options' members.

export interface Fuse {
  fuse: 'RunAsNode' | 'EnableCookieEncryption' | 'EnableNodeOptionsEnvironmentVariable' | 'EnableNodeCliInspectArguments'
    | 'EnableEmbeddedAsarIntegrityValidation' | 'OnlyLoadAppFromAsar' | 'GrantFileProtocolExtraPrivileges';
  value: boolean;
  why: string;
}

export const FUSES: readonly Fuse[] = [
  { fuse: 'RunAsNode', value: false, why: 'ELECTRON_RUN_AS_NODE would turn the signed binary into a plain Node that runs any script with our identity' },
  { fuse: 'EnableNodeOptionsEnvironmentVariable', value: false, why: 'NODE_OPTIONS could preload code (--require) into the main process' },
  { fuse: 'EnableNodeCliInspectArguments', value: false, why: '--inspect and friends would open a debugger into the main process' },
  { fuse: 'EnableCookieEncryption', value: true, why: 'cookies on disk encrypted with the OS keystore (we set none, but Chromium may)' },
  { fuse: 'EnableEmbeddedAsarIntegrityValidation', value: true, why: 'app.asar is checked against the hash embedded at build time, so it cannot be swapped after signing' },
  { fuse: 'OnlyLoadAppFromAsar', value: true, why: 'the app loads only from the checked app.asar, never a loose app/ folder beside it' },
  { fuse: 'GrantFileProtocolExtraPrivileges', value: false, why: 'the app is served from wardroom-app://, so file:// keeps no special powers' },
];
