// Reductions with NumPy/PyTorch options: `axis` (number, negative, array, or omitted = all) and
// `keepdims`. Bool sums count in int32; means of ints are float32.
import { isFloat } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import { sizeOf } from '../../ir/shape.js';
import { axisOf, axesOf } from './axes.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor } from '../convert.js';
import { numberArg } from '../args.js';
import { astype, sub, mul, div, sqrt, exp, log, add, eq, abs, where } from './elementwise.js';
import { reshapeTo } from './nn_internal.js';

export interface ReduceOptions {
  axis?: number | readonly number[];
  keepdims?: boolean;
}

type ReducePrim = 'reduce_sum' | 'reduce_max' | 'reduce_min' | 'reduce_prod';

function reduce(prim: ReducePrim, op: string, x: TensorLike, opts: ReduceOptions = {}): Tensor {
  let t = asTensor(op, x);
  if (t.dtype === 'bool' && (prim === 'reduce_sum' || prim === 'reduce_prod')) t = astype(t, 'int32');
  const axes = axesOf(op, opts.axis, t);
  // max/min of nothing has no answer (NumPy raises); all/any of nothing are true/false (bool identities).
  const logical = op === 'all' || op === 'any';
  if ((prim === 'reduce_max' || prim === 'reduce_min') && !logical && axes.some((a) => t.shape[a] === 0)) {
    throw new KilnError(`${op}: cannot reduce an empty axis of ${t.describe()} (no identity for ${op})`);
  }
  const r = axes.length ? bind1(prim, [t], { axes }) : t;
  return opts.keepdims ? reshapeTo(r, t.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : r;
}

export const sum = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_sum', 'sum', x, opts);
export const prod = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_prod', 'prod', x, opts);
export const max = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_max', 'max', x, opts);
export const min = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_min', 'min', x, opts);

/** True where all / any elements along the axes are non-zero. */
export const all = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_min', 'all', astype(asTensor('all', x), 'bool'), opts);
export const any = (x: TensorLike, opts?: ReduceOptions) => reduce('reduce_max', 'any', astype(asTensor('any', x), 'bool'), opts);

function count(t: Tensor, axis: ReduceOptions['axis'], op: string): number {
  return sizeOf(axesOf(op, axis, t).map((a) => t.shape[a]));
}

export const mean = (x: TensorLike, opts: ReduceOptions = {}) => meanOf('mean', x, opts);

/** Mean under the user's op name (errors from var/std name var/std); ints and bools average in float32. */
function meanOf(op: string, x: TensorLike, opts: ReduceOptions): Tensor {
  let t = asTensor(op, x);
  if (!isFloat(t.dtype)) t = astype(t, 'float32');
  const n = count(t, opts.axis, op);
  return div(reduce('reduce_sum', op, t, opts), n);
}

export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the element count in the divisor: 1 (default, torch.var) or 0 (NumPy's default). */
  correction?: number;
  /** PyTorch's older spelling: `unbiased: false` is correction 0. Ignored when correction is given. */
  unbiased?: boolean;
}

function varianceOf(op: string, x: TensorLike, opts: VarianceOptions): Tensor {
  let t = asTensor(op, x);
  if (!isFloat(t.dtype)) t = astype(t, 'float32');
  const correction = opts.correction === undefined ? (opts.unbiased === false ? 0 : 1) : numberArg(op, 'correction', opts.correction, { min: 0 });
  const n = count(t, opts.axis, op) - correction;
  const centered = sub(t, meanOf(op, t, { axis: opts.axis, keepdims: true }));
  // n <= 0 divides by 0: inf or NaN, as in NumPy and PyTorch.
  return div(reduce('reduce_sum', op, mul(centered, centered), opts), Math.max(0, n));
}
/** Variance; `correction` 1 (default, like torch.var) divides by n-1, 0 by n. (`var` is reserved in JS.) */
export const variance = (x: TensorLike, opts: VarianceOptions = {}) => varianceOf('var', x, opts);
export { variance as var_ };
export const std = (x: TensorLike, opts: VarianceOptions = {}) => sqrt(varianceOf('std', x, opts));

function argReduce(prim: 'argmax' | 'argmin', x: TensorLike, opts: { axis?: number; keepdims?: boolean }): Tensor {
  let t = asTensor(prim, x);
  if (opts.axis === undefined) {
    t = reshapeTo(t, [t.size]);
    if (t.size === 0) throw new KilnError(`${prim}: cannot take ${prim} of an empty tensor (${asTensor(prim, x).describe()})`);
    const r = bind1(prim, [t], { axis: 0 });
    return opts.keepdims ? reshapeTo(r, asTensor(prim, x).shape.map(() => 1)) : r;
  }
  const axis = axisOf(prim, opts.axis, t);
  const r = bind1(prim, [t], { axis });
  return opts.keepdims ? reshapeTo(r, t.shape.map((d, i) => (i === axis ? 1 : d))) : r;
}
export const argmax = (x: TensorLike, opts: { axis?: number; keepdims?: boolean } = {}) => argReduce('argmax', x, opts);
export const argmin = (x: TensorLike, opts: { axis?: number; keepdims?: boolean } = {}) => argReduce('argmin', x, opts);

/** log(sum(exp(x))) computed stably (shifted by the max; -inf rows stay -inf). */
export function logSumExp(x: TensorLike, opts: ReduceOptions = {}): Tensor {
  let t = asTensor('logSumExp', x);
  if (!isFloat(t.dtype)) t = astype(t, 'float32');
  const axes = axesOf('logSumExp', opts.axis, t);
  // An empty sum is 0, so the answer is log(0) = -inf; there is no max to shift by.
  if (axes.some((a) => t.shape[a] === 0)) return log(reduce('reduce_sum', 'logSumExp', exp(t), { axis: axes, keepdims: opts.keepdims }));
  const m = max(t, { axis: axes, keepdims: true });
  // Rows whose max is ±inf shift by 0 instead, so they give -inf / inf rather than NaN.
  const safe = where(eq(abs(m), Infinity), 0, m);
  const shifted = exp(sub(t, safe));
  const out = add(log(sum(shifted, { axis: axes, keepdims: true })), safe);
  return opts.keepdims ? out : reshapeTo(out, t.shape.filter((_, i) => !axes.includes(i)));
}

/** Cumulative sum along an axis (a triangular contraction: O(n²) along the axis, fine for moderate n). */
export function cumsum(x: TensorLike, opts: { axis?: number } = {}): Tensor {
  let t = asTensor('cumsum', x);
  if (t.dtype === 'bool') t = astype(t, 'int32');
  const axis = axisOf('cumsum', opts.axis ?? -1, t);
  const n = t.shape[axis];
  const rows = bind1('iota', [], { shape: [n, n], dimension: 0, dtype: 'int32', device: t.device });
  const cols = bind1('iota', [], { shape: [n, n], dimension: 1, dtype: 'int32', device: t.device });
  const tri = astype(bind1('le', [rows, cols]), t.dtype); // tri[k, j] = 1 when k <= j
  const r = t.ndim;
  const out = bind1('dot_general', [t, tri], { contract: [[axis], [0]], batch: [[], []] });
  // dot_general puts the summed-into axis last: move it back to position `axis`.
  const perm = [...Array(r).keys()].map((i) => (i < axis ? i : i === axis ? r - 1 : i - 1));
  return axis === r - 1 ? out : bind1('transpose', [out], { perm });
}
