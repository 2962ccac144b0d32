// Errors of gather/scatter primitives under the user's op name, naming the offending index even where
// the device only knows that one was out of range (a wasm trap). Internal: not re-exported by index.ts.
import { KilnError } from '../../ir/error.js';
import type { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';

/**
 * Runs a gather/scatter primitive, rethrowing its errors (bad index, shapes) under the user's op name.
 * A device that only knows that some index was out of range (a wasm trap) gets the index named from
 * the eager indices: `check` = [indices, axis size, primitive name, axis].
 */
export function renamed(op: string, what: string, fn: () => Tensor, check?: [Tensor, number, string, number]): Tensor {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    const bad = check && /an index is out of range/.test(e.message) ? firstOutOfRange(check[0], check[1]) : null;
    if (bad !== null) throw new KilnError(`${op}: ${what}: ${check![2]}: index ${bad} is out of range for axis ${check![3]} of size ${check![1]}`);
    throw new KilnError(`${op}: ${what}: ${e.message}`);
  }
}

/** Rows of `table` at `indices` (an embedding lookup): out-of-range rows are an error named under `op`. */
export function gatherRowsChecked(op: string, table: Tensor, indices: Tensor): Tensor {
  return renamed(op, `${table.describe()} along axis 0`, () => bind1('gather', [table, indices], { axis: 0 }), [indices, table.shape[0], 'gather', 0]);
}

/** The first index outside [0, n) of an eager index tensor (null when none or unreadable). */
function firstOutOfRange(idx: Tensor, n: number): number | null {
  if (idx.isTraced) return null;
  let values: ArrayLike<number>;
  try {
    values = idx.dataSync();
  } catch {
    return null;
  }
  for (let i = 0; i < values.length; i++) if (values[i] < 0 || values[i] >= n) return values[i];
  return null;
}
