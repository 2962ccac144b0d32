// Convolutions and pooling on channels-first tensors (PyTorch layouts): conv1d/2d/3d lower to the
// `conv` primitive, convTranspose to `conv` with lhsDilation and a flipped, regrouped kernel, pools to
// `reduce_window`. Spatial options accept one number or one per spatial dimension.
import type { PadPair } from '../../ir/ops.js';
import { fail } from '../../ir/error.js';
import { promoteTypes } from '../../ir/dtype.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor, deviceOf } from '../convert.js';
import { add, astype, div } from './elementwise.js';
import { floatDType, full, permute, reshapeTo, tupleOf } from './nn_internal.js';

/**
 * 'valid' (none), 'same' (output size = input size, stride 1 only; the odd extra goes high, as in
 * PyTorch), one number for every side, one per spatial dim, or explicit [low, high] per spatial dim.
 */
export type ConvPadding = 'same' | 'valid' | number | readonly number[] | readonly (readonly [number, number])[];

export interface ConvOptions {
  stride?: number | readonly number[];
  padding?: ConvPadding;
  dilation?: number | readonly number[];
  groups?: number;
  bias?: TensorLike | null;
}

export interface ConvTransposeOptions {
  stride?: number | readonly number[];
  /** Removes `dilation*(k-1) - padding` from each side of the full transposed output, as PyTorch. */
  padding?: number | readonly number[];
  /** Extra size added on the high side of each spatial dim (resolves the ambiguity of strides). */
  outputPadding?: number | readonly number[];
  dilation?: number | readonly number[];
  groups?: number;
  bias?: TensorLike | null;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

function resolvePadding(op: string, padding: ConvPadding, nd: number, extents: number[], stride: number[]): PadPair[] {
  if (padding === 'valid') return range(nd).map(() => [0, 0]);
  if (padding === 'same') {
    if (stride.some((s) => s !== 1)) fail(op, `padding 'same' needs stride 1, got stride [${stride.join(',')}]`);
    return extents.map((e) => {
      const total = e - 1;
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  if (Array.isArray(padding) && padding.length > 0 && Array.isArray(padding[0])) {
    const pairs = padding as readonly (readonly number[])[];
    if (pairs.length !== nd || !pairs.every((p) => p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0))) {
      fail(op, `padding must be ${nd} [low, high] pairs of non-negative integers, got ${JSON.stringify(padding)}`);
    }
    return pairs.map((p) => [p[0], p[1]]);
  }
  if (typeof padding === 'string') fail(op, `padding must be 'same', 'valid', a number or a list, got '${padding}'`);
  return tupleOf(op, 'padding', padding as number | number[], nd).map((p) => [p, p]);
}

/** Float operands of one dtype (ints convolve in float32). */
function floatPair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const x = asTensor(op, a, undefined, deviceOf(a, b));
  const w = asTensor(op, b, undefined, x.device);
  const dtype = promoteTypes(floatDType(x), floatDType(w));
  return [astype(x, dtype), astype(w, dtype)];
}

/** Adds a per-channel bias [C] to a [N, C, ...] result. */
function addChannelBias(op: string, y: Tensor, bias: TensorLike | null | undefined): Tensor {
  if (bias === undefined || bias === null) return y;
  const b = astype(asTensor(op, bias, undefined, y.device), y.dtype);
  if (b.ndim !== 1 || b.shape[0] !== y.shape[1]) fail(op, `bias must be [${y.shape[1]}] (one per output channel), got ${b.describe()}`);
  return add(y, reshapeTo(b, [y.shape[1], ...range(y.ndim - 2).map(() => 1)]));
}

/** Unbatched inputs ([C, ...spatial]) get a batch dim for the primitive and lose it afterwards. */
function withBatch(op: string, x: Tensor, nd: number, fn: (x: Tensor) => Tensor): Tensor {
  if (x.ndim === nd + 2) return fn(x);
  if (x.ndim === nd + 1) {
    const y = fn(reshapeTo(x, [1, ...x.shape]));
    return reshapeTo(y, y.shape.slice(1));
  }
  return fail(op, `expects input [N, C, ${spatialNames(nd)}] or [C, ${spatialNames(nd)}], got ${x.describe()}`);
}
const SPATIAL_NAMES = [['L'], ['H', 'W'], ['D', 'H', 'W']];
const spatialList = (nd: number) => SPATIAL_NAMES[nd - 1] ?? range(nd).map((i) => `S${i}`);
const spatialNames = (nd: number) => spatialList(nd).join(', ');

function convNd(op: string, nd: number, input: TensorLike, weight: TensorLike, options: ConvOptions): Tensor {
  const [x0, w] = floatPair(op, input, weight);
  return withBatch(op, x0, nd, (x) => {
    const desc = `${x.describe()} * ${w.describe()}`;
    if (w.ndim !== nd + 2) fail(op, `${desc}: weight must be [out_channels, in_channels/groups, ${spatialList(nd).map((s) => `k${s}`).join(', ')}]`);
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) fail(op, `groups must be a positive integer, got ${groups}`);
    if (x.shape[1] % groups !== 0 || w.shape[0] % groups !== 0) fail(op, `${desc}: groups ${groups} must divide input channels ${x.shape[1]} and output channels ${w.shape[0]}`);
    if (w.shape[1] * groups !== x.shape[1]) fail(op, `${desc}: weight expects ${w.shape[1] * groups} input channels (${w.shape[1]} x ${groups} groups), input has ${x.shape[1]}`);
    const stride = tupleOf(op, 'stride', options.stride ?? 1, nd, 1);
    const dilation = tupleOf(op, 'dilation', options.dilation ?? 1, nd, 1);
    const extents = range(nd).map((i) => dilation[i] * (w.shape[i + 2] - 1) + 1);
    const padding = resolvePadding(op, options.padding ?? 0, nd, extents, stride);
    range(nd).forEach((i) => {
      const padded = x.shape[i + 2] + padding[i][0] + padding[i][1];
      if (extents[i] > padded) fail(op, `${desc}: kernel extent ${extents[i]} is larger than the padded input size ${padded} on spatial dim ${i}`);
    });
    const y = bind1('conv', [x, w], { stride, padding, lhsDilation: range(nd).map(() => 1), rhsDilation: dilation, groups });
    return addChannelBias(op, y, options.bias);
  });
}

/** 1-d convolution (cross-correlation): x [N, C, L], w [O, C/groups, k]. */
export const conv1d = (x: TensorLike, w: TensorLike, options: ConvOptions = {}) => convNd('conv1d', 1, x, w, options);
/** 2-d convolution (cross-correlation, as PyTorch): x [N, C, H, W], w [O, C/groups, kh, kw]. */
export const conv2d = (x: TensorLike, w: TensorLike, options: ConvOptions = {}) => convNd('conv2d', 2, x, w, options);
/** 3-d convolution: x [N, C, D, H, W], w [O, C/groups, kd, kh, kw]. */
export const conv3d = (x: TensorLike, w: TensorLike, options: ConvOptions = {}) => convNd('conv3d', 3, x, w, options);

/**
 * The adjoint of convNd in its input: a conv over the input dilated by the stride, with the kernel
 * flipped and its in/out channels swapped per group. Output size per dim:
 * (in - 1)*stride - 2*padding + dilation*(k - 1) + outputPadding + 1.
 */
function convTransposeNd(op: string, nd: number, input: TensorLike, weight: TensorLike, options: ConvTransposeOptions): Tensor {
  const [x0, w] = floatPair(op, input, weight);
  return withBatch(op, x0, nd, (x) => {
    const desc = `${x.describe()} * ${w.describe()}`;
    if (w.ndim !== nd + 2) fail(op, `${desc}: weight must be [in_channels, out_channels/groups, ${spatialList(nd).map((s) => `k${s}`).join(', ')}]`);
    const groups = options.groups ?? 1;
    const cin = x.shape[1];
    if (!Number.isInteger(groups) || groups < 1 || cin % groups !== 0) fail(op, `${desc}: groups ${groups} must be a positive integer dividing input channels ${cin}`);
    if (w.shape[0] !== cin) fail(op, `${desc}: weight expects ${w.shape[0]} input channels, input has ${cin}`);
    const stride = tupleOf(op, 'stride', options.stride ?? 1, nd, 1);
    const dilation = tupleOf(op, 'dilation', options.dilation ?? 1, nd, 1);
    const padding = tupleOf(op, 'padding', options.padding ?? 0, nd);
    const outputPadding = tupleOf(op, 'outputPadding', options.outputPadding ?? 0, nd);
    outputPadding.forEach((p, i) => {
      if (p >= Math.max(stride[i], dilation[i])) fail(op, `outputPadding ${p} must be smaller than stride ${stride[i]} or dilation ${dilation[i]} on spatial dim ${i}`);
    });
    const k = w.shape.slice(2);
    const coutG = w.shape[1];
    // [Cin, Cout/g, ...k] -> [g, Cin/g, Cout/g, ...k] -> [g, Cout/g, Cin/g, ...k] -> [Cout, Cin/g, ...k], flipped.
    const spatialAxes = range(nd, 3);
    let wt = reshapeTo(w, [groups, cin / groups, coutG, ...k]);
    wt = permute(wt, [0, 2, 1, ...spatialAxes]);
    wt = reshapeTo(wt, [groups * coutG, cin / groups, ...k]);
    wt = bind1('flip', [wt], { axes: range(nd, 2) });
    // Full transposed output needs dilation*(k-1) padding each side; `padding` crops it back. Negative
    // amounts become a slice of the result, so the primitive only ever sees non-negative padding.
    const lo = range(nd).map((i) => dilation[i] * (k[i] - 1) - padding[i]);
    const hi = range(nd).map((i) => lo[i] + outputPadding[i]);
    let y = bind1('conv', [x, wt], {
      stride: range(nd).map(() => 1),
      padding: range(nd).map((i) => [Math.max(0, lo[i]), Math.max(0, hi[i])]),
      lhsDilation: stride,
      rhsDilation: dilation,
      groups,
    });
    if (lo.some((v) => v < 0) || hi.some((v) => v < 0)) {
      const start = [0, 0, ...lo.map((v) => Math.max(0, -v))];
      const limit = y.shape.map((d, i) => (i < 2 ? d : d - Math.max(0, -hi[i - 2])));
      if (limit.some((l, i) => l < start[i])) fail(op, `${desc}: padding [${padding.join(',')}] leaves no output`);
      y = bind1('slice', [y], { start, limit, stride: y.shape.map(() => 1) });
    }
    return addChannelBias(op, y, options.bias);
  });
}

/** Transposed 1-d convolution ("deconvolution"): x [N, Cin, L], w [Cin, Cout/groups, k]. */
export const convTranspose1d = (x: TensorLike, w: TensorLike, options: ConvTransposeOptions = {}) => convTransposeNd('convTranspose1d', 1, x, w, options);
/** Transposed 2-d convolution: x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw] (PyTorch layout). */
export const convTranspose2d = (x: TensorLike, w: TensorLike, options: ConvTransposeOptions = {}) => convTransposeNd('convTranspose2d', 2, x, w, options);

// ---- pooling --------------------------------------------------------------------------------------

export interface PoolOptions {
  /** Defaults to the kernel size. */
  stride?: number | readonly number[];
  /** Implicit padding on both sides (at most half the kernel, as in PyTorch). */
  padding?: number | readonly number[];
}
export interface AvgPoolOptions extends PoolOptions {
  /** Whether padded zeros count in the divisor (PyTorch's count_include_pad, default true). */
  countIncludePad?: boolean;
  /** Divides every window sum by this instead. */
  divisorOverride?: number;
}

interface Window {
  window: number[];
  stride: number[];
  padding: PadPair[];
}

function poolWindow(op: string, nd: number, x: Tensor, kernel: number | readonly number[], options: PoolOptions): Window {
  if (x.ndim < nd + 1) fail(op, `expects at least ${nd + 1} dims ([C, ${spatialNames(nd)}] or [N, C, ${spatialNames(nd)}]), got ${x.describe()}`);
  const window = tupleOf(op, 'kernel', kernel, nd, 1);
  const stride = tupleOf(op, 'stride', options.stride ?? window, nd, 1);
  const pad = tupleOf(op, 'padding', options.padding ?? 0, nd);
  pad.forEach((p, i) => {
    if (2 * p > window[i]) fail(op, `padding ${p} must be at most half the kernel size ${window[i]}`);
  });
  window.forEach((k, i) => {
    const d = x.shape[x.ndim - nd + i];
    if (k > d + 2 * pad[i]) fail(op, `kernel ${k} is larger than the padded input size ${d + 2 * pad[i]} of ${x.describe()} on spatial dim ${i}`);
  });
  return { window, stride, padding: pad.map((p) => [p, p]) };
}

function maxPoolNd(op: string, nd: number, input: TensorLike, kernel: number | readonly number[], options: PoolOptions): Tensor {
  const x = asTensor(op, input);
  if (x.dtype === 'bool') fail(op, `expects a numeric input, got ${x.describe()}`);
  return bind1('reduce_window', [x], { kind: 'max', ...poolWindow(op, nd, x, kernel, options) });
}

function avgPoolNd(op: string, nd: number, input: TensorLike, kernel: number | readonly number[], options: AvgPoolOptions): Tensor {
  const x0 = asTensor(op, input);
  const x = astype(x0, floatDType(x0));
  const w = poolWindow(op, nd, x, kernel, options);
  const sums = bind1('reduce_window', [x], { kind: 'sum', ...w });
  if (options.divisorOverride !== undefined) return div(sums, options.divisorOverride);
  const area = w.window.reduce((a, b) => a * b, 1);
  if (options.countIncludePad ?? true) return div(sums, area);
  if (w.padding.every(([p]) => p === 0)) return div(sums, area);
  // Count only real elements: the same window sum over ones of the spatial shape (broadcasts).
  const ones = full(x.shape.slice(-nd), 1, x.dtype, x.device);
  return div(sums, bind1('reduce_window', [ones], { kind: 'sum', ...w }));
}

/** Max over windows of the trailing spatial dim: x [N, C, L] or [C, L]. */
export const maxPool1d = (x: TensorLike, kernel: number | readonly number[], options: PoolOptions = {}) => maxPoolNd('maxPool1d', 1, x, kernel, options);
/** Max over kh x kw windows of the two trailing dims (padding counts as -inf). */
export const maxPool2d = (x: TensorLike, kernel: number | readonly number[], options: PoolOptions = {}) => maxPoolNd('maxPool2d', 2, x, kernel, options);
export const avgPool1d = (x: TensorLike, kernel: number | readonly number[], options: AvgPoolOptions = {}) => avgPoolNd('avgPool1d', 1, x, kernel, options);
/** Mean over kh x kw windows; padded zeros count in the divisor unless countIncludePad is false. */
export const avgPool2d = (x: TensorLike, kernel: number | readonly number[], options: AvgPoolOptions = {}) => avgPoolNd('avgPool2d', 2, x, kernel, options);

/** Output size per spatial dim; `null` keeps the input size. Only evenly dividing sizes are supported. */
function adaptiveWindow(op: string, x: Tensor, outputSize: number | readonly (number | null)[]): number[] {
  const spatial = x.shape.slice(-2);
  if (x.ndim < 3) fail(op, `expects [C, H, W] or [N, C, H, W], got ${x.describe()}`);
  const out = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize.map((o, i) => o ?? spatial[i]);
  if (out.length !== 2 || !out.every((o) => Number.isInteger(o) && o >= 1)) fail(op, `outputSize must be a positive integer or [oh, ow], got ${JSON.stringify(outputSize)}`);
  out.forEach((o, i) => {
    if (spatial[i] % o !== 0) {
      fail(op, `input size ${spatial[i]} of ${x.describe()} is not divisible by output size ${o} on spatial dim ${i} (only evenly dividing sizes are supported)`);
    }
  });
  return out.map((o, i) => spatial[i] / o);
}

/** Average pooling to a fixed output size, when the input size is a multiple of it. */
export function adaptiveAvgPool2d(input: TensorLike, outputSize: number | readonly (number | null)[]): Tensor {
  const x = asTensor('adaptiveAvgPool2d', input);
  return avgPool2d(x, adaptiveWindow('adaptiveAvgPool2d', x, outputSize));
}
/** Max pooling to a fixed output size, when the input size is a multiple of it. */
export function adaptiveMaxPool2d(input: TensorLike, outputSize: number | readonly (number | null)[]): Tensor {
  const x = asTensor('adaptiveMaxPool2d', input);
  return maxPool2d(x, adaptiveWindow('adaptiveMaxPool2d', x, outputSize));
}
