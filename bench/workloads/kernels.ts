// Single-kernel rows: matmul, the fused elementwise chain, row softmax and conv2d. Each states its
// math once per library; the inputs are the same bytes everywhere.
import type { Row } from '../harness.js';
import type { Tensor } from '../../src/index.js';
import { nchwToNhwc, nhwcToNchw, oihwToHwio, refChain, refConv2d, refMatmul, refSoftmaxRows, uniform } from '../data.js';
import type { Input } from './common.js';
import { jaxImpl, kilnImpl, ortImpl, tfImpl } from './common.js';
import type { OnnxGraph } from '../peers/onnx_model.js';

/** A one-output ONNX graph whose inputs are x0, x1, ... (fed in the row's input order). */
function graph(name: string, inShapes: readonly (readonly number[])[], outShape: readonly number[], nodes: OnnxGraph['nodes'], initializers: OnnxGraph['initializers'] = []): OnnxGraph {
  return { name, inputs: inShapes.map((shape, i) => ({ name: `x${i}`, shape })), outputs: [{ name: 'y', shape: outShape }], nodes, initializers };
}

const scalar = (name: string, v: number) => ({ name, shape: [], data: Float32Array.of(v) });

/** Inputs are made once per row and shared by its cells (16M floats are 64 MB). */
function lazy<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

function matmulRow(n: number, quick: boolean): Row {
  const inputs = lazy((): Input[] => [
    { data: uniform(n * n, 11), shape: [n, n] },
    { data: uniform(n * n, 12), shape: [n, n] },
  ]);
  return {
    id: `matmul-${n}`,
    title: `matmul ${n}×${n} f32`,
    unit: 'GFLOP/s',
    work: 2 * n ** 3,
    quick,
    tolerance: 1e-4,
    // Every 8th row is checked: a float64 1024³ product in JS would take longer than the whole row.
    reference: () => {
      const a = inputs()[0].data as Float32Array;
      const rows = Array.from({ length: Math.ceil(n / 8) }, (_, i) => i * 8);
      const sub = new Float32Array(rows.length * n);
      rows.forEach((r, i) => sub.set(a.subarray(r * n, r * n + n), i * n));
      return refMatmul(sub, inputs()[1].data as Float32Array, rows.length, n, n);
    },
    checked: () => Int32Array.from({ length: Math.ceil(n / 8) * n }, (_, i) => Math.floor(i / n) * 8 * n + (i % n)),
    impls: {
      'kiln-eager': (env) => kilnImpl(env, (a, b) => env.kiln.matmul(a, b), inputs(), false),
      'kiln-jit': (env) => kilnImpl(env, (a, b) => env.kiln.matmul(a, b), inputs(), true),
      'tfjs-wasm': (env) => tfImpl(env, 'wasm', (tf, a, b) => tf.matMul(a, b), inputs()),
      'tfjs-cpu': (env) => tfImpl(env, 'cpu', (tf, a, b) => tf.matMul(a, b), inputs()),
      'jax-wasm': (env) => jaxImpl(env, (jax, a, b) => jax.numpy.matmul(a, b), inputs()),
      'onnx-native': (env) => ortImpl(env, graph('matmul', [[n, n], [n, n]], [n, n], [{ op: 'MatMul', inputs: ['x0', 'x1'], outputs: ['y'] }]), inputs()),
    },
  };
}

const stride = (n: number) => (n > 1 << 22 ? 16 : 1);
const pick = (x: Float32Array, step: number) => (step === 1 ? x : Float32Array.from({ length: Math.ceil(x.length / step) }, (_, i) => x[i * step]));

/** tanh(x*1.5+0.5)*sigmoid(x) - 0.1*x: six elementwise ops that jit fuses into one pass. */
function chainRow(n: number, label: string, quick: boolean): Row {
  const inputs = lazy((): Input[] => [{ data: uniform(n, 21, -4, 4), shape: [n] }]);
  const kilnChain = (k: typeof import('../../src/index.js')) => (x: Tensor) => k.sub(k.mul(k.tanh(k.add(k.mul(x, 1.5), 0.5)), k.sigmoid(x)), k.mul(x, 0.1));
  return {
    id: `chain-${label}`,
    title: `elementwise chain, ${label} f32 (1 read + 1 write)`,
    unit: 'GB/s',
    work: 8 * n,
    quick,
    tolerance: 1e-5,
    // Every 16th element is checked on the big input (the same elements from every system).
    reference: () => refChain(pick(inputs()[0].data as Float32Array, stride(n))),
    checked: () => Int32Array.from({ length: Math.ceil(n / stride(n)) }, (_, i) => i * stride(n)),
    impls: {
      'kiln-eager': (env) => kilnImpl(env, kilnChain(env.kiln), inputs(), false),
      'kiln-jit': (env) => kilnImpl(env, kilnChain(env.kiln), inputs(), true),
      'tfjs-wasm': (env) => tfImpl(env, 'wasm', (tf, x) => tf.sub(tf.mul(tf.tanh(tf.add(tf.mul(x, 1.5), 0.5)), tf.sigmoid(x)), tf.mul(x, 0.1)), inputs()),
      'tfjs-cpu': (env) => tfImpl(env, 'cpu', (tf, x) => tf.sub(tf.mul(tf.tanh(tf.add(tf.mul(x, 1.5), 0.5)), tf.sigmoid(x)), tf.mul(x, 0.1)), inputs()),
      'jax-wasm': (env) =>
        jaxImpl(env, (jax, x) => jax.numpy.tanh(x.ref.mul(1.5).add(0.5)).mul(jax.nn.sigmoid(x.ref)).sub(x.mul(0.1)), inputs()),
      'onnx-native': (env) =>
        ortImpl(
          env,
          graph(
            'chain',
            [[n]],
            [n],
            [
              { op: 'Mul', inputs: ['x0', 'c1_5'], outputs: ['a'] },
              { op: 'Add', inputs: ['a', 'c0_5'], outputs: ['b'] },
              { op: 'Tanh', inputs: ['b'], outputs: ['t'] },
              { op: 'Sigmoid', inputs: ['x0'], outputs: ['s'] },
              { op: 'Mul', inputs: ['t', 's'], outputs: ['ts'] },
              { op: 'Mul', inputs: ['x0', 'c0_1'], outputs: ['x01'] },
              { op: 'Sub', inputs: ['ts', 'x01'], outputs: ['y'] },
            ],
            [scalar('c1_5', 1.5), scalar('c0_5', 0.5), scalar('c0_1', 0.1)],
          ),
          inputs(),
        ),
    },
  };
}

