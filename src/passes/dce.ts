// dce: dead-code elimination. An op stays when one of its results is read (by a later op, a region
// capture or the block's results) or when it has an effect; regions are cleaned recursively.
import type { Block, Function, Op, Value } from '../ir/function.js';
import type { Primitive } from '../ir/ops.js';
import { freeValues, rebuildOp } from './walk.js';

/**
 * Primitives that must run even when nothing reads them. None today: random_bits is counter-based
 * (a pure function of its key), and guards, when they become ops, belong here.
 */
export const EFFECTFUL_OPS: ReadonlySet<Primitive> = new Set<Primitive>();

function dceBlock(block: Block): Block {
  const live = new Set<Value>(block.results);
  const kept: Op[] = [];
  for (let i = block.ops.length - 1; i >= 0; i--) {
    const op = block.ops[i];
    if (!EFFECTFUL_OPS.has(op.prim) && !op.results.some((v) => live.has(v))) continue;
    // Region params and results are the op's signature, so only region bodies shrink.
    const regions = op.regions.map(dceBlock);
    const rebuilt = rebuildOp(op, op.operands, regions);
    op.operands.forEach((v) => live.add(v));
    for (const r of regions) freeValues(r).forEach((v) => live.add(v));
    kept.push(rebuilt);
  }
  kept.reverse();
  const same = kept.length === block.ops.length && kept.every((o, i) => o === block.ops[i]);
  return same ? block : { params: block.params, ops: kept, results: block.results };
}

export function dce(fn: Function): Function {
  const body = dceBlock(fn.body);
  return body === fn.body ? fn : { ...fn, body };
}
