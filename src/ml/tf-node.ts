// Node entry for tfjs: the wasm backend (tfjs-node cannot install here), with our gradient kernels
// registered so that model.fit works on conv nets. Scripts and unit tests call initNodeBackend().
//
// Multithreading: tfjs-backend-wasm disables its threaded build in Node (its loader hands the
// pthread workers blob: URLs, which worker_threads cannot load). We load the threaded-SIMD build
// ourselves with file paths instead, so XNNPACK (convolutions, matmuls, elementwise ops) runs on
// several cores. Threads: options.threads, else env CXR_WASM_THREADS, else min(4, CPU count);
// 1 (or any failure) falls back to the stock single-threaded SIMD build.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { BackendWasm, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { registerWasmGradientKernels } from './kernels/index';

export type NodeBackend = 'wasm' | 'cpu';

export interface NodeBackendOptions {
  /** wasm only: XNNPACK threads (1 = stock single-threaded build). Default: CXR_WASM_THREADS or min(4, CPUs). */
  threads?: number;
}

const WASM_PRIORITY = 2;
let threadedInstalled = 0; // thread count of the installed threaded factory (0 = stock factory)

function defaultThreads(): number {
  const env = Number(process.env.CXR_WASM_THREADS);
  if (Number.isFinite(env) && env >= 1) return Math.floor(env);
  return Math.max(1, Math.min(4, os.cpus().length));
}

interface NodeWorkerLike {
  ref(): void;
  unref(): void;
}

interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => number;
  PThread?: { runningWorkers: NodeWorkerLike[]; unusedWorkers: NodeWorkerLike[] };
  tfjs?: unknown;
}

/** Writes the pthread worker script (shipped as a JS string) to a file worker_threads can load. */
function workerScriptPath(outDir: string, version: string): string {
  const require = createRequire(import.meta.url);
  const { wasmWorkerContents } = require(path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // tfjs escapes newlines the same way before turning this string into a Blob.
  const contents = wasmWorkerContents.replace(/\n/g, '\\n');
  const file = path.join(os.tmpdir(), `cxr-lab-tfjs-wasm-${version}-worker.cjs`);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== contents) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  }
  return file;
}

async function createThreadedModule(threads: number): Promise<EmscriptenModule> {
  const require = createRequire(import.meta.url);
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'));
  const outDir = path.join(distDir, '..', 'wasm-out');
  const mainScript = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as (cfg: object) => Promise<EmscriptenModule>;
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const worker = workerScriptPath(outDir, version);
  // The backend sizes its thread pool as (logical cores / 2) clamped to [1, 4] when the module is
  // instantiated (emscripten reads os.cpus() in Node); present 2 * threads CPUs meanwhile.
  const realCpus = os.cpus;
  const cpu0 = realCpus()[0];
  (os as { cpus: () => os.CpuInfo[] }).cpus = () => Array.from({ length: 2 * threads }, () => cpu0);
  let module: EmscriptenModule;
  try {
    module = await factory({
      locateFile: (p: string) => (p.endsWith('.worker.js') ? worker : p.endsWith('.wasm') ? path.join(distDir, 'tfjs-backend-wasm-threaded-simd.wasm') : p),
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    (os as { cpus: () => os.CpuInfo[] }).cpus = realCpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  // The pool threads live forever and must not keep the process alive: emscripten ref()s a worker
  // when it starts a pthread on it (possibly after this point), so make ref() a no-op as well.
  for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) {
    w.unref();
    w.ref = () => {};
  }
  return module;
}

function installThreadedWasm(threads: number): void {
  if (threadedInstalled === threads) return;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        setThreadsCount(threads);
        const module = await createThreadedModule(threads);
        return new BackendWasm(module as never);
      } catch (e) {
        console.warn(`[tf-node] threaded wasm backend failed (${(e as Error).message}); using 1 thread`);
        const module = await createSingleThreadedModule();
        return new BackendWasm(module as never);
      }
    },
    WASM_PRIORITY,
  );
  threadedInstalled = threads;
}

async function createSingleThreadedModule(): Promise<EmscriptenModule> {
  const require = createRequire(import.meta.url);
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  const factory = require(path.join(distDir, '..', 'wasm-out', 'tfjs-backend-wasm.js')) as (cfg: object) => Promise<EmscriptenModule>;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const wasmFile = path.join(distDir, simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm');
  const module = await factory({ locateFile: (p: string) => (p.endsWith('.wasm') ? wasmFile : p) });
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

export async function initNodeBackend(name: NodeBackend = 'wasm', options: NodeBackendOptions = {}): Promise<typeof tf> {
  if (name === 'wasm') {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
    setWasmPaths(dir + path.sep);
    registerWasmGradientKernels();
    const threads = Math.max(1, Math.min(4, Math.floor(options.threads ?? defaultThreads())));
    // Only (re)install before the wasm backend exists; an initialised backend keeps its threads.
    const initialised = tf.engine().registry['wasm'] != null;
    if (threads > 1 && !initialised) installThreadedWasm(threads);
  }
  await tf.setBackend(name);
  await tf.ready();
  return tf;
}

/** Number of XNNPACK threads of the initialised wasm backend (1 when single-threaded). */
export function wasmThreadsCount(): number {
  const b = tf.findBackend('wasm') as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null;
  return b?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}
