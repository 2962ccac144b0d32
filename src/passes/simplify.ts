// simplify: constant folding and algebraic identities, written as one table of rewrite rules run by
// one driver (tinygrad's PatternMatcher idea). Rules only ever replace a value by one of the same type.
import type { Block, Function, Op, Value } from '../ir/function.js';
import { newValue } from '../ir/function.js';
import type { Attrs, Primitive } from '../ir/ops.js';
import { COMMUTATIVE_OPS, REDUCE_OPS, inferTypes, opRow } from '../ir/ops.js';
import { evalPrimitive } from '../ir/interpret.js';
import { hostArray } from '../ir/array.js';
import { sizeOf } from '../ir/shape.js';
import type { AnyAttrs } from '../ir/ops.js';
import { Subst, rebuildOp } from './walk.js';

/** Folding materializes values; beyond this many elements a non-splat result stays an op. */
export const FOLD_LIMIT = 64;

/** What a rule sees besides the op (whose operands are already rewritten). */
export interface Match {
  /** The op that defines `v` in this block or an enclosing one; undefined for parameters. */
  def(v: Value): Op | undefined;
  /** The element value when `v` is a constant whose elements are all equal (a splat). */
  splat(v: Value): number | undefined;
  /** Appends a new op (itself simplified) and returns its single result. */
  emit<P extends Primitive>(prim: P, operands: Value[], attrs: Attrs<P>): Value;
}

/** A rule returns the value that replaces the op's (single) result, or null to pass. */
type Rewrite = (op: Op, m: Match) => Value | null;
type Rule = [Primitive | readonly Primitive[] | '*', Rewrite];

const a0 = (op: Op) => op.operands[0];
const a1 = (op: Op) => op.operands[1];
const out = (op: Op) => op.results[0].type;
const isInt = (op: Op) => out(op).dtype === 'int32';
const isConst = (m: Match, v: Value) => m.def(v)?.prim === 'constant';
const splatOf = (m: Match, v: Value, dtype = v.type.dtype, shape = v.type.shape) =>
  (x: number) => m.emit('constant', [], { value: [x], dtype, shape: [...shape] });
const attrs = <P extends Primitive>(op: Op) => op.attrs as unknown as Attrs<P>;
const identity = (perm: readonly number[]) => perm.every((p, i) => p === i);
const nonUnitDims = (shape: readonly number[]) => shape.filter((d) => d !== 1);
const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
/** Whether a reshape from `a` to `b` only inserts or drops size-1 dims (so it keeps the element order of each dim). */
const onlyUnitDimsChange = (a: readonly number[], b: readonly number[]) => sameList(nonUnitDims(a), nonUnitDims(b));

const MOVEMENT_OF_SPLAT: readonly Primitive[] = ['broadcast', 'reshape', 'transpose', 'slice', 'flip'];
const ELEMENTWISE_CATEGORIES = new Set(['unary', 'binary']);

/** Constant folding: every operand a constant, and the result a splat or small. */
function fold(op: Op, m: Match): Value | null {
  // Ops without operands (constant, iota) are already as cheap as a constant.
  if (op.regions.length || op.results.length !== 1 || op.operands.length === 0) return null;
  const defs = op.operands.map((v) => m.def(v));
  if (defs.some((d) => d?.prim !== 'constant')) return null;
  const splats = op.operands.map((v) => m.splat(v));
  const elementwise = ELEMENTWISE_CATEGORIES.has(opRow(op.prim).category) || op.prim === 'select';
  let inputs;
  if (elementwise && splats.every((s) => s !== undefined)) {
    // Elementwise on splats: evaluate one element, whatever the shape.
    inputs = op.operands.map((v, i) => hostArray(v.type.dtype, [], [splats[i]!]));
  } else {
    if (sizeOf(out(op).shape) > FOLD_LIMIT || op.operands.some((v) => sizeOf(v.type.shape) > 16 * FOLD_LIMIT)) return null;
    inputs = op.operands.map((v, i) => hostArray(v.type.dtype, v.type.shape, (defs[i]!.attrs as Attrs<'constant'>).value));
  }
  const [r] = evalPrimitive(op.prim, inputs, op.attrs, []);
  const values = Array.from(r.data as ArrayLike<number>, Number);
  const uniform = values.length > 0 && values.every((x) => Object.is(x, values[0]));
  return m.emit('constant', [], { value: uniform ? [values[0]] : values, dtype: out(op).dtype, shape: [...out(op).shape] });
}

