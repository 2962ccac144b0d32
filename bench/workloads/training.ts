// Training-step rows (the MLP 784-512-512-10 at batch 128 with SGD, and the demo's CNN with Adam)
// and the latency rows (a cached call of a tiny MLP, and the first call that traces and compiles).
// The reference for a training step is Kiln itself on 'cpu-ref', the reference interpreter.
import type { Impl, Row } from '../harness.js';
import type { Env, Kiln } from '../systems.js';
import type { Tensor } from '../../src/index.js';
import { glorot, labels, uniform } from '../data.js';
import { jitInfo, ortImpl } from './common.js';
import type { OnnxGraph } from '../peers/onnx_model.js';
import type { HasStats } from './common.js';

const LR = 0.05;
const MLP = [784, 512, 512, 10];

interface MlpData {
  x: Float32Array;
  y: Int32Array;
  oneHot: Float32Array;
  params: Record<string, { data: Float32Array; shape: number[] }>;
  batch: number;
  sizes: number[];
}

function mlpData(sizes: number[], batch: number, seed: number): MlpData {
  const params: MlpData['params'] = {};
  for (let i = 0; i + 1 < sizes.length; i++) {
    params[`w${i + 1}`] = { data: glorot(sizes[i], sizes[i + 1], seed + 2 * i), shape: [sizes[i], sizes[i + 1]] };
    params[`b${i + 1}`] = { data: uniform(sizes[i + 1], seed + 2 * i + 1, -0.05, 0.05), shape: [sizes[i + 1]] };
  }
  const classes = sizes[sizes.length - 1];
  const y = labels(batch, classes, seed + 100);
  const oneHot = new Float32Array(batch * classes);
  y.forEach((c, i) => (oneHot[i * classes + c] = 1));
  return { x: uniform(batch * sizes[0], seed + 101, 0, 1), y, oneHot, params, batch, sizes };
}

// ---- Kiln ---------------------------------------------------------------------------------------------

type Params = Record<string, Tensor>;

function kilnForward(k: Kiln, p: Params, x: Tensor, layers: number): Tensor {
  let h = x;
  for (let i = 1; i <= layers; i++) {
    h = k.add(k.matmul(h, p[`w${i}`]), p[`b${i}`]);
    if (i < layers) h = k.relu(h);
  }
  return h;
}

/** One SGD step as a pure function: what jit compiles and what eager mode runs op by op. */
function kilnStep(k: Kiln, layers: number) {
  const loss = (p: Params, x: Tensor, y: Tensor) => k.crossEntropy(kilnForward(k, p, x, layers), y);
  return (p: Params, x: Tensor, y: Tensor): [Tensor, Params] => {
    const [l, g] = k.valueAndGrad(loss)(p, x, y) as [Tensor, Params];
    const next: Params = {};
    for (const name of Object.keys(p)) next[name] = k.sub(p[name], k.mul(g[name], LR));
    return [l, next];
  };
}

function kilnParams(k: Kiln, d: MlpData, device: string): Params {
  return Object.fromEntries(Object.entries(d.params).map(([n, v]) => [n, k.tensor(v.data, { device }).reshape(v.shape)]));
}

function kilnTrainImpl(env: Env, d: MlpData, jitted: boolean, device = env.kilnDevice): Impl {
  const k = env.kiln;
  const layers = d.sizes.length - 1;
  const x = k.tensor(d.x, { device }).reshape([d.batch, d.sizes[0]]);
  const y = k.tensor(d.y, { device });
  let params = kilnParams(k, d, device);
  let loss: Tensor | null = null;
  // Eager: tidy keeps the step's results and frees its intermediates (tf.tidy's role in the tfjs cells).
  const eagerStep = kilnStep(k, layers);
  const step = jitted ? k.jit(kilnStep(k, layers)) : (p: Params, xb: Tensor, yb: Tensor) => k.tidy(() => eagerStep(p, xb, yb));
  return {
    run() {
      const [l, next] = step(params, x, y);
      for (const t of Object.values(params)) t.dispose();
      loss?.dispose();
      loss = l;
      params = next;
    },
    result: () => [...loss!.dataSync(), ...params[`w${layers}`].dataSync()],
    info: () => (jitted ? jitInfo((step as unknown as HasStats).stats()) : undefined),
    dispose() {
      for (const t of [x, y, loss, ...Object.values(params)]) t?.dispose();
    },
  };
}

