// Shape and movement ops: reshape, flatten, squeeze/unsqueeze, transpose/permute, expand, concat,
// stack, split, pad, flip, tile, clip. Each lowers to one movement primitive (or a few).
import { promoteTypes } from '../../ir/dtype.js';
import { KilnError } from '../../ir/error.js';
import { sizeOf, isPermutation } from '../../ir/shape.js';
import { axisOf, axesOf } from './axes.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { TensorLike, asTensor, deviceOf } from '../convert.js';
import { intListArg, show } from '../args.js';
import { astype, broadcastTo, maximum, minimum } from './elementwise.js';

/** Reshape; one dimension may be -1 (inferred). */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor('reshape', x);
  intListArg('reshape', 'shape', shape);
  const known = shape.filter((d) => d !== -1);
  const holes = shape.length - known.length;
  if (holes > 1 || known.some((d) => !Number.isInteger(d) || d < 0)) throw new KilnError(`reshape: invalid shape [${shape.join(',')}] (at most one -1, other sizes non-negative integers)`);
  let out = [...shape];
  if (holes === 1) {
    const k = sizeOf(known);
    if (k === 0 || t.size % k !== 0) throw new KilnError(`reshape: cannot reshape ${t.describe()} (${t.size} elements) to [${shape.join(',')}]`);
    out = shape.map((d) => (d === -1 ? t.size / k : d));
  }
  if (sizeOf(out) !== t.size) throw new KilnError(`reshape: cannot reshape ${t.describe()} (${t.size} elements) to [${shape.join(',')}] (${sizeOf(out)} elements)`);
  if (out.length === t.ndim && out.every((d, i) => d === t.shape[i])) return t;
  return bind1('reshape', [t], { shape: out });
}

/** Merges dims startDim..endDim into one (PyTorch flatten; default: everything). */
export function flatten(x: TensorLike, startDim = 0, endDim = -1): Tensor {
  const t = asTensor('flatten', x);
  if (t.ndim === 0) return reshape(t, [1]);
  const s = axisOf('flatten', startDim, t);
  const e = axisOf('flatten', endDim, t);
  if (s > e) throw new KilnError(`flatten: startDim ${startDim} comes after endDim ${endDim} for ${t.describe()}`);
  return reshape(t, [...t.shape.slice(0, s), sizeOf(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)]);
}

/** Removes size-1 dims (all, or the given ones, which must have size 1). */
export function squeeze(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = asTensor('squeeze', x);
  const axes = axis === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axesOf('squeeze', axis, t);
  for (const a of axes) if (t.shape[a] !== 1) throw new KilnError(`squeeze: dimension ${a} of ${t.describe()} has size ${t.shape[a]}, not 1`);
  return reshape(t, t.shape.filter((_, i) => !axes.includes(i)));
}

/** Inserts a size-1 dim at `axis` (in the output's numbering; negative counts from the end). */
export function unsqueeze(x: TensorLike, axis: number): Tensor {
  const t = asTensor('unsqueeze', x);
  const a = axisOf('unsqueeze', axis, t, t.ndim + 1);
  return reshape(t, [...t.shape.slice(0, a), 1, ...t.shape.slice(a)]);
}
export const expandDims = unsqueeze;

/** Permutes axes; without perm reverses them (NumPy transpose). */
export function transpose(x: TensorLike, perm?: readonly number[]): Tensor {
  const t = asTensor('transpose', x);
  if (perm !== undefined) intListArg('transpose', 'perm', perm);
  const p = perm ? perm.map((a) => axisOf('transpose', a, t)) : [...Array(t.ndim).keys()].reverse();
  if (!isPermutation(p, t.ndim)) throw new KilnError(`transpose: [${(perm ?? []).join(',')}] is not a permutation of the ${t.ndim} axes of ${t.describe()}`);
  return p.every((v, i) => v === i) ? t : bind1('transpose', [t], { perm: p });
}
export const permute = (x: TensorLike, perm: readonly number[]) => transpose(x, perm);

/** Swaps two axes. */
export function swapaxes(x: TensorLike, a: number, b: number): Tensor {
  const t = asTensor('swapaxes', x);
  const p = [...Array(t.ndim).keys()];
  const i = axisOf('swapaxes', a, t);
  const j = axisOf('swapaxes', b, t);
  [p[i], p[j]] = [p[j], p[i]];
  return transpose(t, p);
}

/** PyTorch expand: broadcast to `shape`, -1 keeps a dimension. */
export function expand(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor('expand', x);
  intListArg('expand', 'shape', shape);
  const off = shape.length - t.ndim;
  if (off < 0) throw new KilnError(`expand: target [${shape.join(',')}] has fewer dimensions than ${t.describe()}`);
  return broadcastTo(t, shape.map((d, i) => (d === -1 ? t.shape[i - off] : d)));
}

function sameDType(op: string, xs: TensorLike[]): Tensor[] {
  if (!Array.isArray(xs)) throw new KilnError(`${op}: expects a list of tensors, got ${show(xs)}`);
  if (xs.length === 0) throw new KilnError(`${op}: needs at least one tensor`);
  const ts = xs.map((x) => asTensor(op, x, undefined, deviceOf(...xs)));
  const dtype = ts.map((t) => t.dtype).reduce(promoteTypes);
  return ts.map((t) => astype(t, dtype));
}

