// Small shape and reduction helpers shared by linalg.ts and nn_functional.ts, written directly on
// primitives (bind) so the contraction and nn ops need nothing beyond the op table. Not public API.
import type { DType } from '../../ir/dtype.js';
import { isFloat } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { normalizeAxes, shapeEqual, sizeOf } from '../../ir/shape.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { astype } from './elementwise.js';

export function reshapeTo(x: Tensor, shape: readonly number[]): Tensor {
  return shapeEqual(x.shape, shape) ? x : bind1('reshape', [x], { shape: [...shape] });
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return perm.every((p, i) => p === i) ? x : bind1('transpose', [x], { perm: [...perm] });
}

/** Broadcasts with explicit dimension mapping (XLA broadcast_in_dim); identity when shapes match. */
export function broadcastIn(x: Tensor, shape: readonly number[], dims: readonly number[]): Tensor {
  if (shapeEqual(x.shape, shape) && dims.every((d, i) => d === i)) return x;
  return bind1('broadcast', [x], { shape: [...shape], dims: [...dims] });
}

type ReducePrim = 'reduce_sum' | 'reduce_max' | 'reduce_min';

/** Reduces `axis` (number, array, or undefined = all), optionally keeping reduced dims as size 1. */
export function reduceAxes(prim: ReducePrim, op: string, x: Tensor, axis: number | readonly number[] | undefined, keepdims = false): Tensor {
  const axes = normalizeAxes(op, axis, x.ndim);
  if (axes.length === 0) return x;
  const r = bind1(prim, [x], { axes });
  return keepdims ? reshapeTo(r, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : r;
}

export const sumAxes = (op: string, x: Tensor, axis?: number | readonly number[], keepdims = false) => reduceAxes('reduce_sum', op, x, axis, keepdims);
export const maxAxes = (op: string, x: Tensor, axis?: number | readonly number[], keepdims = false) => reduceAxes('reduce_max', op, x, axis, keepdims);

/** Mean over axes; ints average in float32 (like NumPy). */
export function meanAxes(op: string, x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const axes = normalizeAxes(op, axis, x.ndim);
  const t = isFloat(x.dtype) ? x : astype(x, 'float32');
  const n = sizeOf(axes.map((a) => x.shape[a]));
  const s = sumAxes(op, t, axes, keepdims);
  return bind1('div', [s, full(s.shape, n, s.dtype, x.device)]);
}

/** A constant tensor filled with one value (a single-value constant op: fuses as a leaf). */
export function full(shape: readonly number[], value: number, dtype: DType, device: string): Tensor {
  return bind1('constant', [], { value: [value], dtype, shape: [...shape], device });
}

export function iota(shape: readonly number[], dimension: number, device: string, dtype: DType = 'int32'): Tensor {
  return bind1('iota', [], { shape: [...shape], dimension, dtype, device });
}

/** The float dtype an op computes in: floats keep theirs, ints and bools become float32. */
export function floatDType(x: Tensor): DType {
  return isFloat(x.dtype) ? x.dtype : 'float32';
}

export function toFloat(x: Tensor): Tensor {
  return astype(x, floatDType(x));
}

/** Normalizes an int or per-dimension list option (`stride: 2` or `[2, 1]`) to `n` entries. */
export function tupleOf(op: string, name: string, v: number | readonly number[], n: number, min = 0): number[] {
  const xs = typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? [...v] : [NaN];
  if (xs.length !== n || !xs.every((d) => Number.isInteger(d) && d >= min)) {
    fail(op, `${name} must be an integer >= ${min} or a list of ${n} such integers, got ${JSON.stringify(v)}`);
  }
  return xs;
}

