// Axis arguments of the public ops, normalized by src/ir/shape.ts and, on error, reported with the
// tensor's type (`sum: axis 2 is out of range for a tensor of rank 2 (f32[3,4])`). Not public API.
import { KilnError } from '../../ir/error.js';
import { normalizeAxes, normalizeAxis } from '../../ir/shape.js';
import type { Tensor } from '../tensor.js';

function withType<T>(t: Tensor, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KilnError) throw new KilnError(`${e.message} (${t.describe()})`);
    throw e;
  }
}

/** One axis of `t` (negative counts from the end); `rank` overrides t.ndim (unsqueeze counts the new axis). */
export const axisOf = (op: string, axis: number, t: Tensor, rank = t.ndim): number => withType(t, () => normalizeAxis(op, axis, rank));

/** Sorted axes of `t`: a number, an array, or undefined for all of them. */
export const axesOf = (op: string, axis: number | readonly number[] | undefined, t: Tensor): number[] => withType(t, () => normalizeAxes(op, axis, t.ndim));
