// The part of the qrcode package the renderer uses: its encoder core, which needs neither Node nor a canvas. The
// package's own types pull in Node's, which the renderer's typecheck must not see (renderer/tsconfig.json).
declare module 'qrcode/lib/core/qrcode.js' {
  export function create(text: string, options?: { errorCorrectionLevel?: 'L' | 'M' | 'Q' | 'H' }): {
    modules: { size: number; data: Uint8Array };
  };
}
