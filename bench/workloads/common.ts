// Small adapters that turn "a function over tensors" into an Impl for each system, so each
// workload file only states its math once per library.
import type { Impl } from '../harness.js';
import type { Env, Jax, Tf } from '../systems.js';
import type { Tensor } from '../../src/index.js';
import { onnxModel } from '../peers/onnx_model.js';
import type { OnnxGraph } from '../peers/onnx_model.js';

type KilnFn = (...xs: Tensor[]) => Tensor;

/** Host data for one input: the same bytes go to every system. */
export interface Input {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

export function kilnTensor(env: Env, x: Input): Tensor {
  return env.kiln.tensor(x.data, { device: env.kilnDevice }).reshape(x.shape);
}

/** Kiln eager (`jitted` false) or jit: the output of the latest run stays alive for result(). */
export function kilnImpl(env: Env, fn: KilnFn, inputs: readonly Input[], jitted: boolean): Impl {
  const xs = inputs.map((x) => kilnTensor(env, x));
  // Eager cells run inside kiln.tidy, as tfjs cells run inside tf.tidy: intermediates are freed at
  // once instead of waiting for finalizers (V8 does not see wasm heap pressure; a sustained loop of
  // 16 MB temporaries otherwise exhausts the 4 GB heap).
  const f = jitted ? env.kiln.jit(fn) : (...a: Tensor[]) => env.kiln.tidy(() => fn(...a));
  let out: Tensor | null = null;
  return {
    run() {
      out?.dispose();
      out = f(...xs);
    },
    result: () => out!.dataSync(),
    info: () => (jitted ? jitInfo((f as unknown as HasStats).stats()) : undefined),
    dispose() {
      out?.dispose();
      xs.forEach((x) => x.dispose());
    },
  };
}

/** What jit(fn) adds to fn (the bench reads its stats). */
export interface HasStats {
  stats(): { kernels: number; compileMs: number; peakBytes: number; traces: number };
}

export function jitInfo(s: { kernels: number; compileMs: number; peakBytes: number; traces: number }): string {
  return `${s.kernels} kernel${s.kernels === 1 ? '' : 's'}, compile ${s.compileMs.toFixed(0)} ms, intermediates ${(s.peakBytes / 2 ** 20).toFixed(1)} MiB`;
}

/** tfjs on one backend; each run is a tidy scope whose one output is kept until the next run. */
export async function tfImpl(env: Env, backend: 'wasm' | 'cpu', fn: (tf: Tf, ...xs: any[]) => any, inputs: readonly Input[]): Promise<Impl> {
  const tf = env.tf!;
  await tf.setBackend(backend);
  const xs = inputs.map((x) => tf.tensor(x.data, [...x.shape], x.data instanceof Int32Array ? 'int32' : 'float32'));
  let out: { dispose(): void; dataSync(): ArrayLike<number> } | null = null;
  return {
    run() {
      out?.dispose();
      out = tf.tidy(() => fn(tf, ...xs));
    },
    result: () => out!.dataSync(),
    dispose() {
      out?.dispose();
      xs.forEach((x) => x.dispose());
    },
  };
}

/**
 * jax-js, jitted: arrays are reference counted and consumed by calls, so inputs are passed as
 * `x.ref`; arrays are lazy, so each run waits for blockUntilReady().
 */
export function jaxImpl(env: Env, fn: (jax: Jax, ...xs: any[]) => any, inputs: readonly Input[]): Impl {
  const jax = env.jax!;
  const np = jax.numpy;
  const xs = inputs.map((x) => np.array(x.data, { shape: [...x.shape], dtype: x.data instanceof Int32Array ? np.int32 : np.float32 }));
  const f = jax.jit((...a: any[]) => fn(jax, ...a));
  let out: any = null;
  return {
    // benny probes a case by calling it without awaiting, so runs may overlap: each waits for its own output.
    async run() {
      const o = f(...xs.map((x) => x.ref));
      await o.blockUntilReady();
      out?.dispose();
      out = o;
    },
    result: () => out.ref.dataSync() as ArrayLike<number>,
    dispose() {
      out?.dispose();
      xs.forEach((x) => x.dispose());
      f.dispose();
    },
  };
}

/**
 * onnxruntime-node on a model built in code: the graph's inputs are fed `inputs` in order (its
 * initializers are baked in); one InferenceSession per cell, one awaited run() per call.
 */
export async function ortImpl(env: Env, graph: OnnxGraph, inputs: readonly Input[]): Promise<Impl> {
  const ort = env.ort!;
  const session = await ort.InferenceSession.create(onnxModel(graph), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: env.threads,
    interOpNumThreads: 1,
  });
  const feeds = Object.fromEntries(graph.inputs.map((g, i) => [g.name, new ort.Tensor('float32', inputs[i].data as Float32Array, [...inputs[i].shape])]));
  const output = graph.outputs[0].name;
  let out: ArrayLike<number> | null = null;
  return {
    async run() {
      const r = await session.run(feeds);
      out = r[output].data as Float32Array;
    },
    result: () => out!,
    dispose() {
      void session.release();
    },
  };
}
