/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import {
  hoistWorkerImportsPlugin,
  modelDirPlugin,
  sharedWorkerChunksPlugin,
  staticHeadersPlugin,
  tfjsThreadedWasmPlugin,
  workerSafePreloadPlugin,
} from './scripts/lib/vite-plugins.ts';

// The DICOM codecs' emscripten glue (src/image/dicom-codecs.ts) requires Node's fs/path on a branch
// that only runs under Node; Vite stubs them in the browser build. Say so once here instead of
// printing the warning for every codec in every worker bundle.
function quietCodecGlue(warning: { message: string }, warn: (w: { message: string }) => void): void {
  if (/externalized for browser compatibility/.test(warning.message) && /@cornerstonejs\/codec-/.test(warning.message)) return;
  warn(warning);
}

// base './' so the built site works from any sub-path (and from `vite preview`).
export default defineConfig({
  base: './',
  plugins: [
    react(),
    sharedWorkerChunksPlugin(),
    hoistWorkerImportsPlugin(),
    workerSafePreloadPlugin(),
    tfjsThreadedWasmPlugin(),
    modelDirPlugin(),
    staticHeadersPlugin(),
    // Offline + installable: workbox precaches the app shell, the wasm binaries and the model.
    VitePWA({
      injectRegister: false, // registered by src/ui/lib/sw.ts
      registerType: 'autoUpdate',
      includeManifestIcons: false, // the glob below already takes them from public/icons
      manifest: {
        name: 'CXR Lab',
        short_name: 'CXR Lab',
        description:
          'Chest X-ray classifier (covid / normal / pneumonia) that runs entirely in the browser. Research and education only; not for clinical use.',
        start_url: './#/classify',
        scope: './',
        display: 'standalone',
        background_color: '#f4f6f9',
        theme_color: '#0b3d6e',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // Everything in dist/ the app can need offline, each file once (the web manifest is added by
        // the plugin itself; icons come from public/ through the glob).
        globPatterns: ['**/*.{js,css,html,wasm,svg,png,json,bin}'],
        // The model weights and the wasm binaries are bigger than workbox's 2 MiB default.
        maximumFileSizeToCacheInBytes: 100 * 1024 * 1024,
        navigateFallback: 'index.html',
        skipWaiting: true,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  // The dev server isolates the page like public/_headers does in production (wasm threads).
  server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      onwarn: quietCodecGlue,
      // Pure TypeScript shared by the page and the workers (src/core, src/image) in one chunk rather
      // than a dozen small ones: a cold start then makes far fewer requests, which queue six at a time.
      // (The DICOM decoders stay apart: they load only for a DICOM file.)
      output: { codeSplitting: { groups: [{ name: 'core', test: /[\\/]src[\\/](core|image)[\\/](?!dicom|jpeg-extended)/ }] } },
    },
  },
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
