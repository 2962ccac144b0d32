// Indexing: strided slices, NumPy-style index specs (numbers, 'a:b:c' ranges, null, '...'),
// take (NumPy) and takeAlongAxis/gather (torch.gather), scatterAdd and oneHot.
import { KilnError } from '../../ir/error.js';
import { axisOf } from './axes.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor } from '../convert.js';
import { astype, eq, add, mul, lt, where, broadcastTo, maximum, minimum } from './elementwise.js';
import { intListArg, oneOfArg, show } from '../args.js';
import { broadcastShapes, stridesOf } from '../../ir/shape.js';
import { reshape, flip } from './shape.js';
import { renamed } from './index_errors.js';

/** Python-style slice bounds for one dimension of size n; returns start, stop (exclusive), step. */
function resolveRange(op: string, n: number, start: number | undefined, stop: number | undefined, step: number): [number, number, number] {
  if (!Number.isInteger(step) || step === 0) throw new KilnError(`${op}: step must be a non-zero integer, got ${step}`);
  const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  if (step > 0) return [start === undefined ? 0 : clampIdx(start, 0, n), stop === undefined ? n : clampIdx(stop, 0, n), step];
  return [start === undefined ? n - 1 : clampIdx(start, -1, n - 1), stop === undefined ? -1 : clampIdx(stop, -1, n - 1), step];
}

/** Slices one axis with Python semantics (negative indices and steps allowed). */
function sliceAxis(t: Tensor, axis: number, start: number | undefined, stop: number | undefined, step: number): Tensor {
  const n = t.shape[axis];
  const [s, e, st] = resolveRange('slice', n, start, stop, step);
  if (st > 0) {
    const limit = Math.max(s, e);
    if (s === 0 && limit === n && st === 1) return t;
    return bind1('slice', [t], {
      start: t.shape.map((_, i) => (i === axis ? s : 0)),
      limit: t.shape.map((d, i) => (i === axis ? limit : d)),
      stride: t.shape.map((_, i) => (i === axis ? st : 1)),
    });
  }
  // Negative step: flip, then slice forward from the mirrored start.
  const flipped = flip(t, axis);
  const fs = n - 1 - s;
  const fe = n - 1 - e;
  return sliceAxis(flipped, axis, fs, Math.max(fs, fe), -st);
}

/** Strided slice: starts/ends/steps per leading axis (missing ones mean the whole axis). */
export function slice(x: TensorLike, starts: readonly number[], ends?: readonly (number | undefined)[], steps?: readonly number[]): Tensor {
  let t = asTensor('slice', x);
  intListArg('slice', 'starts', starts);
  if (ends !== undefined && !Array.isArray(ends)) throw new KilnError(`slice: ends must be a list, got ${show(ends)}`);
  if (steps !== undefined) intListArg('slice', 'steps', steps);
  if (starts.length > t.ndim) throw new KilnError(`slice: ${starts.length} starts for ${t.describe()}`);
  starts.forEach((s, i) => {
    t = sliceAxis(t, i, s, ends?.[i], steps?.[i] ?? 1);
  });
  return t;
}

export type IndexSpec = number | string | null;

/**
 * NumPy basic indexing: `index(x, 0, '1:5', '::-1', null, '...')`. A number picks one position and
 * removes the axis; 'a:b:c' slices; null inserts a new axis; '...' stands for the remaining axes.
 */
