// Neural-network functions built from primitives: softmax family, activations, linear, dropout and
// normalization layers (PyTorch semantics). Everything that can overflow is written in its stable form.
import { promoteTypes } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { normalizeAxis } from '../../ir/shape.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor, deviceOf, tensor } from '../convert.js';
import { named, numberArg, show } from '../args.js';
import {
  abs, add, astype, div, erf, exp, expm1, ge, gt, log, log1p, maximum, minimum, mul, neg, pow, relu, rsqrt,
  sigmoid, sub, tanh, where,
} from './elementwise.js';
import { broadcastIn, floatDType, full, maxAxes, meanAxes, reshapeTo, sumAxes, toFloat } from './nn_internal.js';

export interface AxisOptions {
  /** Default -1 (the last axis). */
  axis?: number;
}

/** Rejects a tensor or array where an options object belongs (the PyTorch positional habit). */
function options<T extends object>(op: string, o: T | undefined, names: string): T {
  if (o === undefined || o === null) return {} as T;
  if (o instanceof Tensor || Array.isArray(o) || ArrayBuffer.isView(o) || typeof o !== 'object') {
    fail(op, `optional arguments go in an options object {${names}}, got ${o instanceof Tensor ? o.describe() : typeof o}`);
  }
  return o;
}

// ---- softmax family -------------------------------------------------------------------------------

/** exp(x - max) / sum(exp(x - max)) along `axis`: finite for any finite input. */
export function softmax(x: TensorLike, opts?: AxisOptions): Tensor {
  const t = toFloat(asTensor('softmax', x));
  const axis = normalizeAxis('softmax', options('softmax', opts, 'axis').axis ?? -1, t.ndim);
  const e = exp(sub(t, maxAxes('softmax', t, axis, true)));
  return div(e, sumAxes('softmax', e, axis, true));
}

/** x - logsumexp(x) along `axis`, computed around the max so ±1e4 inputs stay finite. */
export function logSoftmax(x: TensorLike, opts?: AxisOptions): Tensor {
  const t = toFloat(asTensor('logSoftmax', x));
  const axis = normalizeAxis('logSoftmax', options('logSoftmax', opts, 'axis').axis ?? -1, t.ndim);
  const shifted = sub(t, maxAxes('logSoftmax', t, axis, true));
  return sub(shifted, log(sumAxes('logSoftmax', exp(shifted), axis, true)));
}

// ---- activations ----------------------------------------------------------------------------------

const f = (op: string, x: TensorLike) => toFloat(asTensor(op, x));

