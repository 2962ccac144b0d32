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

/** Every value `block` reads that it does not define itself (what a region captures from outside). */
export function freeValues(block: Block): Set<Value> {
  const defined = new Set<Value>(block.params);
  const free = new Set<Value>();
  const read = (v: Value) => {
    if (!defined.has(v)) free.add(v);
  };
  for (const op of block.ops) {
    op.operands.forEach(read);
    for (const r of op.regions) freeValues(r).forEach(read);
    op.results.forEach((v) => defined.add(v));
  }
  block.results.forEach(read);
  return free;
}

/** The values an op reads at its own level: its operands plus what its regions capture. */
export function opReads(op: Op): Value[] {
  if (op.regions.length === 0) return [...op.operands];
  const out = new Set<Value>(op.operands);
  for (const r of op.regions) freeValues(r).forEach((v) => out.add(v));
  return [...out];
}

/** Walks every op in `block` and its regions, outermost first. */
export function forEachOp(block: Block, visit: (op: Op, depth: number) => void, depth = 0): void {
  for (const op of block.ops) {
    visit(op, depth);
    for (const r of op.regions) forEachOp(r, visit, depth + 1);
  }
}
