// The systems a benchmark row runs on: Kiln eager and jit on its best CPU device, TensorFlow.js on
// its wasm (XNNPACK) and cpu backends, jax-js on wasm, and onnxruntime-node (native code) as the
// reference for inference rows. Peers load lazily and at their best settings on this machine; each
// load failure becomes a note instead of an abort.
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { installTfjsWasmThreadShim } from './peers/tfjs_threads.js';
import { installWebWorkerShim } from './peers/web_worker_shim.js';
import { registerTfjsGradients } from './peers/tfjs_gradients.js';

const require = createRequire(import.meta.url);

export const SYSTEMS = ['kiln-eager', 'kiln-jit', 'tfjs-wasm', 'tfjs-cpu', 'jax-wasm', 'onnx-native'] as const;
export type SystemId = (typeof SYSTEMS)[number];

export const SYSTEM_LABEL: Record<SystemId, string> = {
  'kiln-eager': 'Kiln eager',
  'kiln-jit': 'Kiln jit',
  'tfjs-wasm': 'tfjs-wasm',
  'tfjs-cpu': 'tfjs-cpu',
  'jax-wasm': 'jax-js wasm (jit)',
  'onnx-native': 'onnxruntime (native)',
};

export type Kiln = typeof import('../src/index.js');
export type Tf = typeof import('@tensorflow/tfjs-core');
export type Jax = typeof import('@jax-js/jax');
export type Ort = typeof import('onnxruntime-node');

export interface Env {
  kiln: Kiln;
  /** The device Kiln runs on ('wasm', or 'cpu-ref' when the wasm backend is not registered). */
  kilnDevice: string;
  tf: Tf | null;
  /** Which tfjs backends initialized ('wasm', 'cpu'). */
  tfBackends: Set<string>;
  jax: Jax | null;
  /** onnxruntime-node (inference rows only), and the intra-op threads its sessions use. */
  ort: Ort | null;
  threads: number;
  /** Facts for the results page: threads, fallbacks, load errors. */
  notes: string[];
  versions: Record<string, string>;
}

/** A dependency's version from its package.json (found by walking up from its entry: some packages do not export it). */
const version = (pkg: string): string => {
  try {
    let dir = dirname(require.resolve(pkg));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
        if (json.name === pkg) return json.version;
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'not installed';
  }
};

async function loadKiln(notes: string[]): Promise<{ kiln: Kiln; device: string }> {
  const kiln = await import('../src/index.js');
  if (!kiln.deviceNames().includes('wasm')) {
    try {
      await import('../src/codegen/wasm/device.js');
    } catch (e) {
      notes.push(`Kiln's wasm backend did not load (${(e as Error).message.split('\n')[0]}).`);
    }
  }
  if (kiln.deviceNames().includes('wasm')) {
    const { getDevice } = await import('../src/codegen/device.js');
    const threads = (getDevice('wasm') as { threads?: number }).threads ?? 1;
    notes.push(`Kiln: 'wasm' device, ${threads} thread${threads === 1 ? '' : 's'} per kernel launch (worker_threads over a shared heap); a fresh device and heap for each Kiln cell; eager cells run inside kiln.tidy as tfjs cells run inside tf.tidy.`);
    return { kiln, device: 'wasm' };
  }
  notes.push("Kiln ran on 'cpu-ref' (the reference interpreter): the 'wasm' device is not registered in this checkout, so Kiln's numbers are not wasm numbers.");
  return { kiln, device: 'cpu-ref' };
}

/** tfjs-core with the cpu backend and the wasm backend (threaded through the shim, else one thread). */
async function loadTfjs(notes: string[], threads: number): Promise<{ tf: Tf | null; backends: Set<string> }> {
  const backends = new Set<string>();
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await registerTfjsGradients();
  } catch (e) {
    notes.push(`TensorFlow.js did not load: ${(e as Error).message}`);
    return { tf: null, backends };
  }
  if (await tf.setBackend('cpu')) {
    backends.add('cpu');
    // The cpu backend's first write prints a banner recommending tfjs-node in the middle of the table.
    const warn = console.warn;
    console.warn = () => {};
    try {
      tf.tensor([1]).dispose();
    } finally {
      console.warn = warn;
    }
  }
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    let undo = (): void => {};
    try {
      undo = installTfjsWasmThreadShim();
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasm.setThreadsCount(threads);
    } catch (e) {
      notes.push(`tfjs-wasm thread shim failed (${(e as Error).message}); tfjs-wasm runs single-threaded.`);
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
    // tfjs caps XNNPACK's pool at emscripten_num_logical_cores() / 2 (it assumes hyper-threading), which
    // is os.cpus().length in Node: report twice the cores while the pool is created so it gets `threads`.
    const cpus = os.cpus;
    os.cpus = () => [...cpus(), ...cpus()];
    try {
      if (await tf.setBackend('wasm')) backends.add('wasm');
    } finally {
      os.cpus = cpus;
      undo();
    }
    const count = backends.has('wasm') ? wasm.getThreadsCount() : 0;
    notes.push(`tfjs-wasm: XNNPACK with SIMD, ${count} thread${count === 1 ? '' : 's'} (threads in Node through bench/peers/tfjs_threads.ts; tfjs disables them in Node by default).`);
  } catch (e) {
    notes.push(`tfjs-wasm did not initialize: ${(e as Error).message ?? String(e)}`);
  }
  return { tf, backends };
}