function softmaxRow(quick: boolean): Row {
  const [rows, cols] = [4096, 1024];
  const inputs = lazy((): Input[] => [{ data: uniform(rows * cols, 31, -3, 3), shape: [rows, cols] }]);
  return {
    id: 'softmax',
    title: `softmax over rows, [${rows},${cols}] f32`,
    unit: 'ms',
    quick,
    tolerance: 1e-5,
    reference: () => refSoftmaxRows(inputs()[0].data as Float32Array, rows, cols),
    impls: {
      'kiln-eager': (env) => kilnImpl(env, (x) => env.kiln.softmax(x, { axis: -1 }), inputs(), false),
      'kiln-jit': (env) => kilnImpl(env, (x) => env.kiln.softmax(x, { axis: -1 }), inputs(), true),
      'tfjs-wasm': (env) => tfImpl(env, 'wasm', (tf, x) => tf.softmax(x), inputs()),
      'tfjs-cpu': (env) => tfImpl(env, 'cpu', (tf, x) => tf.softmax(x), inputs()),
      'jax-wasm': (env) => jaxImpl(env, (jax, x) => jax.nn.softmax(x, -1), inputs()),
      'onnx-native': (env) => ortImpl(env, graph('softmax', [[rows, cols]], [rows, cols], [{ op: 'Softmax', inputs: ['x0'], outputs: ['y'], attrs: { axis: -1 } }]), inputs()),
    },
  };
}

/** conv2d [32,16,32,32] (NCHW) with a 32×16×3×3 filter, stride 1, same padding. */
function convRow(quick: boolean): Row {
  const xs = [32, 16, 32, 32];
  const ws = [32, 16, 3, 3];
  const x = lazy(() => uniform(32 * 16 * 32 * 32, 41));
  const w = lazy(() => uniform(32 * 16 * 9, 42, -0.3, 0.3));
  const nchw = (): Input[] => [{ data: x(), shape: xs }, { data: w(), shape: ws }];
  const outShape = [32, 32, 32, 32];
  return {
    id: 'conv2d',
    title: 'conv2d [32,16,32,32]→32, 3×3 same',
    unit: 'GFLOP/s',
    work: 2 * 32 * 32 * 32 * 32 * 16 * 9,
    quick,
    tolerance: 1e-4,
    reference: () => refConv2d(x(), w(), xs, ws),
    impls: {
      'kiln-eager': (env) => kilnImpl(env, (a, b) => env.kiln.conv2d(a, b, { padding: 'same' }), nchw(), false),
      'kiln-jit': (env) => kilnImpl(env, (a, b) => env.kiln.conv2d(a, b, { padding: 'same' }), nchw(), true),
      // tfjs convolves channels-last (its wasm backend only supports NHWC): same data, its layout.
      'tfjs-wasm': async (env) => nhwcResult(await tfImpl(env, 'wasm', (tf, a, b) => tf.conv2d(a, b, 1, 'same'), tfInputs()), outShape),
      'tfjs-cpu': async (env) => nhwcResult(await tfImpl(env, 'cpu', (tf, a, b) => tf.conv2d(a, b, 1, 'same'), tfInputs()), outShape),
      'jax-wasm': (env) => jaxImpl(env, (jax, a, b) => jax.lax.conv(a, b, [1, 1], 'SAME'), nchw()),
      // ONNX convolves NCHW/OIHW like Kiln; the filter is an input here too, not a baked initializer.
      'onnx-native': (env) =>
        ortImpl(env, graph('conv2d', [xs, ws], outShape, [{ op: 'Conv', inputs: ['x0', 'x1'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }]), nchw()),
    },
  };
  function tfInputs(): Input[] {
    return [
      { data: nchwToNhwc(x(), xs), shape: [32, 32, 32, 16] },
      { data: oihwToHwio(w(), ws), shape: [3, 3, 16, 32] },
    ];
  }
}

/** tfjs answers in NHWC; the reference is NCHW. */
function nhwcResult<T extends { result(): ArrayLike<number> | Promise<ArrayLike<number>> }>(impl: T, nchwShape: number[]): T {
  const result = impl.result.bind(impl);
  return { ...impl, result: async () => nhwcToNchw(await result(), nchwShape) };
}

export function kernelRows(): Row[] {
  return [
    matmulRow(256, true),
    matmulRow(512, true),
    matmulRow(1024, true),
    chainRow(1 << 20, '1M', true),
    chainRow(1 << 24, '16M', true),
    softmaxRow(true),
    convRow(true),
  ];
}