export function index(x: TensorLike, ...specs: IndexSpec[]): Tensor {
  let t = asTensor('index', x);
  const ellipses = specs.filter((s) => s === '...').length;
  if (ellipses > 1) throw new KilnError("index: at most one '...' is allowed");
  const consuming = specs.filter((s) => s !== null && s !== '...').length;
  if (consuming > t.ndim) throw new KilnError(`index: ${consuming} indices for ${t.describe()}`);
  const expanded: IndexSpec[] = [];
  for (const s of specs) {
    if (s === '...') for (let i = 0; i < t.ndim - consuming; i++) expanded.push(':');
    else expanded.push(s);
  }
  let axis = 0;
  const newShapeOps: { kind: 'drop' | 'insert'; at: number }[] = [];
  let outAxis = 0;
  for (const s of expanded) {
    if (s === null) {
      newShapeOps.push({ kind: 'insert', at: outAxis++ });
      continue;
    }
    if (typeof s === 'number') {
      const n = t.shape[axis];
      if (!Number.isInteger(s) || s < -n || s >= n) throw new KilnError(`index: index ${s} is out of range for axis ${axis} of size ${n} (${t.describe()})`);
      const i = s < 0 ? s + n : s;
      t = sliceAxis(t, axis, i, i + 1, 1);
      newShapeOps.push({ kind: 'drop', at: axis });
    } else if (typeof s === 'string') {
      const parts = s.split(':');
      if (parts.length < 2 || parts.length > 3) throw new KilnError(`index: cannot read '${s}' as a range (expected 'start:stop' or 'start:stop:step')`);
      const num = (p: string | undefined) => {
        if (p === undefined || p.trim() === '') return undefined;
        const v = Number(p);
        if (!Number.isInteger(v)) throw new KilnError(`index: '${p}' in '${s}' is not an integer`);
        return v;
      };
      t = sliceAxis(t, axis, num(parts[0]), num(parts[1]), num(parts[2]) ?? 1);
      outAxis++;
    } else {
      throw new KilnError(`index: unsupported index ${JSON.stringify(s)} (use numbers, 'a:b:c' strings, null or '...')`);
    }
    axis++;
  }
  // Apply drops and inserts to the shape in one reshape.
  const dropped = new Set(newShapeOps.filter((o) => o.kind === 'drop').map((o) => o.at));
  const shape: number[] = t.shape.filter((_, i) => !dropped.has(i));
  for (const o of newShapeOps.filter((o) => o.kind === 'insert')) shape.splice(o.at, 0, 1);
  return reshape(t, shape);
}

function normalizeIndices(op: string, idx: Tensor, n: number): Tensor {
  if (idx.dtype !== 'int32') {
    if (idx.dtype === 'bool') throw new KilnError(`${op}: indices must be integers, got ${idx.describe()} (boolean masks are not supported; use where)`);
    idx = astype(idx, 'int32');
  }
  // Negative indices count from the end, as in NumPy; the primitive checks the range. One below -n
  // stays as given, so the error names the index the caller wrote (-5, not -2).
  return where(lt(idx, 0), where(lt(idx, -n), idx, add(idx, n)), idx);
}


export interface TakeOptions {
  axis?: number;
  /**
   * Out-of-range indices: 'raise' (default) is an error; 'clamp' moves them to the nearest valid
   * position (negative indices still count from the end first). Only 'clamp' is checked nowhere.
   */
  mode?: 'raise' | 'clamp';
}

/** Clamps indices into [0, n) when asked (after negative indices were made positive). */
function clampIndices(op: string, idx: Tensor, n: number, mode: TakeOptions['mode']): Tensor {
  if (mode === undefined || oneOfArg(op, 'mode', mode, ['raise', 'clamp'] as const) === 'raise') return idx;
  if (n === 0) throw new KilnError(`${op}: cannot clamp indices into an empty axis`);
  return minimum(maximum(idx, 0), n - 1);
}

/** Elements along `axis` at integer `indices` (NumPy take); without axis, of the flattened tensor. */
export function take(x: TensorLike, indices: TensorLike, opts: TakeOptions = {}): Tensor {
  let t = asTensor('take', x);
  if (opts.axis === undefined) t = reshape(t, [t.size]);
  const axis = axisOf('take', opts.axis ?? 0, t);
  const idx = clampIndices('take', normalizeIndices('take', asTensor('take', indices, 'int32', t.device), t.shape[axis]), t.shape[axis], opts.mode);
  return renamed('take', `${t.describe()} along axis ${axis}`, () => bind1('gather', [t, idx], { axis }), [idx, t.shape[axis], 'gather', axis]);
}