/** jax-js on its wasm device; its worker pool runs on worker_threads through the Web Worker shim. */
async function loadJax(notes: string[], threads: number): Promise<Jax | null> {
  try {
    // Installed for good: tfjs's pthreads are all created by now, and jax-js makes workers lazily.
    installWebWorkerShim();
    // jax-js sizes its pool from navigator.hardwareConcurrency (4 when absent): say how many cores we have.
    const g = globalThis as { navigator?: { hardwareConcurrency?: number } };
    const hadNavigator = 'navigator' in g;
    if (!hadNavigator) Object.defineProperty(g, 'navigator', { value: { hardwareConcurrency: threads }, configurable: true });
    const jax = await import('@jax-js/jax');
    try {
      const devices = await jax.init('wasm');
      if (!devices.includes('wasm')) throw new Error(`jax-js devices: ${devices.join(', ')}`);
      jax.defaultDevice('wasm');
      // The pool is created on the first dispatch: run one op while navigator says `threads`.
      await jax.numpy.ones([4096]).mul(2).blockUntilReady();
    } finally {
      if (!hadNavigator) delete g.navigator;
    }
    notes.push(`jax-js: wasm device, ${threads} workers through bench/peers/web_worker_shim.ts (worker_threads); jitted functions, timed until blockUntilReady().`);
    return jax;
  } catch (e) {
    notes.push(`jax-js did not load: ${(e as Error).message}`);
    return null;
  }
}

/** onnxruntime-node: native CPU kernels (MLAS), the native reference for inference-only rows. */
async function loadOrt(notes: string[], threads: number): Promise<Ort | null> {
  try {
    const mod = (await import('onnxruntime-node')) as Ort & { default?: Ort };
    const ort = mod.default ?? mod;
    if (!ort.listSupportedBackends().some((b) => b.name === 'cpu')) throw new Error('no cpu execution provider');
    notes.push(`onnxruntime-node: native CPU execution provider, ${threads} intra-op thread${threads === 1 ? '' : 's'}, graph optimizations on; models built in code (bench/peers/onnx_model.ts); inference rows only (no training API in onnxruntime-node).`);
    return ort;
  } catch (e) {
    notes.push(`onnxruntime-node did not load: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
}

export async function loadEnv(opts: { threads: number; peers: boolean }): Promise<Env> {
  const notes: string[] = [];
  const { kiln, device } = await loadKiln(notes);
  kiln.setDefaultDevice(device);
  const { tf, backends } = opts.peers ? await loadTfjs(notes, opts.threads) : { tf: null, backends: new Set<string>() };
  const jax = opts.peers ? await loadJax(notes, opts.threads) : null;
  const ort = opts.peers ? await loadOrt(notes, opts.threads) : null;
  const versions: Record<string, string> = {
    kiln: (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
    '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
    '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
    '@tensorflow/tfjs-backend-cpu': version('@tensorflow/tfjs-backend-cpu'),
    '@jax-js/jax': version('@jax-js/jax'),
    'onnxruntime-node': version('onnxruntime-node'),
    benny: version('benny'),
    binaryen: version('binaryen'),
  };
  return { kiln, kilnDevice: device, tf, tfBackends: backends, jax, ort, threads: opts.threads, notes, versions };
}

/** Which systems can run at all in this environment. */
export function available(env: Env, s: SystemId): boolean {
  switch (s) {
    case 'kiln-eager':
    case 'kiln-jit':
      return true;
    case 'tfjs-wasm':
      return env.tfBackends.has('wasm');
    case 'tfjs-cpu':
      return env.tfBackends.has('cpu');
    case 'jax-wasm':
      return env.jax !== null;
    case 'onnx-native':
      return env.ort !== null;
  }
}

/**
 * A fresh wasm device (and heap) for each Kiln cell. Kiln's heap pools freed blocks by size class and
 * never gives memory back, so after the 16M rows' 64 MB blocks later rows ran out of wasm32's 4 GB, and
 * once the heap has grown past about 2 GB its worker threads fail to instantiate new modules; a cell
 * must measure its own workload, not the history of the cells before it.
 */
export async function resetKilnDevice(env: Env): Promise<void> {
  if (env.kilnDevice !== 'wasm') return;
  const [{ registerDevice, getDevice }, { createWasmDevice }] = await Promise.all([import('../src/codegen/device.js'), import('../src/codegen/wasm/device.js')]);
  // Stop the old device's worker threads before its heap is dropped.
  const old = getDevice('wasm') as { threads?: number };
  const threads = old.threads ?? 1;
  if (threads > 1) old.threads = 1;
  registerDevice('wasm', () => createWasmDevice({ threads }));
}
