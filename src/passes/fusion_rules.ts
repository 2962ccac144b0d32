// What may share a kernel: how each primitive takes part in fusion (a table), and the legality check
// for one candidate kernel (a set of top-level ops). fuse.ts decides which ops to try together.
import type { Op, Value } from '../ir/function.js';
import type { Attrs, FusionKind, Primitive } from '../ir/ops.js';
import { BINARY_OPS, FLOAT_UNARY_OPS, REDUCE_OPS, UNARY_OPS } from '../ir/ops.js';
import { shapeEqual, sizeOf } from '../ir/shape.js';

/**
 * leaf: no inputs, cloned into every kernel that reads it (splat constants, iota).
 * elementwise / movement: per-element work / index arithmetic, fused freely.
 * reduce / contraction: the anchor of a kernel; never duplicated.
 * opaque: a kernel of its own (data-dependent indexing, windows, random bits).
 * none: stays a top-level op (control flow, non-splat constants, existing fusions).
 */
export type FusionClass = 'leaf' | 'elementwise' | 'movement' | 'reduce' | 'contraction' | 'opaque' | 'none';

const each = <T extends string>(names: readonly T[], c: FusionClass) => Object.fromEntries(names.map((n) => [n, c])) as Record<T, FusionClass>;

export const FUSION_CLASS: { [P in Primitive]: FusionClass } = {
  ...each(UNARY_OPS, 'elementwise'),
  ...each(BINARY_OPS, 'elementwise'),
  ...each(REDUCE_OPS, 'reduce'),
  cast: 'elementwise',
  select: 'elementwise',
  constant: 'leaf', // only splats; see classify
  iota: 'leaf',
  reshape: 'movement',
  broadcast: 'movement',
  transpose: 'movement',
  slice: 'movement',
  pad: 'movement',
  concat: 'movement',
  flip: 'movement',
  argmax: 'reduce',
  argmin: 'reduce',
  dot_general: 'contraction',
  conv: 'contraction',
  reduce_window: 'opaque', // a sliding window is not one reduction over fixed axes
  gather: 'opaque',
  scatter_add: 'opaque',
  random_bits: 'opaque',
  cond: 'none',
  while: 'none',
  scan: 'none',
  fusion: 'none',
};

/** Elementwise ops worth materializing rather than recomputing under a broadcast. */
const EXPENSIVE_OPS: ReadonlySet<Primitive> = new Set<Primitive>([...FLOAT_UNARY_OPS, 'pow', 'atan2']);

export function classify(op: Op): FusionClass {
  if (op.prim === 'constant') return (op.attrs as Attrs<'constant'>).value.length === 1 ? 'leaf' : 'none';
  return FUSION_CLASS[op.prim];
}

/** Leaves and movement ops are cheap enough to copy into each kernel that reads them. */
export function isDuplicable(op: Op): boolean {
  const c = classify(op);
  return c === 'leaf' || c === 'movement';
}

/** The axes a reduce-class op reduces over. */
export function reducedAxes(op: Op): number[] {
  if (op.prim === 'argmax' || op.prim === 'argmin') return [(op.attrs as Attrs<'argmax'>).axis];
  return [...(op.attrs as Attrs<'reduce_sum'>).axes].sort((a, b) => a - b);
}

