// Block plumbing for the autodiff passes: replaying a block through an emitter, cloning regions with
// fresh values, and building a region from a builder callback.
//
// Regions are assumed closed (they read only their own parameters), which is what control.ts records:
// a copied op keeps its regions' free values untouched, so an open region would be rewired wrongly;
// `checkClosed` turns that case into a clear error instead.
import { Builder } from '../../ir/builder.js';
import { KilnError } from '../../ir/error.js';
import type { Block, Op, Value } from '../../ir/function.js';
import { newValue } from '../../ir/function.js';
import { isFloat } from '../../ir/dtype.js';
import type { TensorType } from '../../ir/shape.js';
import { freeValues } from '../walk.js';
import { Emit, builderEmit } from './emit.js';

/** A copy of `block` whose params and op results are fresh values (nested regions too). */
export function cloneBlock(block: Block, outer?: ReadonlyMap<Value, Value>): Block {
  const map = new Map<Value, Value>(outer);
  const get = (v: Value) => map.get(v) ?? v;
  const params = block.params.map((p) => {
    const q = newValue(p.type, p.name);
    map.set(p, q);
    return q;
  });
  const ops: Op[] = block.ops.map((op) => {
    const operands = op.operands.map(get);
    const regions = op.regions.map((r) => cloneBlock(r, map));
    const results = op.results.map((r) => {
      const q = newValue(r.type);
      map.set(r, q);
      return q;
    });
    return { ...op, operands, regions, results };
  });
  return { params, ops, results: block.results.map(get) };
}

/** Throws when an op's regions read values of the enclosing block (autodiff needs closed regions). */
export function checkClosed(op: Op, defined: (v: Value) => boolean): void {
  for (const r of op.regions) {
    for (const v of freeValues(r)) {
      if (defined(v)) throw new KilnError(`autodiff: a ${op.prim} region reads %${v.id} from the enclosing block; autodiff needs closed regions (pass the value as an operand)`);
    }
  }
}

/** Emits `op` again on new operands (regions cloned so no value is defined twice in one function). */
export function replayOp<T>(e: Emit<T>, op: Op, ins: readonly T[]): T[] {
  return e.bind(op.prim, ins, op.attrs, op.regions.map((r) => cloneBlock(r)));
}

/** Evaluates `block` on `args` through the emitter, returning its results. */
export function inlineBlock<T>(e: Emit<T>, block: Block, args: readonly T[]): T[] {
  const env = new Map<Value, T>();
  block.params.forEach((p, i) => env.set(p, args[i]));
  const get = (v: Value): T => {
    const x = env.get(v);
    if (x === undefined) throw new KilnError(`autodiff: value %${v.id} is read but not defined in this block (regions must be closed)`);
    return x;
  };
  for (const op of block.ops) {
    const outs = replayOp(e, op, op.operands.map(get));
    op.results.forEach((r, i) => env.set(r, outs[i]));
  }
  return block.results.map(get);
}

/** Builds a region: `body` gets an emitter and fresh params of `types`, and returns the region's results. */
export function buildBlock(types: readonly TensorType[], body: (e: Emit<Value>, params: Value[]) => Value[]): Block {
  const b = new Builder();
  const params = types.map((t) => b.param(t));
  return b.block(body(builderEmit(b), params));
}

// ---- small helpers the control-flow rules of both modes share ----

export const isFloatT = (t: TensorType): boolean => isFloat(t.dtype);
/** The type of one iteration's slice of a scanned value (the leading axis dropped). */
export const stripLead = (t: TensorType): TensorType => ({ dtype: t.dtype, shape: t.shape.slice(1) });
/** Picks the entries of `xs` where `mask` holds. */
export const pick = <X>(xs: readonly X[], mask: readonly boolean[]): X[] => xs.filter((_, i) => mask[i]);
/** Puts `vals` back at the positions where `mask` holds (null elsewhere). */
export function scatterBack<T>(mask: readonly boolean[], vals: readonly T[]): (T | null)[] {
  let k = 0;
  return mask.map((m) => (m ? vals[k++] : null));
}

/** An environment reader for replaying a block: a value read before its definition means an open region. */
export function envReader<T>(env: ReadonlyMap<Value, T>, pass: string): (v: Value) => T {
  return (v) => {
    const x = env.get(v);
    if (x === undefined) throw new Error(`internal: ${pass}: %${v.id} read before it is defined (regions must be closed)`);
    return x;
  };
}
