// Builds the renderer (renderer/) into renderer/dist, the bundle both shells serve. Relative asset paths, so the
// same files load from the web shell's 127.0.0.1 and from Electron's custom protocol. No module-preload polyfill:
// it would be an inline script, which the Content-Security-Policy refuses.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
