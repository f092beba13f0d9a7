// Browser backend selection: WebGL (GPU; in a worker through OffscreenCanvas), then wasm (SIMD when
// available; multi-threaded when the page is cross-origin isolated), then plain JS cpu. Each backend is imported lazily so that a page that ends up on one
// does not download the others. The wasm binaries are emitted by Vite as hashed assets of this
// origin (no CDN) and are precached by the service worker.
import * as tf from './tf';
// What the '@tensorflow/tfjs' bundle registers on import (see src/ml/tf.ts): gradients for training
// and Grad-CAM, and the chained tensor methods tfjs-layers calls.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BackendName = 'webgl' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = ['webgl', 'wasm', 'cpu'];

export interface BackendAttempt {
  name: BackendName;
  /** Why the backend was not used (undefined for the one that was). */
  error?: string;
}

export interface BackendInfo {
  name: BackendName;
  attempts: BackendAttempt[];
  /** Extra facts worth showing (e.g. "SIMD", "float32 textures"). */
  details: string[];
}

export interface BackendOptions {
  /**
   * wasm threads. 'auto': when the page is cross-origin isolated (SharedArrayBuffer; see
   * public/_headers) and the device has at least MIN_CORES_FOR_THREADS logical cores. 'always':
   * whenever isolated (the bench's comparison). false: never (`?threads=0`).
   */
  threads?: 'auto' | 'always' | false;
}

/**
 * tfjs-backend-wasm gives XNNPACK one thread per two logical cores (its backend.cc assumes
 * hyper-threading: min(requested, hardwareConcurrency / 2, 8)), and the threaded binary starts a
 * pool of 8 workers whatever that number is. Below 4 logical cores that is one thread plus the
 * pool's start-up cost, so 'auto' keeps the single-threaded binary there.
 */
export const MIN_CORES_FOR_THREADS = 4;

/** Whether this context could run the threaded wasm binary: cross-origin isolated, with SharedArrayBuffer. */
export function threadsPossible(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

function logicalCores(): number {
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}

/** Why wasm runs single-threaded here, for the status line. */
function singleThreadReason(options: BackendOptions): string {
  if (options.threads === false) return 'single-threaded (threads turned off)';
  if (!threadsPossible()) return 'single-threaded (page not cross-origin isolated)';
  return `single-threaded (${logicalCores()} logical cores; tfjs uses one thread per two)`;
}

let wasmPathsSet = false;

async function registerBackend(name: BackendName, options: BackendOptions): Promise<void> {
  switch (name) {
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      return;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // Threads need SharedArrayBuffer, i.e. a cross-origin isolated page (COOP + COEP headers).
        // Where the host cannot send them the page is not isolated and the single-threaded SIMD
        // binary runs: the same numbers, just slower. tfjs's own check (threaded module validates)
        // runs only when we allow threads at all.
        const mode = options.threads ?? 'auto';
        const threads = mode !== false && threadsPossible() && (mode === 'always' || logicalCores() >= MIN_CORES_FOR_THREADS);
        if (!threads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        else wasm.setThreadsCount(logicalCores()); // tfjs caps it (see MIN_CORES_FOR_THREADS)
        wasm.setWasmPaths({
          'tfjs-backend-wasm.wasm': wasmPlainUrl,
          'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
          'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
        });
        wasmPathsSet = true;
      }
      return;
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
  }
}

/** Runs a tiny computation and checks the numbers: some GPUs initialise but compute garbage. */
async function selfTest(): Promise<void> {
  const y = tf.tidy(() => tf.tensor2d([1, 2, 3, 4], [2, 2]).matMul(tf.tensor2d([0.5, -1, 2, 0.25], [2, 2])));
  const v = await y.data();
  y.dispose();
  const expected = [4.5, -0.5, 9.5, -2];
  if (expected.some((e, i) => Math.abs(v[i] - e) > 1e-4)) throw new Error(`self-test gave ${Array.from(v).join(', ')}`);
}

/**
 * Activates the first backend of `order` that initialises and passes a self-test.
 * WebGL without float32 render targets is skipped: half-float textures change the probabilities.
 */
export async function initBrowserBackend(order: readonly BackendName[] = BACKEND_ORDER, options: BackendOptions = {}): Promise<BackendInfo> {
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      await registerBackend(name, options);
      const ok = await tf.setBackend(name);
      if (!ok) throw new Error('initialisation failed');
      await tf.ready();
      const details: string[] = [];
      if (name === 'webgl') {
        if (!tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE')) throw new Error('no float32 render targets (half precision would change results)');
        details.push(`WebGL ${tf.env().getNumber('WEBGL_VERSION')}`);
      }
      if (name === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        details.push(simd ? 'SIMD' : 'no SIMD');
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const n = wasm.getThreadsCount();
        details.push(n > 1 ? `${n} threads` : singleThreadReason(options));
        const kernels = await import('./kernels/index');
        kernels.registerWasmGradientKernels();
      }
      await selfTest();
      attempts.push({ name });
      return { name, attempts, details };
    } catch (e) {
      attempts.push({ name, error: (e as Error).message || String(e) });
      try {
        if (tf.findBackend(name)) tf.removeBackend(name);
      } catch {
        /* already gone */
      }
    }
  }
  throw new Error(`no TensorFlow.js backend works here: ${attempts.map((a) => `${a.name}: ${a.error}`).join('; ')}`);
}
