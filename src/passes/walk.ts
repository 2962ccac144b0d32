// Small helpers every pass shares: value substitution across nested regions, rebuilding an op with
// new operands, use counting (captures included) and type equality. Passes never mutate their input.
import type { Block, Op, Value } from '../ir/function.js';
import type { TensorType } from '../ir/shape.js';
import { shapeEqual } from '../ir/shape.js';
import { KilnError } from '../ir/error.js';

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && shapeEqual(a.shape, b.shape);
}

/**
 * Old value -> new value, with a parent for enclosing blocks: a region may read values of the blocks
 * around it (captures), and a rewrite done outside must be seen inside.
 */
export class Subst {
  private readonly map = new Map<Value, Value>();
  constructor(private readonly parent?: Subst) {}

  set(from: Value, to: Value): void {
    if (!sameType(from.type, to.type)) throw new KilnError(`internal: pass replaced a value of one type by another (${JSON.stringify(from.type)} vs ${JSON.stringify(to.type)})`);
    this.map.set(from, to);
  }

  get(v: Value): Value {
    let cur: Subst | undefined = this;
    let out = v;
    // Follow chains (a -> b, b -> c) so rules may replace values that were themselves replaced.
    for (let guard = 0; cur && guard < 1_000_000; guard++) {
      const next: Value | undefined = cur.map.get(out);
      if (next !== undefined && next !== out) {
        out = next;
        cur = this;
      } else cur = cur.parent;
    }
    return out;
  }
}

/** `op` with its operands and regions replaced; the same object when nothing changed. */
export function rebuildOp(op: Op, operands: readonly Value[], regions: readonly Block[]): Op {
  const same = operands.every((v, i) => v === op.operands[i]) && regions.every((r, i) => r === op.regions[i]);
  return same ? op : { ...op, operands: [...operands], regions: [...regions] };
}

// Moved to src/ir (executors outside the passes need them too); re-exported for the passes.
export { freeValues, opReads } from '../ir/free_values.js';

/** Walks every op in `block` and its regions, outermost first. */
export function forEachOp(block: Block, visit: (op: Op, depth: number) => void, depth = 0): void {
  for (const op of block.ops) {
    visit(op, depth);
    for (const r of op.regions) forEachOp(r, visit, depth + 1);
  }
}
