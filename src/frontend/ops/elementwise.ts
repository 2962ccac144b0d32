// Elementwise ops: unary math, binary arithmetic with NumPy broadcasting and type promotion,
// comparisons, logical ops, where, cast. Each is one `bind` of a primitive after shape/dtype fix-ups.
import { DType, isDType, isFloat, promoteTypes } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import type { BinaryOp, UnaryOp } from '../../ir/ops.js';
import { BINARY_OPS, FLOAT_UNARY_OPS, COMPARISON_OPS, UNARY_OPS } from '../../ir/ops.js';
import { broadcastShapes, shapeEqual } from '../../ir/shape.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor, deviceOf, toTensors } from '../convert.js';
import { getDevice } from '../../codegen/device.js';
import { named, oneOfArg, show, shapeArg } from '../args.js';

export interface AstypeOptions {
  /**
   * 'check' (default): casting a float NaN, infinity or value outside the int32 range to int32 is an
   * error (checked on eager values; under jit values are unknown and the cast saturates). 'clamp':
   * saturate explicitly (NaN becomes 0, out-of-range values the nearest int32), like the primitive.
   */
  mode?: 'check' | 'clamp';
}

/** Casts to `dtype` (no-op when equal). */
export function astype(x: TensorLike, dtype: DType, opts: AstypeOptions = {}): Tensor {
  const t = asTensor('astype', x);
  if (!isDType(dtype)) throw new KilnError(`astype: unknown dtype '${String(dtype)}' (expected float32, int32, bool or float64)`);
  const mode = opts?.mode === undefined ? 'check' : oneOfArg('astype', 'mode', opts.mode, ['check', 'clamp'] as const);
  if (t.dtype === dtype) return t;
  if (mode === 'check' && dtype === 'int32' && isFloat(t.dtype) && !t.isTraced) checkIntCast(t);
  return bind1('cast', [t], { dtype });
}

/** Throws for values a float -> int32 cast cannot represent (skipped where a sync read is impossible). */
function checkIntCast(t: Tensor): void {
  let data: ArrayLike<number>;
  try {
    data = getDevice(t.device).readSync(t._buf()).data;
  } catch {
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > -2147483649 && v < 2147483648) continue;
    const what = Number.isNaN(v) ? 'cannot cast NaN to int32' : `${v} is out of the int32 range`;
    throw new KilnError(`astype: ${what} (element ${i} of ${t.describe()}); pass {mode: 'clamp'} to saturate (NaN becomes 0)`);
  }
}

/** Broadcasts to `shape` with NumPy rules (a view in jit: fusion turns it into index math). */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor('broadcastTo', x);
  shapeArg('broadcastTo', shape);
  if (shapeEqual(t.shape, shape)) return t;
  const out = broadcastShapes('broadcastTo', t.shape, shape);
  if (!shapeEqual(out, shape)) throw new KilnError(`broadcastTo: cannot broadcast ${t.describe()} to [${shape.join(',')}]`);
  const offset = shape.length - t.ndim;
  return bind1('broadcast', [t], { shape: [...shape], dims: t.shape.map((_, i) => i + offset) });
}

export function unary(prim: UnaryOp, x: TensorLike): Tensor {
  if (!(UNARY_OPS as readonly string[]).includes(prim)) throw new KilnError(`unary: unknown unary op ${show(String(prim)).replace(/"/g, "'")} (one of ${UNARY_OPS.join(', ')})`);
  let t = asTensor(prim, x);
  if (FLOAT_UNARY_OPS.has(prim) && !isFloat(t.dtype)) t = astype(t, 'float32');
  return bind1(prim, [t]);
}

const BOOL_TO_INT = new Set<BinaryOp>(['add', 'sub', 'mul', 'pow', 'mod']);

export function binary(prim: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  if (!(BINARY_OPS as readonly string[]).includes(prim)) throw new KilnError(`binary: unknown binary op ${show(String(prim)).replace(/"/g, "'")} (one of ${BINARY_OPS.join(', ')})`);
  let [x, y] = toTensors(prim, a, b);
  let dtype = promoteTypes(x.dtype, y.dtype);
  // bool arithmetic counts in int32; true division and atan2 are always float (NumPy's rules).
  if (dtype === 'bool' && BOOL_TO_INT.has(prim)) dtype = 'int32';
  if ((prim === 'div' || prim === 'atan2') && !isFloat(dtype)) dtype = 'float32';
  x = astype(x, dtype);
  y = astype(y, dtype);
  const shape = broadcastShapes(prim, x.shape, y.shape);
  return bind1(prim, [broadcastTo(x, shape), broadcastTo(y, shape)]);
}