/** Joins tensors along an existing axis. */
export function concat(xs: TensorLike[], axis = 0): Tensor {
  const ts = sameDType('concat', xs);
  const a = axisOf('concat', axis, ts[0]);
  for (const t of ts) {
    if (t.ndim !== ts[0].ndim || t.shape.some((d, i) => i !== a && d !== ts[0].shape[i])) {
      throw new KilnError(`concat: shapes must agree except on axis ${a}: ${ts.map((u) => u.describe()).join(', ')}`);
    }
  }
  return ts.length === 1 ? ts[0] : bind1('concat', ts, { axis: a });
}
export const cat = concat;

/** Joins tensors of one shape along a new axis. */
export function stack(xs: TensorLike[], axis = 0): Tensor {
  const ts = sameDType('stack', xs);
  for (const t of ts) if (t.ndim !== ts[0].ndim || t.shape.some((d, i) => d !== ts[0].shape[i])) throw new KilnError(`stack: all tensors must have one shape: ${ts.map((u) => u.describe()).join(', ')}`);
  const a = axisOf('stack', axis, ts[0], ts[0].ndim + 1);
  return concat(ts.map((t) => unsqueeze(t, a)), a);
}

/** Splits along an axis into pieces of the given sizes, or into `n` equal pieces when a number is given. */
export function split(x: TensorLike, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  const t = asTensor('split', x);
  if (typeof sizesOrCount !== 'number') intListArg('split', 'sizesOrCount', sizesOrCount);
  const a = axisOf('split', axis, t);
  const d = t.shape[a];
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (!Number.isInteger(sizesOrCount) || sizesOrCount < 1 || d % sizesOrCount !== 0) throw new KilnError(`split: cannot split dimension ${a} of size ${d} of ${t.describe()} into ${sizesOrCount} equal parts`);
    sizes = new Array(sizesOrCount).fill(d / sizesOrCount);
  } else {
    sizes = [...sizesOrCount];
    if (sizes.reduce((s, v) => s + v, 0) !== d || sizes.some((v) => !Number.isInteger(v) || v < 0)) throw new KilnError(`split: sizes [${sizes.join(',')}] must be non-negative and add up to ${d} (dimension ${a} of ${t.describe()})`);
  }
  let offset = 0;
  return sizes.map((n) => {
    const start = t.shape.map((_, i) => (i === a ? offset : 0));
    const limit = t.shape.map((s, i) => (i === a ? offset + n : s));
    offset += n;
    return bind1('slice', [t], { start, limit, stride: t.shape.map(() => 1) });
  });
}

/** PyTorch chunk: `chunks` pieces of size ceil(d / chunks) (the last may be smaller). */
export function chunk(x: TensorLike, chunks: number, axis = 0): Tensor[] {
  const t = asTensor('chunk', x);
  const a = axisOf('chunk', axis, t);
  const d = t.shape[a];
  if (!Number.isInteger(chunks) || chunks < 1) throw new KilnError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const size = Math.ceil(d / chunks) || 0;
  const sizes: number[] = [];
  for (let left = d; left > 0; left -= size) sizes.push(Math.min(size, left));
  return split(t, sizes.length ? sizes : [0], a);
}

/**
 * Constant padding with one [before, after] pair per axis, NumPy style: `pad(x, [[0,0],[1,2]])`.
 * Negative amounts crop.
 */
export function pad(x: TensorLike, widths: readonly (readonly [number, number])[], opts: { value?: number } = {}): Tensor {
  const t = asTensor('pad', x);
  if (widths.length !== t.ndim || !widths.every((w) => w.length === 2 && w.every(Number.isInteger))) {
    throw new KilnError(`pad: expects ${t.ndim} [before, after] integer pairs for ${t.describe()}, got ${JSON.stringify(widths)}`);
  }
  widths.forEach(([lo, hi], i) => {
    if (t.shape[i] + lo + hi < 0) throw new KilnError(`pad: cropping ${-lo - hi} from dimension ${i} of ${t.describe()} leaves a negative size`);
  });
  return bind1('pad', [t], { low: widths.map((w) => w[0]), high: widths.map((w) => w[1]), interior: widths.map(() => 0), value: opts.value ?? 0 });
}

/** Reverses the order of elements along axes (all by default). */
export function flip(x: TensorLike, axis?: number | readonly number[]): Tensor {
  const t = asTensor('flip', x);
  const axes = axesOf('flip', axis, t);
  return axes.length ? bind1('flip', [t], { axes }) : t;
}

/** Repeats the tensor `reps[i]` times along each axis (NumPy tile). */
export function tile(x: TensorLike, reps: readonly number[]): Tensor {
  let t = asTensor('tile', x);
  intListArg('tile', 'reps', reps);
  if (!reps.every((r) => Number.isInteger(r) && r >= 0)) throw new KilnError(`tile: reps must be non-negative integers, got [${reps.join(',')}]`);
  while (t.ndim < reps.length) t = unsqueeze(t, 0);
  const r = [...new Array(t.ndim - reps.length).fill(1), ...reps];
  // Broadcast to [r0, d0, r1, d1, ...] then merge each pair.
  const inter = t.shape.flatMap((d, i) => [r[i], d]);
  const expanded = bind1('broadcast', [t], { shape: inter, dims: t.shape.map((_, i) => 2 * i + 1) });
  return reshape(expanded, t.shape.map((d, i) => d * r[i]));
}

/** Limits values to [min, max] (either bound may be omitted). */
export function clip(x: TensorLike, lo?: TensorLike | null, hi?: TensorLike | null): Tensor {
  let t = asTensor('clip', x);
  if (lo !== undefined && lo !== null) t = maximum(t, lo);
  if (hi !== undefined && hi !== null) t = minimum(t, hi);
  return t;
}
export const clamp = clip;