/** The reference: one eager step on the reference interpreter. */
function kilnReferenceStep(env: Env, d: MlpData): ArrayLike<number> {
  const impl = kilnTrainImpl(env, d, false, 'cpu-ref');
  impl.run();
  const r = impl.result() as number[];
  impl.dispose?.();
  return r;
}

// ---- TensorFlow.js ----------------------------------------------------------------------------------

async function tfTrainImpl(env: Env, backend: 'wasm' | 'cpu', d: MlpData): Promise<Impl> {
  const tf = env.tf!;
  await tf.setBackend(backend);
  const layers = d.sizes.length - 1;
  const vars = Object.fromEntries(Object.entries(d.params).map(([n, v]) => [n, tf.variable(tf.tensor(v.data, v.shape))]));
  const x = tf.tensor2d(d.x, [d.batch, d.sizes[0]]);
  const y = tf.tensor2d(d.oneHot, [d.batch, d.sizes[layers]]);
  const opt = tf.train.sgd(LR);
  let loss: ReturnType<typeof tf.scalar> | null = null;
  return {
    run() {
      loss?.dispose();
      loss = opt.minimize(() => {
        let h: any = x;
        for (let i = 1; i <= layers; i++) {
          h = tf.add(tf.matMul(h, vars[`w${i}`]), vars[`b${i}`]);
          if (i < layers) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(y, h) as ReturnType<typeof tf.scalar>;
      }, true) as ReturnType<typeof tf.scalar>;
    },
    result: () => [...loss!.dataSync(), ...vars[`w${layers}`].dataSync()],
    dispose() {
      loss?.dispose();
      x.dispose();
      y.dispose();
      opt.dispose();
      Object.values(vars).forEach((v) => v.dispose());
    },
  };
}

// ---- jax-js -------------------------------------------------------------------------------------------

function jaxTrainImpl(env: Env, d: MlpData): Impl {
  const jax = env.jax!;
  const np = jax.numpy;
  const layers = d.sizes.length - 1;
  let params: Record<string, any> = Object.fromEntries(Object.entries(d.params).map(([n, v]) => [n, np.array(v.data, { shape: v.shape })]));
  const x = np.array(d.x, { shape: [d.batch, d.sizes[0]] });
  const y = np.array(d.oneHot, { shape: [d.batch, d.sizes[layers]] });
  // Reference counting: every array argument is consumed, so a value used twice is passed as `.ref`.
  const lossFn = (p: Record<string, any>, xb: any, yb: any) => {
    let h = xb;
    for (let i = 1; i <= layers; i++) {
      h = np.matmul(h, p[`w${i}`]).add(p[`b${i}`]);
      if (i < layers) h = jax.nn.relu(h);
    }
    return jax.nn.logSoftmax(h, -1).mul(yb).sum().mul(-1 / d.batch);
  };
  const step = jax.jit((p: Record<string, any>, xb: any, yb: any) => {
    const [l, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(p), xb, yb);
    const next = jax.tree.map((a: any, b: any) => a.sub(b.mul(LR)), p, g);
    return [l, next];
  });
  let loss: any = null;
  return {
    async run() {
      loss?.dispose();
      [loss, params] = step(params, x.ref, y.ref) as [any, Record<string, any>];
      await jax.blockUntilReady([loss.ref, jax.tree.ref(params)]).then((t) => jax.tree.dispose(t));
    },
    result: () => [...Array.from(loss.ref.dataSync() as ArrayLike<number>), ...Array.from(params[`w${layers}`].ref.dataSync() as ArrayLike<number>)],
    dispose() {
      loss?.dispose();
      jax.tree.dispose(params);
      x.dispose();
      y.dispose();
      step.dispose();
    },
  };
}

function mlpTrainRow(): Row {
  let data: MlpData | undefined;
  const d = () => (data ??= mlpData(MLP, 128, 500));
  return {
    id: 'mlp-train',
    title: 'MLP 784-512-512-10 training step (SGD), batch 128',
    unit: 'steps/s',
    quick: true,
    tolerance: 1e-3,
    reference: (env) => kilnReferenceStep(env, d()),
    impls: {
      'kiln-eager': (env) => kilnTrainImpl(env, d(), false),
      'kiln-jit': (env) => kilnTrainImpl(env, d(), true),
      'tfjs-wasm': (env) => tfTrainImpl(env, 'wasm', d()),
      'tfjs-cpu': (env) => tfTrainImpl(env, 'cpu', d()),
      'jax-wasm': (env) => jaxTrainImpl(env, d()),
    },
    missing: { 'onnx-native': INFERENCE_ONLY },
  };
}

// ---- latency: a tiny MLP at batch 1 ---------------------------------------------------------------

function tinyForwardRef(d: MlpData): number[] {
  let h = Array.from(d.x);
  for (let i = 1; i < d.sizes.length; i++) {
    const w = d.params[`w${i}`].data;
    const b = d.params[`b${i}`].data;
    const [m, n] = [d.sizes[i - 1], d.sizes[i]];
    const out = Array.from(b, Number);
    for (let p = 0; p < m; p++) for (let j = 0; j < n; j++) out[j] += h[p] * w[p * n + j];
    h = i + 1 < d.sizes.length ? out.map((v) => Math.max(0, v)) : out;
  }
  return h;
}

function kilnTinyImpl(env: Env, d: MlpData, jitted: boolean): Impl {
  const k = env.kiln;
  const layers = d.sizes.length - 1;
  const p = kilnParams(k, d, env.kilnDevice);
  const x = k.tensor(d.x, { device: env.kilnDevice }).reshape([d.batch, d.sizes[0]]);
  const forward = (pp: Params, xx: Tensor) => kilnForward(k, pp, xx, layers);
  const f = jitted ? k.jit(forward, { name: 'tiny_mlp' }) : (pp: Params, xx: Tensor) => k.tidy(() => forward(pp, xx));
  let out: Tensor | null = null;
  return {
    run() {
      out?.dispose();
      out = f(p, x);
    },
    result: () => out!.dataSync(),
    info: () => (jitted ? jitInfo((f as unknown as HasStats).stats()) : undefined),
    dispose() {
      for (const t of [x, out, ...Object.values(p)]) t?.dispose();
    },
  };
}

async function tfTinyImpl(env: Env, backend: 'wasm' | 'cpu', d: MlpData): Promise<Impl> {
  const tf = env.tf!;
  await tf.setBackend(backend);
  const layers = d.sizes.length - 1;
  const p = Object.fromEntries(Object.entries(d.params).map(([n, v]) => [n, tf.tensor(v.data, v.shape)]));
  const x = tf.tensor2d(d.x, [1, d.sizes[0]]);
  let out: { dispose(): void; dataSync(): ArrayLike<number> } | null = null;
  return {
    run() {
      out?.dispose();
      out = tf.tidy(() => {
        let h: any = x;
        for (let i = 1; i <= layers; i++) {
          h = tf.add(tf.matMul(h, p[`w${i}`]), p[`b${i}`]);
          if (i < layers) h = tf.relu(h);
        }
        return h;
      });
    },
    result: () => out!.dataSync(),
    dispose() {
      out?.dispose();
      x.dispose();
      Object.values(p).forEach((t) => t.dispose());
    },
  };
}

function jaxTinyImpl(env: Env, d: MlpData): Impl {
  const jax = env.jax!;
  const np = jax.numpy;
  const layers = d.sizes.length - 1;
  const p = Object.fromEntries(Object.entries(d.params).map(([n, v]) => [n, np.array(v.data, { shape: v.shape })]));
  const x = np.array(d.x, { shape: [d.batch, d.sizes[0]] });
  const forward = (pp: Record<string, any>, xx: any) => {
    let h = xx;
    for (let i = 1; i <= layers; i++) {
      h = np.matmul(h, pp[`w${i}`]).add(pp[`b${i}`]);
      if (i < layers) h = jax.nn.relu(h);
    }
    return h;
  };
  const f = jax.jit(forward);
  let out: any = null;
  return {
    async run() {
      const o = f(jax.tree.ref(p), x.ref);
      await o.blockUntilReady();
      out?.dispose();
      out = o;
    },
    result: () => out.ref.dataSync() as ArrayLike<number>,
    dispose() {
      out?.dispose();
      jax.tree.dispose(p);
      x.dispose();
      f.dispose();
    },
  };
}

/** The tiny MLP as an ONNX graph: x is the one input, the weights are baked in as initializers. */
function tinyOnnx(d: MlpData): OnnxGraph {
  const layers = d.sizes.length - 1;
  const nodes: OnnxGraph['nodes'] = [];
  let h = 'x';
  for (let i = 1; i <= layers; i++) {
    const out = i === layers ? 'y' : `r${i}`;
    nodes.push({ op: 'MatMul', inputs: [h, `w${i}`], outputs: [`m${i}`] }, { op: 'Add', inputs: [`m${i}`, `b${i}`], outputs: [i === layers ? out : `a${i}`] });
    if (i < layers) nodes.push({ op: 'Relu', inputs: [`a${i}`], outputs: [out] });
    h = out;
  }
  return {
    name: 'tiny_mlp',
    inputs: [{ name: 'x', shape: [d.batch, d.sizes[0]] }],
    outputs: [{ name: 'y', shape: [d.batch, d.sizes[layers]] }],
    initializers: Object.entries(d.params).map(([name, v]) => ({ name, shape: v.shape, data: v.data })),
    nodes,
  };
}

const INFERENCE_ONLY = 'inference only: onnxruntime-node has no training API';
const NO_TRACE = 'no trace/compile step to compare (InferenceSession.create loads a fixed graph)';

const TINY = [64, 64, 10];

function tinyRows(): Row[] {
  let data: MlpData | undefined;
  const d = () => (data ??= mlpData(TINY, 1, 700));
  const noCompile = 'eager: nothing to compile';
  return [
    {
      id: 'tiny-call',
      title: `dispatch: one call of a tiny MLP ${TINY.join('-')}, batch 1 (jit: cached)`,
      unit: 'µs',
      quick: true,
      tolerance: 1e-5,
      reference: () => tinyForwardRef(d()),
      impls: {
        'kiln-eager': (env) => kilnTinyImpl(env, d(), false),
        'kiln-jit': (env) => kilnTinyImpl(env, d(), true),
        'tfjs-wasm': (env) => tfTinyImpl(env, 'wasm', d()),
        'tfjs-cpu': (env) => tfTinyImpl(env, 'cpu', d()),
        'jax-wasm': (env) => jaxTinyImpl(env, d()),
        'onnx-native': (env) => ortImpl(env, tinyOnnx(d()), [{ data: d().x, shape: [d().batch, d().sizes[0]] }]),
      },
    },
    {
      id: 'tiny-compile',
      title: 'compile: first call of a freshly jitted tiny MLP (trace + passes + codegen)',
      unit: 'ms',
      quick: true,
      mode: 'first-call',
      tolerance: 1e-5,
      reference: () => tinyForwardRef(d()),
      impls: {
        'kiln-jit': (env) => freshEachRun((i) => kilnTinyImpl(env, i ? mlpData(TINY, 1 + i, 700) : d(), true)),
        'jax-wasm': (env) => freshEachRun((i) => jaxTinyImpl(env, i ? mlpData(TINY, 1 + i, 700) : d())),
      },
      missing: { 'kiln-eager': noCompile, 'tfjs-wasm': noCompile, 'tfjs-cpu': noCompile, 'onnx-native': NO_TRACE },
    },
  ];
}

function mlpCompileRow(): Row {
  let data: MlpData | undefined;
  const d = () => (data ??= mlpData(MLP, 128, 500));
  const noCompile = 'eager: nothing to compile';
  return {
    id: 'mlp-compile',
    title: 'compile: first call of a freshly jitted MLP training step (trace + autodiff + passes + codegen)',
    unit: 'ms',
    quick: false,
    mode: 'first-call',
    tolerance: 1e-3,
    reference: (env) => kilnReferenceStep(env, d()),
    impls: {
      'kiln-jit': (env) => freshEachRun((i) => kilnTrainImpl(env, i ? mlpData(MLP, 128 + 8 * i, 500) : d(), true)),
      'jax-wasm': (env) => freshEachRun((i) => jaxTrainImpl(env, i ? mlpData(MLP, 128 + 8 * i, 500) : d())),
    },
    missing: { 'kiln-eager': noCompile, 'tfjs-wasm': noCompile, 'tfjs-cpu': noCompile, 'onnx-native': NO_TRACE },
  };
}

/**
 * A first-call cell: every run builds the implementation anew (a new jit, new parameters) and calls it
 * once. Run i > 0 uses batch size changed by i, so that no library can answer from a compilation cache
 * keyed by shapes (jax-js keeps compiled kernels across jit objects): each run really compiles.
 */
function freshEachRun(make: (run: number) => Impl): Impl {
  let cur: Impl | null = null;
  let runs = 0;
  return {
    async run() {
      cur?.dispose?.();
      cur = make(runs++);
      await cur.run();
    },
    result: () => cur!.result(),
    info: () => cur?.info?.(),
    dispose: () => cur?.dispose?.(),
  };
}

export function trainingRows(): Row[] {
  return [mlpTrainRow(), ...tinyRows(), mlpCompileRow()];
}

export { mlpData, kilnStep, kilnForward };