const nonUnit = (shape: readonly number[]) => shape.filter((d) => d !== 1);
const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Whether `b` (a broadcast of a per-row reduced value into the reduction's input shape `space`)
 * sends each row's value back to that same row only, so a second pass over the row can read it.
 */
function broadcastsBackToRows(b: Op, space: readonly number[], axes: readonly number[]): boolean {
  const { shape, dims } = b.attrs as Attrs<'broadcast'>;
  if (!shapeEqual(shape, space)) return false;
  const from = b.operands[0].type.shape;
  const kept = space.map((_, j) => j).filter((j) => !axes.includes(j) && space[j] !== 1);
  const mapped = dims.filter((_, i) => from[i] !== 1);
  return sameList(kept, mapped);
}

/**
 * The kind of kernel `ops` (top-level ops in program order) can form, or null when they cannot be
 * one kernel. `isOutput` says which of their results are read outside the kernel.
 *
 * elementwise: elementwise/movement/leaf ops; all outputs share one shape (the iteration space).
 * reduce: reductions with one input shape S and one axis set A, in up to MAX_ROW_PASSES passes per
 *   row: pass 1 computes a prologue on S and the reductions; the epilogue works on the reduced rows;
 *   a later pass may broadcast row results back over S and reduce again (softmax: max, then exp and
 *   sum, then divide; layer norm: mean, then variance, then normalize). While a row fits in cache
 *   only the first pass reads memory.
 * contraction: one dot_general/conv reading kernel inputs (through reshapes at most) plus an
 *   elementwise epilogue on its output shape (bias, activation, residual).
 * opaque: one opaque op (with leaves).
 */
export function kernelKind(ops: readonly Op[], isOutput: (v: Value) => boolean): FusionKind | null {
  const classes = ops.map(classify);
  if (classes.includes('none')) return null;
  const count = (c: FusionClass) => classes.filter((x) => x === c).length;
  const outputs = ops.flatMap((op) => op.results.filter(isOutput));
  if (count('opaque') > 0) return count('opaque') === 1 && count('opaque') + count('leaf') === ops.length ? 'opaque' : null;
  const contractions = ops.filter((_, i) => classes[i] === 'contraction');
  const reductions = ops.filter((_, i) => classes[i] === 'reduce');
  if (contractions.length > 1 || (contractions.length && reductions.length)) return null;
  if (contractions.length) return contractionOk(ops, contractions[0], outputs) ? 'contraction' : null;
  if (reductions.length) return reduceOk(ops, reductions, outputs) ? 'reduce' : null;
  return outputs.every((v) => shapeEqual(v.type.shape, outputs[0].type.shape)) ? 'elementwise' : null;
}

function contractionOk(ops: readonly Op[], anchor: Op, outputs: Value[]): boolean {
  const producer = new Map<Value, Op>();
  for (const op of ops) op.results.forEach((v) => producer.set(v, op));
  // Operands are read straight from input buffers; a reshape of an input is only a new view.
  for (let v of anchor.operands) {
    for (let d = producer.get(v); d; d = producer.get(v)) {
      if (classify(d) === 'leaf') break;
      if (d.prim !== 'reshape') return false;
      v = d.operands[0];
    }
  }
  const after = new Set<Value>(anchor.results);
  const outShape = anchor.results[0].type.shape;
  for (const op of ops) {
    if (op === anchor || !op.operands.some((v) => after.has(v))) continue;
    // The epilogue runs once per output element: elementwise only, on the output's shape.
    if (classify(op) !== 'elementwise' || !shapeEqual(op.results[0].type.shape, outShape)) return false;
    op.results.forEach((v) => after.add(v));
  }
  return outputs.every((v) => after.has(v));
}

/** Passes over each row a reduce kernel may make (each reads the row again). */
export const MAX_ROW_PASSES = 3;

function reduceOk(ops: readonly Op[], reductions: readonly Op[], outputs: Value[]): boolean {
  const space = reductions[0].operands[0].type.shape;
  const axes = reducedAxes(reductions[0]);
  for (const r of reductions) if (!shapeEqual(r.operands[0].type.shape, space) || !sameList(reducedAxes(r), axes)) return false;
  // Phase 2k: a value on S computed in pass k (k = 0 first); 2k + 1: a per-row value, known after
  // pass k. A reduction of a phase-2k value is a row value of phase 2k + 1; broadcasting that back
  // over S gives phase 2k + 2 (the next pass).
  const phase = new Map<Value, number>();
  const ph = (v: Value) => phase.get(v) ?? 0;
  for (const op of ops) {
    const c = classify(op);
    const p = Math.max(0, ...op.operands.map(ph));
    let next: number;
    if (c === 'reduce') {
      if (p % 2 !== 0) return false;
      next = p + 1;
    } else if (c === 'leaf' || c === 'elementwise') next = p;
    else if (p % 2 === 0) next = p; // movement on values of S is index arithmetic
    else if (op.prim === 'reshape' && sameList(nonUnit(op.operands[0].type.shape), nonUnit(op.results[0].type.shape))) next = p;
    else if (op.prim === 'broadcast' && broadcastsBackToRows(op, space, axes)) next = p + 1;
    else return false;
    if (next > 2 * (MAX_ROW_PASSES - 1)) return false;
    op.results.forEach((v) => phase.set(v, next));
  }
  // Outputs on S are written per element in their pass; row results per row.
  return outputs.every((v) => ph(v) % 2 === 1 || shapeEqual(v.type.shape, space));
}

/**
 * The cost rule inside one kernel: an expensive elementwise value (exp, log, ...) that reaches a
 * broadcast which multiplies the element count would be recomputed per broadcast element, so it is
 * better materialized. Values computed after a reduction or contraction are exempt (`oncePerRow`):
 * a row kernel computes them once per row.
 */
export function recomputesExpensiveWork(ops: readonly Op[], oncePerRow: (v: Value) => boolean): boolean {
  // One forward sweep: which values carry expensive per-element work computed inside this kernel.
  const costly = new Set<Value>();
  for (const op of ops) {
    const reads = op.operands.filter((v) => costly.has(v));
    if (op.prim === 'broadcast' && reads.length && sizeOf(op.results[0].type.shape) > sizeOf(op.operands[0].type.shape)) return true;
    if (EXPENSIVE_OPS.has(op.prim) || reads.length) for (const v of op.results) if (!oncePerRow(v)) costly.add(v);
  }
  return false;
}
