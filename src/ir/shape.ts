// Shapes: sizes, strides, NumPy broadcasting and axis normalization.
import { fail } from './error.js';
import { DType, SHORT_NAME } from './dtype.js';

export type Shape = readonly number[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapeEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `f32[3,4]`: how types appear in the IR text and in every error message. */
export function typeToString(t: TensorType): string {
  return `${SHORT_NAME[t.dtype]}[${t.shape.join(',')}]`;
}

/** NumPy broadcasting of several shapes; `op` names the caller in the error. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i];
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        fail(op, `shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} cannot be broadcast together (dimension ${j}: ${out[j]} vs ${d})`);
      }
    }
  }
  return out;
}

/** Maps a possibly negative axis into [0, rank); throws naming the op otherwise. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (typeof axis !== 'number') fail(op, `axis must be an integer or a list of integers, got ${JSON.stringify(axis) ?? String(axis)}`);
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    fail(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** `undefined` means all axes; a number or array is normalized, sorted and checked for repeats. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  if (typeof axis !== 'number' && !Array.isArray(axis)) fail(op, `axis must be an integer or a list of integers, got ${JSON.stringify(axis) ?? String(axis)}`);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(op, a, rank)).sort((a, b) => a - b);
  for (let i = 1; i < out.length; i++) if (out[i] === out[i - 1]) fail(op, `axis ${out[i]} is repeated in [${list.join(',')}]`);
  return out;
}

export function isPermutation(perm: readonly number[], rank: number): boolean {
  if (perm.length !== rank) return false;
  const seen = new Set(perm);
  return seen.size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank);
}