/** GELU: x * Φ(x) exactly (erf, PyTorch's default) or with the tanh approximation. */
export function gelu(x: TensorLike, opts?: { approximate?: 'none' | 'tanh' }): Tensor {
  const t = f('gelu', x);
  const approximate = options('gelu', opts, 'approximate').approximate ?? 'none';
  if (approximate === 'tanh') {
    const inner = mul(Math.sqrt(2 / Math.PI), add(t, mul(0.044715, mul(t, mul(t, t)))));
    return mul(mul(0.5, t), add(1, tanh(inner)));
  }
  if (approximate !== 'none') fail('gelu', `approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  return mul(mul(0.5, t), add(1, erf(mul(t, Math.SQRT1_2))));
}

/** SiLU (swish): x * sigmoid(x). */
export const silu = (x: TensorLike) => {
  const t = f('silu', x);
  return mul(t, sigmoid(t));
};

/** x for x > 0, negativeSlope * x otherwise (default slope 0.01). */
export function leakyRelu(x: TensorLike, opts?: { negativeSlope?: number }): Tensor {
  const t = f('leakyRelu', x);
  const slope = options('leakyRelu', opts, 'negativeSlope').negativeSlope;
  return where(gt(t, 0), t, mul(t, slope === undefined ? 0.01 : numberArg('leakyRelu', 'negativeSlope', slope)));
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise; exp only sees min(x, 0) so it never overflows. */
export function elu(x: TensorLike, opts?: { alpha?: number }): Tensor {
  const t = f('elu', x);
  const alpha = numberArg('elu', 'alpha', options('elu', opts, 'alpha').alpha ?? 1);
  return where(gt(t, 0), t, mul(alpha, expm1(minimum(t, 0))));
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
/** Self-normalizing ELU with the fixed constants of Klambauer et al. */
export const selu = (x: TensorLike) => mul(SELU_SCALE, elu(f('selu', x), { alpha: SELU_ALPHA }));

/**
 * log(1 + exp(beta*x)) / beta, as max(z, 0) + log1p(exp(-|z|)) with z = beta*x: exact and finite
 * everywhere (PyTorch's threshold switch to the identity is then unnecessary; it is honored anyway).
 */
export function softplus(x: TensorLike, opts?: { beta?: number; threshold?: number }): Tensor {
  const t = f('softplus', x);
  const o = options('softplus', opts, 'beta, threshold');
  const beta = numberArg('softplus', 'beta', o.beta ?? 1, { positive: true });
  const threshold = numberArg('softplus', 'threshold', o.threshold ?? 20);
  const z = beta === 1 ? t : mul(t, beta);
  // maximum, not relu: at z = 0 its gradient splits 1/2 (relu's is 0, and abs's is 0), so the sum's
  // gradient there is sigmoid(0) = 1/2 as it must be.
  const sp = add(maximum(z, 0), log1p(exp(neg(abs(z)))));
  const y = beta === 1 ? sp : div(sp, beta);
  return where(gt(z, threshold), t, y);
}

/** log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): finite for large |x|. */
export function logSigmoid(x: TensorLike): Tensor {
  const t = f('logSigmoid', x);
  return sub(minimum(t, 0), log1p(exp(neg(abs(t)))));
}

/** x * tanh(softplus(x)). */
export const mish = (x: TensorLike) => {
  const t = f('mish', x);
  return mul(t, tanh(softplus(t)));
};

/** Clamps to [minVal, maxVal] (default [-1, 1]). */
export function hardtanh(x: TensorLike, opts?: { minVal?: number; maxVal?: number }): Tensor {
  const t = asTensor('hardtanh', x);
  const { minVal = -1, maxVal = 1 } = options('hardtanh', opts, 'minVal, maxVal');
  if (minVal > maxVal) fail('hardtanh', `minVal ${minVal} is larger than maxVal ${maxVal}`);
  return minimum(maximum(t, minVal), maxVal);
}
/** min(max(x, 0), 6). */
export const relu6 = (x: TensorLike) => named('relu6', () => hardtanh(x, { minVal: 0, maxVal: 6 }));
/** Piecewise-linear sigmoid: relu6(x + 3) / 6. */
export const hardSigmoid = (x: TensorLike) => named('hardSigmoid', () => div(relu6(add(f('hardSigmoid', x), 3)), 6));
/** x * relu6(x + 3) / 6 (MobileNetV3). */
export const hardSwish = (x: TensorLike) => {
  const t = f('hardSwish', x);
  return mul(t, hardSigmoid(t));
};
/** x / (1 + |x|). */
export const softsign = (x: TensorLike) => {
  const t = f('softsign', x);
  return div(t, add(abs(t), 1));
};

// ---- linear, dropout ------------------------------------------------------------------------------

/**
 * x @ w^T + bias with PyTorch's layout w [out, in]. The bias may be given as the third argument
 * (PyTorch's F.linear) or as {bias}.
 */
export function linear(x: TensorLike, w: TensorLike, bias?: TensorLike | null | { bias?: TensorLike | null }): Tensor {
  const bv = bias !== null && typeof bias === 'object' && !(bias instanceof Tensor) && !Array.isArray(bias) && !ArrayBuffer.isView(bias) ? bias.bias : bias;
  const dev = deviceOf(x, w, bv);
  const xt = asTensor('linear', x, undefined, dev);
  const wt = asTensor('linear', w, undefined, dev);
  const dtype = promoteTypes(floatDType(xt), floatDType(wt));
  const a = astype(xt, dtype);
  const b = astype(wt, dtype);
  if (a.ndim < 1 || b.ndim !== 2) fail('linear', `expects x [..., in] and weight [out, in], got ${a.describe()} and ${b.describe()}`);
  const inF = a.shape[a.ndim - 1];
  if (b.shape[1] !== inF) fail('linear', `${a.describe()} @ ${b.describe()}^T: input features ${inF} and weight in_features ${b.shape[1]} differ`);
  const y = bind1('dot_general', [a, b], { contract: [[a.ndim - 1], [1]], batch: [[], []] });
  if (bv === undefined || bv === null) return y;
  const bt = astype(asTensor('linear', bv as TensorLike, undefined, dev), dtype);
  if (bt.ndim > 1 || (bt.ndim === 1 && bt.shape[0] !== b.shape[0] && bt.shape[0] !== 1)) fail('linear', `bias must be [${b.shape[0]}], got ${bt.describe()}`);
  return add(y, bt);
}

export interface DropoutOptions {
  /** An int32[2] random key (or a seed number, meaning key [0, seed]); required when dropping. */
  key?: TensorLike | number;
  /** Default true; false returns x unchanged (evaluation mode). */
  training?: boolean;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p). The mask comes from
 * counter-based random bits, so a given key gives the same mask on every device and under jit.
 */
export function dropout(x: TensorLike, p: number, opts?: DropoutOptions): Tensor {
  const t = asTensor('dropout', x);
  const { key, training = true } = options('dropout', opts, 'key, training');
  if (!(p >= 0 && p <= 1)) fail('dropout', `p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return t;
  const ft = toFloat(t);
  if (p === 1) return mul(ft, 0);
  if (key === undefined) fail('dropout', 'needs a random key in training mode: dropout(x, p, {key}) (or {training: false})');
  const k = typeof key === 'number' ? tensor([0, key], { dtype: 'int32', device: t.device }) : astype(asTensor('dropout', key, 'int32', t.device), 'int32');
  if (k.ndim !== 1 || k.shape[0] !== 2) fail('dropout', `key must be int32[2], got ${k.describe()}`);
  const bits = bind1('random_bits', [k], { shape: [...t.shape] });
  // bits are uniform over the int32 range: P(bits >= threshold) = 1 - p.
  const threshold = Math.min(2 ** 31 - 1, Math.round(p * 2 ** 32 - 2 ** 31));
  const keep = ge(bits, full(bits.shape, threshold, 'int32', t.device));
  return where(keep, div(ft, 1 - p), full(ft.shape, 0, ft.dtype, ft.device));
}

// ---- normalization --------------------------------------------------------------------------------

/** normalizedShape: a number or a list of integers. */
function shapeOf(op: string, s: number | readonly number[]): number[] {
  if (typeof s === 'number') return [s];
  if (!Array.isArray(s) || !s.every(Number.isInteger)) fail(op, `normalizedShape must be a number or a list of integers, got ${show(s)}`);
  return [...s];
}

export interface NormOptions {
  weight?: TensorLike | null;
  bias?: TensorLike | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** (x - mean) / sqrt(var + eps) over `axes` (biased variance, as every framework's norm layer). */
function standardize(op: string, x: Tensor, axes: number[], eps: number): Tensor {
  const centered = sub(x, meanAxes(op, x, axes, true));
  const variance = meanAxes(op, mul(centered, centered), axes, true);
  return mul(centered, rsqrt(add(variance, eps)));
}

function affine(op: string, y: Tensor, weight: TensorLike | null | undefined, bias: TensorLike | null | undefined, shape: readonly number[], dims: number[]): Tensor {
  const param = (name: string, v: TensorLike) => {
    const p = astype(asTensor(op, v, undefined, y.device), y.dtype);
    if (p.ndim !== shape.length || p.shape.some((d, i) => d !== shape[i])) fail(op, `${name} must be [${shape.join(',')}], got ${p.describe()}`);
    return broadcastIn(p, y.shape, dims);
  };
  if (weight !== undefined && weight !== null) y = mul(y, param('weight', weight));
  if (bias !== undefined && bias !== null) y = add(y, param('bias', bias));
  return y;
}

/** Layer normalization over the trailing `normalizedShape` dims, with optional elementwise affine. */
export function layerNorm(x: TensorLike, normalizedShape: number | readonly number[], opts?: NormOptions): Tensor {
  const t = f('layerNorm', x);
  const { weight, bias, eps = 1e-5 } = options('layerNorm', opts, 'weight, bias, eps');
  const shape = shapeOf('layerNorm', normalizedShape);
  const k = shape.length;
  if (k > t.ndim || shape.some((d, i) => d !== t.shape[t.ndim - k + i])) {
    fail('layerNorm', `normalizedShape [${shape.join(',')}] must match the trailing dims of ${t.describe()}`);
  }
  const axes = Array.from({ length: k }, (_, i) => t.ndim - k + i);
  return affine('layerNorm', standardize('layerNorm', t, axes, eps), weight, bias, shape, axes);
}

/** x / sqrt(mean(x^2) + eps) over the trailing `normalizedShape` dims, times an optional weight. */
export function rmsNorm(x: TensorLike, normalizedShape: number | readonly number[], opts?: { weight?: TensorLike | null; eps?: number }): Tensor {
  const t = f('rmsNorm', x);
  const { weight, eps = 1e-6 } = options('rmsNorm', opts, 'weight, eps');
  const shape = shapeOf('rmsNorm', normalizedShape);
  const k = shape.length;
  if (k > t.ndim || shape.some((d, i) => d !== t.shape[t.ndim - k + i])) {
    fail('rmsNorm', `normalizedShape [${shape.join(',')}] must match the trailing dims of ${t.describe()}`);
  }
  const axes = Array.from({ length: k }, (_, i) => t.ndim - k + i);
  const y = mul(t, rsqrt(add(meanAxes('rmsNorm', mul(t, t), axes, true), eps)));
  return affine('rmsNorm', y, weight, null, shape, axes);
}

export interface BatchNormOptions extends NormOptions {
  /** true: normalize with this batch's statistics; false (default): with the given running ones. */
  training?: boolean;
}

/**
 * Batch normalization of x [N, C, ...] per channel. In evaluation mode uses runningMean/runningVar
 * [C]; in training mode the batch's own mean and biased variance (updating running statistics is
 * the BatchNorm module's job: functions here never mutate).
 */
export function batchNorm(x: TensorLike, runningMean: TensorLike | null, runningVar: TensorLike | null, opts?: BatchNormOptions): Tensor {
  const t = f('batchNorm', x);
  const { weight, bias, eps = 1e-5, training = false } = options('batchNorm', opts, 'weight, bias, eps, training');
  if (t.ndim < 2) fail('batchNorm', `expects x [N, C, ...], got ${t.describe()}`);
  const c = t.shape[1];
  let y: Tensor;
  if (training) {
    y = standardize('batchNorm', t, [0, ...Array.from({ length: t.ndim - 2 }, (_, i) => i + 2)], eps);
  } else {
    if (runningMean === null || runningVar === null) fail('batchNorm', 'evaluation mode needs runningMean and runningVar (or {training: true})');
    const stat = (name: string, v: TensorLike) => {
      const s = astype(asTensor('batchNorm', v, undefined, t.device), t.dtype);
      if (s.ndim !== 1 || s.shape[0] !== c) fail('batchNorm', `${name} must be [${c}] for ${t.describe()}, got ${s.describe()}`);
      return broadcastIn(s, t.shape, [1]);
    };
    y = mul(sub(t, stat('runningMean', runningMean)), rsqrt(add(stat('runningVar', runningVar), eps)));
  }
  return affine('batchNorm', y, weight, bias, [c], [1]);
}

/** Group normalization of x [N, C, ...]: statistics over each group of C/numGroups channels and all spatial dims. */
export function groupNorm(x: TensorLike, numGroups: number, opts?: NormOptions): Tensor {
  const t = f('groupNorm', x);
  const { weight, bias, eps = 1e-5 } = options('groupNorm', opts, 'weight, bias, eps');
  if (t.ndim < 2) fail('groupNorm', `expects x [N, C, ...], got ${t.describe()}`);
  const [n, c] = t.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) fail('groupNorm', `numGroups ${numGroups} must divide the ${c} channels of ${t.describe()}`);
  const grouped = reshapeTo(t, [n, numGroups, t.size / Math.max(1, n * numGroups)]);
  const y = reshapeTo(standardize('groupNorm', grouped, [2], eps), t.shape);
  return affine('groupNorm', y, weight, bias, [c], [1]);
}

/** x / max(||x||_p, eps) along `axis` (default 1), PyTorch's F.normalize. */
export function normalize(x: TensorLike, opts?: { p?: number; axis?: number; eps?: number }): Tensor {
  const t = f('normalize', x);
  const { p = 2, axis = 1, eps = 1e-12 } = options('normalize', opts, 'p, axis, eps');
  const ax = normalizeAxis('normalize', axis, t.ndim);
  const a = abs(t);
  const norm = p === 2 ? pow(sumAxes('normalize', mul(a, a), ax, true), 0.5)
    : p === 1 ? sumAxes('normalize', a, ax, true)
    : p === Infinity ? maxAxes('normalize', a, ax, true)
    : pow(sumAxes('normalize', pow(a, p), ax, true), 1 / p);
  return div(t, maximum(norm, eps));
}

// ---- Tensor methods -------------------------------------------------------------------------------

declare module '../tensor.js' {
  interface Tensor {
    softmax(opts?: AxisOptions): Tensor;
    logSoftmax(opts?: AxisOptions): Tensor;
    gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor;
    silu(): Tensor;
    leakyRelu(opts?: { negativeSlope?: number }): Tensor;
    elu(opts?: { alpha?: number }): Tensor;
    softplus(opts?: { beta?: number; threshold?: number }): Tensor;
    logSigmoid(): Tensor;
    hardtanh(opts?: { minVal?: number; maxVal?: number }): Tensor;
    relu6(): Tensor;
    mish(): Tensor;
  }
}

Object.assign(Tensor.prototype, {
  softmax(this: Tensor, opts?: AxisOptions) { return softmax(this, opts); },
  logSoftmax(this: Tensor, opts?: AxisOptions) { return logSoftmax(this, opts); },
  gelu(this: Tensor, opts?: { approximate?: 'none' | 'tanh' }) { return gelu(this, opts); },
  silu(this: Tensor) { return silu(this); },
  leakyRelu(this: Tensor, opts?: { negativeSlope?: number }) { return leakyRelu(this, opts); },
  elu(this: Tensor, opts?: { alpha?: number }) { return elu(this, opts); },
  softplus(this: Tensor, opts?: { beta?: number; threshold?: number }) { return softplus(this, opts); },
  logSigmoid(this: Tensor) { return logSigmoid(this); },
  hardtanh(this: Tensor, opts?: { minVal?: number; maxVal?: number }) { return hardtanh(this, opts); },
  relu6(this: Tensor) { return relu6(this); },
  mish(this: Tensor) { return mish(this); },
});
