// cse: common-subexpression elimination. Two ops with the same primitive, attributes and operands
// compute the same values (every Kiln primitive is pure; random_bits is counter-based), so the later
// one is replaced by the earlier. Regions are handled recursively, each with its own table.
import type { Block, Function, Op } from '../ir/function.js';
import { COMMUTATIVE_OPS } from '../ir/ops.js';
import { typeToString } from '../ir/shape.js';
import { Subst, rebuildOp } from './walk.js';

/** A canonical text for plain data: sorted keys, and -0 / NaN / ±Infinity kept apart (JSON would merge them). */
export function canonicalKey(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (Array.isArray(x)) return `[${x.map(canonicalKey).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x).sort().map((k) => `${k}:${canonicalKey((x as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(x) ?? 'undefined';
}

// Operands are compared by id: after substitution, equal values are the same Value object.
function opKey(op: Op): string {
  let operands = op.operands.map((v) => String(v.id));
  if (COMMUTATIVE_OPS.has(op.prim)) operands = [...operands].sort();
  return `${op.prim}(${operands.join(',')})${canonicalKey(op.attrs)}:${op.results.map((v) => typeToString(v.type)).join(',')}`;
}

function cseBlock(block: Block, outer: Subst): Block {
  const subst = new Subst(outer);
  const seen = new Map<string, Op>();
  const ops: Op[] = [];
  for (const op of block.ops) {
    const regions = op.regions.map((r) => cseBlock(r, subst));
    const rebuilt = rebuildOp(op, op.operands.map((v) => subst.get(v)), regions);
    // Ops with regions are not compared (that needs structural equality of blocks); they stay.
    if (rebuilt.regions.length === 0) {
      const key = opKey(rebuilt);
      const prev = seen.get(key);
      if (prev) {
        rebuilt.results.forEach((v, i) => subst.set(v, prev.results[i]));
        continue;
      }
      seen.set(key, rebuilt);
    }
    ops.push(rebuilt);
  }
  const results = block.results.map((v) => subst.get(v));
  const same = results.every((v, i) => v === block.results[i]) && ops.length === block.ops.length && ops.every((o, i) => o === block.ops[i]);
  return same ? block : { params: block.params, ops, results };
}

export function cse(fn: Function): Function {
  const body = cseBlock(fn.body, new Subst());
  return body === fn.body ? fn : { ...fn, body };
}
