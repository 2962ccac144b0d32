// The abstract emitter gradient rules are written against: the eager tape instantiates it with
// tensors (bind), the IR pass with builder values, so every VJP rule is written once for both.
import type { Block, Value } from '../../ir/function.js';
import type { Builder } from '../../ir/builder.js';
import type { DType } from '../../ir/dtype.js';
import { isFloat } from '../../ir/dtype.js';
import type { AnyAttrs, Attrs, Primitive } from '../../ir/ops.js';
import type { TensorType } from '../../ir/shape.js';
import { shapeEqual } from '../../ir/shape.js';

/** Applies primitives to values of type T (tensors or IR values) and reads their types. */
export interface Emit<T> {
  bind(prim: Primitive, ins: readonly T[], attrs: AnyAttrs, regions?: readonly Block[]): T[];
  type(x: T): TensorType;
}

/** The IR instance: ops are appended to `b` (result types inferred by the op table). */
export function builderEmit(b: Builder): Emit<Value> {
  return {
    bind: (prim, ins, attrs, regions = []) => b.op(prim, ins, attrs as Attrs<Primitive>, regions),
    type: (v) => v.type,
  };
}

// ---- small helpers over any emitter ---------------------------------------------------------------

export function op1<T>(e: Emit<T>, prim: Primitive, ins: readonly T[], attrs: AnyAttrs = {}): T {
  return e.bind(prim, ins, attrs)[0];
}

export const isFloatValue = <T>(e: Emit<T>, x: T): boolean => isFloat(e.type(x).dtype);

/** A constant of `type` filled with `value` (one stored value: backends broadcast it for free). */
export function full<T>(e: Emit<T>, type: TensorType, value: number): T {
  return op1(e, 'constant', [], { value: [value], dtype: type.dtype, shape: [...type.shape] });
}
export const zerosLike = <T>(e: Emit<T>, x: T): T => full(e, e.type(x), 0);
/** A constant shaped and typed like `x`. */
export const scalarLike = <T>(e: Emit<T>, x: T, value: number): T => full(e, e.type(x), value);

export const add = <T>(e: Emit<T>, a: T, b: T): T => op1(e, 'add', [a, b]);
export const sub = <T>(e: Emit<T>, a: T, b: T): T => op1(e, 'sub', [a, b]);
export const mul = <T>(e: Emit<T>, a: T, b: T): T => op1(e, 'mul', [a, b]);
export const div = <T>(e: Emit<T>, a: T, b: T): T => op1(e, 'div', [a, b]);
export const neg = <T>(e: Emit<T>, a: T): T => op1(e, 'neg', [a]);
/** `x * c` for a JS number c. */
export const scale = <T>(e: Emit<T>, x: T, c: number): T => (c === 1 ? x : mul(e, x, scalarLike(e, x, c)));
export const select = <T>(e: Emit<T>, p: T, a: T, b: T): T => op1(e, 'select', [p, a, b]);
export const eq = <T>(e: Emit<T>, a: T, b: T): T => op1(e, 'eq', [a, b]);
export const cast = <T>(e: Emit<T>, x: T, dtype: DType): T => (e.type(x).dtype === dtype ? x : op1(e, 'cast', [x], { dtype }));
/** `mask ? x : 0`. */
export const maskWhere = <T>(e: Emit<T>, mask: T, x: T): T => select(e, mask, x, zerosLike(e, x));

export function reshape<T>(e: Emit<T>, x: T, shape: readonly number[]): T {
  return shapeEqual(e.type(x).shape, shape) ? x : op1(e, 'reshape', [x], { shape: [...shape] });
}
export function transpose<T>(e: Emit<T>, x: T, perm: readonly number[]): T {
  return perm.every((p, i) => p === i) ? x : op1(e, 'transpose', [x], { perm: [...perm] });
}
export function reduceSum<T>(e: Emit<T>, x: T, axes: readonly number[]): T {
  return axes.length === 0 ? x : op1(e, 'reduce_sum', [x], { axes: [...axes] });
}
/** XLA broadcast_in_dim: operand dim i becomes output dim dims[i]. */
export function broadcastIn<T>(e: Emit<T>, x: T, shape: readonly number[], dims: readonly number[]): T {
  const s = e.type(x).shape;
  if (shapeEqual(s, shape) && dims.every((d, i) => d === i)) return x;
  return op1(e, 'broadcast', [x], { shape: [...shape], dims: [...dims] });
}
export function slice<T>(e: Emit<T>, x: T, start: readonly number[], limit: readonly number[], stride?: readonly number[]): T {
  const s = e.type(x).shape;
  const st = stride ?? s.map(() => 1);
  if (start.every((v) => v === 0) && limit.every((v, i) => v === s[i]) && st.every((v) => v === 1)) return x;
  return op1(e, 'slice', [x], { start: [...start], limit: [...limit], stride: [...st] });
}
export function pad<T>(e: Emit<T>, x: T, low: readonly number[], high: readonly number[], interior: readonly number[], value = 0): T {
  if (low.every((v) => v === 0) && high.every((v) => v === 0) && interior.every((v) => v === 0)) return x;
  return op1(e, 'pad', [x], { low: [...low], high: [...high], interior: [...interior], value });
}

/**
 * Sums `g` down to `shape` with NumPy's trailing alignment (the adjoint of a NumPy broadcast):
 * leading extra axes and axes where `shape` has 1 are summed away.
 */
export function sumToShape<T>(e: Emit<T>, g: T, shape: readonly number[]): T {
  const gs = e.type(g).shape;
  if (shapeEqual(gs, shape)) return g;
  const lead = gs.length - shape.length;
  const axes = gs.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && gs[i] !== 1));
  return reshape(e, reduceSum(e, g, axes), shape);
}

/** Inverse of a permutation. */
export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