// ---- unary math -----------------------------------------------------------------------------------
export const neg = (x: TensorLike) => unary('neg', x);
export const abs = (x: TensorLike) => unary('abs', x);
export const exp = (x: TensorLike) => unary('exp', x);
export const log = (x: TensorLike) => unary('log', x);
export const sqrt = (x: TensorLike) => unary('sqrt', x);
export const rsqrt = (x: TensorLike) => unary('rsqrt', x);
export const sin = (x: TensorLike) => unary('sin', x);
export const cos = (x: TensorLike) => unary('cos', x);
export const tanh = (x: TensorLike) => unary('tanh', x);
export const sigmoid = (x: TensorLike) => unary('sigmoid', x);
export const relu = (x: TensorLike) => unary('relu', x);
export const floor = (x: TensorLike) => unary('floor', x);
export const ceil = (x: TensorLike) => unary('ceil', x);
export const round = (x: TensorLike) => unary('round', x);
export const sign = (x: TensorLike) => unary('sign', x);
export const isnan = (x: TensorLike) => unary('isnan', x);
export const log1p = (x: TensorLike) => unary('log1p', x);
export const expm1 = (x: TensorLike) => unary('expm1', x);
export const erf = (x: TensorLike) => unary('erf', x);
export function logicalNot(x: TensorLike): Tensor {
  return unary('not', astype(asTensor('logicalNot', x), 'bool'));
}
/** Bitwise not on int32, logical not on bool. */
export const bitwiseNot = (x: TensorLike) => named('bitwiseNot', () => unary('not', x));
export const square = (x: TensorLike) => named('square', () => binary('mul', x, x));

// ---- binary arithmetic ----------------------------------------------------------------------------
export const add = (a: TensorLike, b: TensorLike) => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike) => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike) => binary('mul', a, b);
/** True division (ints promote to float32), like `/` in NumPy and PyTorch. */
export const div = (a: TensorLike, b: TensorLike) => binary('div', a, b);
/** Floor division, like `//`. */
export function floorDiv(a: TensorLike, b: TensorLike): Tensor {
  return named('floorDiv', () => floorDivide(a, b));
}
function floorDivide(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = toTensors('floorDiv', a, b);
  const dtype = promoteTypes(x.dtype, y.dtype);
  if (isFloat(dtype)) return floor(div(x, y));
  const shape = broadcastShapes('floorDiv', x.shape, y.shape);
  return bind1('div', [broadcastTo(astype(x, dtype === 'bool' ? 'int32' : dtype), shape), broadcastTo(astype(y, dtype === 'bool' ? 'int32' : dtype), shape)]);
}
export const pow = (a: TensorLike, b: TensorLike) => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike) => binary('max', a, b);
export const minimum = (a: TensorLike, b: TensorLike) => binary('min', a, b);
/** Remainder with the sign of the divisor (Python `%`, torch.remainder). */
export const mod = (a: TensorLike, b: TensorLike) => binary('mod', a, b);
export const atan2 = (a: TensorLike, b: TensorLike) => binary('atan2', a, b);

// ---- comparisons and logic ------------------------------------------------------------------------
export const eq = (a: TensorLike, b: TensorLike) => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => binary('ge', a, b);
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = toTensors('logicalAnd', a, b);
  return named('logicalAnd', () => binary('and', astype(x, 'bool'), astype(y, 'bool')));
}
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = toTensors('logicalOr', a, b);
  return named('logicalOr', () => binary('or', astype(x, 'bool'), astype(y, 'bool')));
}
export function logicalXor(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = toTensors('logicalXor', a, b);
  return named('logicalXor', () => binary('ne', astype(x, 'bool'), astype(y, 'bool')));
}

/** where(cond, a, b): elements of a where cond is true, else b; all three broadcast together. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = astype(asTensor('where', cond, undefined, deviceOf(cond, a, b)), 'bool');
  let [x, y] = toTensors('where', a, b);
  const dtype = promoteTypes(x.dtype, y.dtype);
  x = astype(x, dtype);
  y = astype(y, dtype);
  const shape = broadcastShapes('where', c.shape, x.shape, y.shape);
  return bind1('select', [broadcastTo(c, shape), broadcastTo(x, shape), broadcastTo(y, shape)]);
}

export { COMPARISON_OPS };
