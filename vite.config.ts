import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';
import { embedWgslPlugin } from './scripts/embed-wgsl.mjs';
import { tfjsWasmThreads } from './src/app/vite_plugin.js';

/**
 * Cross-origin isolation (COOP + COEP) on the dev and preview servers: SharedArrayBuffer, hence
 * tfjs-backend-wasm's threaded SIMD build, needs it. A static host must send the same two
 * headers (README, "Threads"), or leave it to the demo's service worker, which adds them to
 * everything it serves (demo/sw/).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The demo's web app manifest (installability: name, icons 192/512 + maskable, standalone). */
const manifest = {
  name: 'LXMERT visual question answering',
  short_name: 'LXMERT VQA',
  description:
    'Ask questions about a photo. LXMERT and its Faster R-CNN run in the page (WebGPU or WASM), offline after the first visit.',
  start_url: './',
  scope: './',
  display: 'standalone' as const,
  orientation: 'any' as const,
  theme_color: '#1f4e79',
  background_color: '#f5f7fa',
  icons: [
    { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    {
      src: 'icons/icon-maskable-512.png',
      sizes: '512x512',
      type: 'image/png',
      purpose: 'maskable',
    },
  ],
};

// One config for the demo page (index.html → demo/dist; dist/ is tsc's library output, which
// bin/lxmert.js runs from) and the test runner.
export default defineConfig({
  base: './',
  publicDir: 'demo/public',
  plugins: [
    // kernels/wgsl_sources.ts is built, not committed: written before Vite or Vitest imports it
    embedWgslPlugin(),
    tfjsWasmThreads(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'demo/sw',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest,
      injectManifest: {
        // The app shell, the model worker and tfjs-backend-wasm's binaries included; model
        // shards (weights/) are never in the build, and the service worker has no runtime
        // route for them: the runtime keeps them in its own cache.
        globPatterns: ['**/*.{html,js,css,wasm,png,svg,ico,txt,json,webmanifest}'],
        globIgnores: ['weights/**'],
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
      },
    }),
  ],
  // the model's worker is an ES module worker (it imports tf.js backends on demand)
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { outDir: 'demo/dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