/**
 * NumPy take_along_axis / torch.gather: `out[..., j, ...] = x[..., indices[..., j, ...], ...]` along
 * `axis` (default -1); indices have x's rank and broadcast with it on the other axes. Built from one
 * `gather` of the flattened tensor at computed flat positions, so the range along `axis` is checked
 * here (for eager indices) rather than by the primitive, which only sees flat positions.
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, opts: TakeOptions = {}): Tensor {
  const t = asTensor('takeAlongAxis', x);
  const raw = asTensor('takeAlongAxis', indices, 'int32', t.device);
  if (raw.ndim !== t.ndim) throw new KilnError(`takeAlongAxis: indices ${raw.describe()} must have the rank of ${t.describe()}`);
  const axis = axisOf('takeAlongAxis', opts.axis ?? -1, t);
  const n = t.shape[axis];
  const idx0 = clampIndices('takeAlongAxis', normalizeIndices('takeAlongAxis', raw, n), n, opts.mode);
  if (!idx0.isTraced) checkRange('takeAlongAxis', idx0, n, t, axis);
  // Broadcast every axis but `axis` between x and the indices, then address x's elements by flat position.
  const other = (shape: readonly number[]) => shape.map((d, i) => (i === axis ? 1 : d));
  const common = broadcastShapes('takeAlongAxis', other(t.shape), other(idx0.shape));
  const xb = broadcastTo(t, common.map((d, i) => (i === axis ? n : d)));
  const outShape = common.map((d, i) => (i === axis ? idx0.shape[axis] : d));
  const idx = broadcastTo(idx0, outShape);
  const strides = stridesOf(xb.shape);
  let flat: Tensor = mul(idx, strides[axis]);
  for (let d = 0; d < outShape.length; d++) {
    if (d === axis || outShape[d] === 1) continue;
    flat = add(flat, mul(bind1('iota', [], { shape: outShape, dimension: d, dtype: 'int32', device: t.device }), strides[d]));
  }
  return bind1('gather', [reshape(xb, [xb.size]), flat], { axis: 0 });
}
/** PyTorch's name for takeAlongAxis (torch.gather(x, dim, index) is gather(x, index, {axis: dim})). */
export const gather = takeAlongAxis;

/** Throws when an eager index tensor holds a position outside [0, n) (skipped where it cannot be read synchronously). */
function checkRange(op: string, idx: Tensor, n: number, t: Tensor, axis: number): void {
  let values: ArrayLike<number>;
  try {
    values = idx.dataSync();
  } catch {
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= n) throw new KilnError(`${op}: index ${v} is out of range for axis ${axis} of size ${n} (${t.describe()})`);
  }
}

/** x with `updates` added at `indices` along `axis` (duplicates accumulate). */
export function scatterAdd(x: TensorLike, indices: TensorLike, updates: TensorLike, opts: { axis?: number } = {}): Tensor {
  const t = asTensor('scatterAdd', x);
  const axis = axisOf('scatterAdd', opts.axis ?? 0, t);
  const idx = normalizeIndices('scatterAdd', asTensor('scatterAdd', indices, 'int32', t.device), t.shape[axis]);
  const upd = astype(asTensor('scatterAdd', updates, t.dtype, t.device), t.dtype);
  return renamed('scatterAdd', `${t.describe()} along axis ${axis}`, () => bind1('scatter_add', [t, idx, upd], { axis }), [idx, t.shape[axis], 'scatter_add', axis]);
}

/** One-hot encoding: [...indices.shape, numClasses], float32 unless a dtype is given. */
export function oneHot(indices: TensorLike, numClasses: number, opts: { dtype?: 'float32' | 'int32' | 'bool' } = {}): Tensor {
  const idx = asTensor('oneHot', indices, 'int32');
  if (idx.dtype !== 'int32') throw new KilnError(`oneHot: indices must be int32, got ${idx.describe()}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new KilnError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const shape = [...idx.shape, numClasses];
  const classes = bind1('iota', [], { shape, dimension: idx.ndim, dtype: 'int32', device: idx.device });
  const expanded = bind1('broadcast', [idx], { shape, dims: idx.shape.map((_, i) => i) });
  return astype(eq(expanded, classes), opts.dtype ?? 'float32');
}