/** dot_general(transpose(x), y) reads x directly when the transpose keeps x's free dims in order. */
function dotThroughTranspose(op: Op, m: Match): Value | null {
  const { contract, batch } = attrs<'dot_general'>(op);
  for (const side of [0, 1] as const) {
    const t = m.def(op.operands[side]);
    if (t?.prim !== 'transpose') continue;
    const perm = (t.attrs as Attrs<'transpose'>).perm;
    const fixed = new Set([...contract[side], ...batch[side]]);
    const free = perm.filter((_, i) => !fixed.has(i));
    if (!free.every((p, i) => i === 0 || p > free[i - 1])) continue;
    const c = [[...contract[0]], [...contract[1]]] as [number[], number[]];
    const b = [[...batch[0]], [...batch[1]]] as [number[], number[]];
    c[side] = contract[side].map((d) => perm[d]);
    b[side] = batch[side].map((d) => perm[d]);
    const operands = [...op.operands];
    operands[side] = t.operands[0];
    return m.emit('dot_general', operands, { contract: c, batch: b });
  }
  return null;
}

// The rule table: tried in order for each op; the first rule that returns a value wins.
const RULES: readonly Rule[] = [
  ['*', fold], // constant operands -> constant (splat, or at most FOLD_LIMIT elements)
  ['constant', (op, m) => { const v = attrs<'constant'>(op).value; return v.length > 1 && v.every((x) => Object.is(x, v[0])) ? splatOf(m, op.results[0])(v[0]) : null; }], // [c, c, c] -> splat c
  [[...COMMUTATIVE_OPS], (op, m) => isConst(m, a0(op)) && !isConst(m, a1(op)) ? m.emit(op.prim, [a1(op), a0(op)], {} as never) : null], // c op x -> x op c (constants on the right)
  ['add', (op, m) => m.splat(a1(op)) === 0 ? a0(op) : null], // x + 0 -> x
  ['sub', (op, m) => m.splat(a1(op)) === 0 ? a0(op) : null], // x - 0 -> x
  ['sub', (op, m) => isInt(op) && a0(op) === a1(op) ? splatOf(m, op.results[0])(0) : null], // x - x -> 0 (ints; inf - inf is nan for floats)
  ['mul', (op, m) => m.splat(a1(op)) === 1 ? a0(op) : null], // x * 1 -> x
  ['mul', (op, m) => isInt(op) && m.splat(a1(op)) === 0 ? a1(op) : null], // x * 0 -> 0 (ints; nan * 0 is nan for floats)
  ['mul', (op, m) => m.splat(a1(op)) === -1 && out(op).dtype !== 'bool' ? m.emit('neg', [a0(op)], {}) : null], // x * -1 -> neg x
  ['div', (op, m) => m.splat(a1(op)) === 1 ? a0(op) : null], // x / 1 -> x
  ['pow', (op, m) => m.splat(a1(op)) === 1 ? a0(op) : null], // x ** 1 -> x
  [['max', 'min', 'and', 'or'], (op) => a0(op) === a1(op) ? a0(op) : null], // max(x, x) -> x
  ['neg', (op, m) => m.def(a0(op))?.prim === 'neg' ? m.def(a0(op))!.operands[0] : null], // neg(neg x) -> x
  ['not', (op, m) => out(op).dtype === 'bool' && m.def(a0(op))?.prim === 'not' ? m.def(a0(op))!.operands[0] : null], // not(not p) -> p (bool only)
  ['cast', (op) => a0(op).type.dtype === out(op).dtype ? a0(op) : null], // cast to its own dtype -> x
  ['select', (op, m) => { const p = m.splat(a0(op)); return p === undefined ? null : p ? a1(op) : op.operands[2]; }], // select(const p, a, b) -> a or b
  ['select', (op) => a1(op) === op.operands[2] ? a1(op) : null], // select(p, x, x) -> x
  [MOVEMENT_OF_SPLAT, (op, m) => { const s = m.splat(a0(op)); return s === undefined ? null : splatOf(m, op.results[0])(s); }], // movement of a splat -> splat of the new shape
  ['reshape', (op) => sameList(a0(op).type.shape, out(op).shape) ? a0(op) : null], // reshape to its own shape -> x
  ['reshape', (op, m) => { const d = m.def(a0(op)); return d?.prim === 'reshape' ? m.emit('reshape', [d.operands[0]], attrs<'reshape'>(op)) : null; }], // reshape(reshape x) -> reshape x
  ['transpose', (op) => identity(attrs<'transpose'>(op).perm) ? a0(op) : null], // transpose by the identity -> x
  ['transpose', (op, m) => { const d = m.def(a0(op)); if (d?.prim !== 'transpose') return null; const inner = attrs<'transpose'>(d).perm; return m.emit('transpose', [d.operands[0]], { perm: attrs<'transpose'>(op).perm.map((p) => inner[p]) }); }], // transpose(transpose x) -> one transpose
  ['transpose', (op, m) => { const { perm } = attrs<'transpose'>(op); const sh = a0(op).type.shape; const moved = perm.filter((p) => sh[p] !== 1); return moved.every((p, i) => i === 0 || p > moved[i - 1]) ? m.emit('reshape', [a0(op)], { shape: [...out(op).shape] }) : null; }], // a transpose that only moves size-1 dims -> reshape
  ['broadcast', (op) => sameList(a0(op).type.shape, out(op).shape) && identity(attrs<'broadcast'>(op).dims) ? a0(op) : null], // broadcast to its own shape -> x
  ['broadcast', (op, m) => { const d = m.def(a0(op)); if (d?.prim !== 'broadcast') return null; const inner = attrs<'broadcast'>(d).dims; const { shape, dims } = attrs<'broadcast'>(op); return m.emit('broadcast', [d.operands[0]], { shape: [...shape], dims: inner.map((i) => dims[i]) }); }], // broadcast(broadcast x) -> one broadcast
  ['broadcast', (op, m) => { const d = m.def(a0(op)); if (d?.prim !== 'reshape') return null; const src = d.operands[0].type.shape; const mid = a0(op).type.shape; if (src.includes(1) || !onlyUnitDimsChange(src, mid)) return null; const { shape, dims } = attrs<'broadcast'>(op); return m.emit('broadcast', [d.operands[0]], { shape: [...shape], dims: dims.filter((_, j) => mid[j] !== 1) }); }], // broadcast(reshape x) that only added size-1 dims -> broadcast x (keepdims reductions)
  ['broadcast', (op, m) => sizeOf(a0(op).type.shape) === sizeOf(out(op).shape) ? m.emit('reshape', [a0(op)], { shape: [...out(op).shape] }) : null], // a broadcast that only adds size-1 dims -> reshape
  ['slice', (op) => { const { start, limit, stride } = attrs<'slice'>(op); return a0(op).type.shape.every((d, i) => start[i] === 0 && limit[i] === d && (stride[i] === 1 || d <= 1)) ? a0(op) : null; }], // slice of the full range -> x
  ['pad', (op) => { const { low, high, interior } = attrs<'pad'>(op); return [...low, ...high, ...interior].every((p) => p === 0) ? a0(op) : null; }], // pad by nothing -> x
  ['concat', (op) => op.operands.length === 1 ? a0(op) : null], // concat of one operand -> x
  ['flip', (op) => attrs<'flip'>(op).axes.every((a) => a0(op).type.shape[a] <= 1) ? a0(op) : null], // flip of size-1 (or no) axes -> x
  [REDUCE_OPS, (op) => attrs<'reduce_sum'>(op).axes.length === 0 ? a0(op) : null], // reduce over no axes -> x
  [REDUCE_OPS, (op, m) => attrs<'reduce_sum'>(op).axes.every((a) => a0(op).type.shape[a] === 1) ? m.emit('reshape', [a0(op)], { shape: [...out(op).shape] }) : null], // reduce over size-1 axes -> reshape
  ['dot_general', dotThroughTranspose], // dot_general(transpose x, y) -> dot_general(x, y) with renumbered dims
  // Deliberately absent: exp(log x) and log(exp x) (rounding makes them inexact), x * 0 and x - x on
  // floats (nan, inf), and (x + a) + b reassociation (changes float rounding).
];

