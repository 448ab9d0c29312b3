// Vite config for the benchmark page (root: bench/). Used by bench/run.js through scripts/browser.js.
import { createReadStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = join(repo, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');

/** Serves TensorFlow.js's .wasm binaries at /tfjs-wasm/ (the page calls setWasmPaths('/tfjs-wasm/')). */
function tfjsWasm() {
  return {
    name: 'tfjs-wasm',
    /** @param {import('vite').ViteDevServer} server */
    configureServer(server) {
      server.middlewares.use('/tfjs-wasm', (req, res, next) => {
        const name = (req.url ?? '').split('?')[0].replace(/^\//, '');
        const file = join(wasmDir, name);
        if (!/^[\w.-]+\.wasm$/.test(name) || !existsSync(file)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        createReadStream(file).pipe(res);
      });
    },
  };
}

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  cacheDir: join(repo, 'node_modules/.vite-bench'),
  plugins: [tfjsWasm()],
  server: {
    // Cross-origin isolation: SharedArrayBuffer for tfjs-backend-wasm's threads, and 5 us performance.now().
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  optimizeDeps: {
    // Pre-bundle up front: discovering them while the page runs would make vite reload it mid-benchmark.
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients.js',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-wasm',
    ],
  },
});