const RULES_BY_PRIM = new Map<string, Rewrite[]>();
for (const [pattern, rewrite] of RULES) {
  const keys = pattern === '*' ? ['*'] : typeof pattern === 'string' ? [pattern] : pattern;
  for (const k of keys) RULES_BY_PRIM.set(k, [...(RULES_BY_PRIM.get(k) ?? []), rewrite]);
}
const rulesFor = (prim: Primitive): Rewrite[] => [...(RULES_BY_PRIM.get('*') ?? []), ...(RULES_BY_PRIM.get(prim) ?? [])];

/** Definitions visible in a block: its own (as rewritten so far) and those of the enclosing blocks. */
class Defs {
  private readonly map = new Map<Value, Op>();
  constructor(private readonly parent?: Defs) {}
  add(op: Op): void {
    for (const v of op.results) this.map.set(v, op);
  }
  get(v: Value): Op | undefined {
    return this.map.get(v) ?? this.parent?.get(v);
  }
}

const MAX_EMIT_DEPTH = 16;

function simplifyBlock(block: Block, outerSubst?: Subst, outerDefs?: Defs): { block: Block; changed: boolean } {
  const subst = new Subst(outerSubst);
  const defs = new Defs(outerDefs);
  const ops: Op[] = [];
  let changed = false;

  const splat = (v: Value): number | undefined => {
    const d = defs.get(v);
    if (d?.prim !== 'constant') return undefined;
    const value = (d.attrs as Attrs<'constant'>).value;
    return value.length >= 1 && value.every((x) => Object.is(x, value[0])) ? value[0] : undefined;
  };
  let depth = 0;
  const match: Match = {
    def: (v) => defs.get(v),
    splat,
    emit(prim, operands, attrs) {
      const [type] = inferTypes(prim, operands.map((v) => v.type), attrs);
      const op: Op = { prim, operands, attrs: attrs as AnyAttrs, results: [newValue(type)], regions: [] };
      return place(op);
    },
  };
  // Runs the rules on `op` (operands already rewritten); appends it or returns its replacement.
  function place(op: Op): Value {
    if (op.results.length === 1 && depth < MAX_EMIT_DEPTH) {
      depth++;
      try {
        for (const rule of rulesFor(op.prim)) {
          const r = rule(op, match);
          if (r && r !== op.results[0]) {
            changed = true;
            return r;
          }
        }
      } finally {
        depth--;
      }
    }
    ops.push(op);
    defs.add(op);
    return op.results[0];
  }

  for (const op of block.ops) {
    const regions = op.regions.map((r) => {
      const inner = simplifyBlock(r, subst, defs);
      changed ||= inner.changed;
      return inner.block;
    });
    const rebuilt = rebuildOp(op, op.operands.map((v) => subst.get(v)), regions);
    const v = place(rebuilt);
    if (v !== rebuilt.results[0]) subst.set(rebuilt.results[0], v);
  }
  const results = block.results.map((v) => subst.get(v));
  changed ||= results.some((v, i) => v !== block.results[i]);
  return { block: { params: block.params, ops, results }, changed };
}

/** Folds constants and applies the identity rules until nothing changes (a few rounds at most). */
export function simplify(fn: Function): Function {
  let body = fn.body;
  for (let round = 0; round < 8; round++) {
    const r = simplifyBlock(body);
    body = r.block;
    if (!r.changed) break;
  }
  return body === fn.body ? fn : { ...fn, body };
}

/** For tests and docs: the rule count and their primitives. */
export const SIMPLIFY_RULES = RULES;
