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
import { Subst, opReads, rebuildOp } from './walk.js';

/** Folding materializes values; beyond this many elements a non-splat result stays an op. */
export const FOLD_LIMIT = 64;

/** What a rule sees besides the op (whose operands are already rewritten). */
export interface Match {
  /** The op that defines `v` in this block or an enclosing one; undefined for parameters. */
  def(v: Value): Op | undefined;
  /** The element value when `v` is a constant whose elements are all equal (a splat). */
  splat(v: Value): number | undefined;
  /** How many ops (or block results) read `v` in the block as given to the pass (0 for new values). */
  uses(v: Value): number;
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
const isBool = (op: Op) => out(op).dtype === 'bool';
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

// ---- rewrites too long for one table line ----------------------------------------------------------

const def = (m: Match, v: Value, prim: Primitive) => (m.def(v)?.prim === prim ? m.def(v)! : undefined);

function splatConstant(op: Op, m: Match): Value | null {
  const v = attrs<'constant'>(op).value;
  return v.length > 1 && v.every((x) => Object.is(x, v[0])) ? splatOf(m, op.results[0])(v[0]) : null;
}

function selectConstant(op: Op, m: Match): Value | null {
  const p = m.splat(a0(op));
  if (p === undefined) return null;
  return p ? a1(op) : op.operands[2];
}

function movementOfSplat(op: Op, m: Match): Value | null {
  const s = m.splat(a0(op));
  return s === undefined ? null : splatOf(m, op.results[0])(s);
}

function composeReshapes(op: Op, m: Match): Value | null {
  const d = def(m, a0(op), 'reshape');
  return d ? m.emit('reshape', [d.operands[0]], attrs<'reshape'>(op)) : null;
}

// transpose(y, p2) of y = transpose(x, p1): output dim i is x dim p1[p2[i]].
function composeTransposes(op: Op, m: Match): Value | null {
  const d = def(m, a0(op), 'transpose');
  if (!d) return null;
  const inner = attrs<'transpose'>(d).perm;
  return m.emit('transpose', [d.operands[0]], { perm: attrs<'transpose'>(op).perm.map((p) => inner[p]) });
}

// Moving only size-1 dims keeps the row-major element order, which is what a reshape is.
function transposeAsReshape(op: Op, m: Match): Value | null {
  const shape = a0(op).type.shape;
  const moved = attrs<'transpose'>(op).perm.filter((p) => shape[p] !== 1);
  if (!moved.every((p, i) => i === 0 || p > moved[i - 1])) return null;
  return m.emit('reshape', [a0(op)], { shape: [...out(op).shape] });
}

// broadcast(y, d2) of y = broadcast(x, d1): x dim i lands on output dim d2[d1[i]].
function composeBroadcasts(op: Op, m: Match): Value | null {
  const d = def(m, a0(op), 'broadcast');
  if (!d) return null;
  const { shape, dims } = attrs<'broadcast'>(op);
  return m.emit('broadcast', [d.operands[0]], { shape: [...shape], dims: attrs<'broadcast'>(d).dims.map((i) => dims[i]) });
}

// A keepdims reduction is reduce + reshape([n] -> [n,1]) + broadcast; broadcasting from [n] directly
// is simpler for fusion and codegen.
function broadcastThroughReshape(op: Op, m: Match): Value | null {
  const d = def(m, a0(op), 'reshape');
  if (!d) return null;
  const src = d.operands[0].type.shape;
  const mid = a0(op).type.shape;
  if (src.includes(1) || !onlyUnitDimsChange(src, mid)) return null;
  const { shape, dims } = attrs<'broadcast'>(op);
  return m.emit('broadcast', [d.operands[0]], { shape: [...shape], dims: dims.filter((_, j) => mid[j] !== 1) });
}

function broadcastAsReshape(op: Op, m: Match): Value | null {
  if (sizeOf(a0(op).type.shape) !== sizeOf(out(op).shape)) return null;
  return m.emit('reshape', [a0(op)], { shape: [...out(op).shape] });
}

function fullSlice(op: Op): Value | null {
  const { start, limit, stride } = attrs<'slice'>(op);
  return a0(op).type.shape.every((d, i) => start[i] === 0 && limit[i] === d && (stride[i] === 1 || d <= 1)) ? a0(op) : null;
}

function emptyPad(op: Op): Value | null {
  const { low, high, interior } = attrs<'pad'>(op);
  return [...low, ...high, ...interior].every((p) => p === 0) ? a0(op) : null;
}

function reduceUnitAxes(op: Op, m: Match): Value | null {
  if (!attrs<'reduce_sum'>(op).axes.every((a) => a0(op).type.shape[a] === 1)) return null;
  return m.emit('reshape', [a0(op)], { shape: [...out(op).shape] });
}

// transpose(dot_general(a, b)) that puts b's free dims before a's is dot_general(b, a); only when the
// transpose is the dot's one reader, so the contraction is not computed twice.
function transposeOfDot(op: Op, m: Match): Value | null {
  const d = def(m, a0(op), 'dot_general');
  if (!d || m.uses(a0(op)) !== 1) return null;
  const { contract, batch } = attrs<'dot_general'>(d);
  const [a, b] = d.operands;
  const nb = batch[0].length;
  const nl = a.type.shape.length - nb - contract[0].length;
  const nr = b.type.shape.length - nb - contract[1].length;
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const swapped = [...range(0, nb), ...range(nb + nl, nr), ...range(nb, nl)];
  if (!sameList(attrs<'transpose'>(op).perm, swapped)) return null;
  return m.emit('dot_general', [b, a], { contract: [[...contract[1]], [...contract[0]]], batch: [[...batch[1]], [...batch[0]]] });
}

const inner = (m: Match, v: Value, prim: Primitive) => def(m, v, prim)?.operands[0] ?? null;
const constOnLeft = (op: Op, m: Match) => isConst(m, a0(op)) && !isConst(m, a1(op));
const swap = (op: Op, m: Match) => m.emit(op.prim, [a1(op), a0(op)], {} as never);
const zerosOf = (op: Op, m: Match) => splatOf(m, op.results[0])(0);
const is = (m: Match, v: Value, x: number) => m.splat(v) === x;

// The rule table: tried in order for each op; the first rule that returns a value wins.
const RULES: readonly Rule[] = [
  ['*', fold], // constant operands -> constant (splat, or at most FOLD_LIMIT elements)
  ['constant', splatConstant], // [c, c, c] -> splat c
  [[...COMMUTATIVE_OPS], (op, m) => (constOnLeft(op, m) ? swap(op, m) : null)], // c op x -> x op c
  ['add', (op, m) => (is(m, a1(op), 0) ? a0(op) : null)], // x + 0 -> x
  ['sub', (op, m) => (is(m, a1(op), 0) ? a0(op) : null)], // x - 0 -> x
  ['sub', (op, m) => (isInt(op) && a0(op) === a1(op) ? zerosOf(op, m) : null)], // x - x -> 0 (ints: inf - inf is nan)
  ['mul', (op, m) => (is(m, a1(op), 1) ? a0(op) : null)], // x * 1 -> x
  ['mul', (op, m) => (isInt(op) && is(m, a1(op), 0) ? a1(op) : null)], // x * 0 -> 0 (ints: nan * 0 is nan)
  ['mul', (op, m) => (is(m, a1(op), -1) && !isBool(op) ? m.emit('neg', [a0(op)], {}) : null)], // x * -1 -> neg x
  ['div', (op, m) => (is(m, a1(op), 1) ? a0(op) : null)], // x / 1 -> x
  ['pow', (op, m) => (is(m, a1(op), 1) ? a0(op) : null)], // x ** 1 -> x
  [['max', 'min', 'and', 'or'], (op) => (a0(op) === a1(op) ? a0(op) : null)], // max(x, x) -> x
  ['neg', (op, m) => inner(m, a0(op), 'neg')], // neg(neg x) -> x
  ['not', (op, m) => inner(m, a0(op), 'not')], // not(not x) -> x (logical on bool, bitwise on int32)
  ['cast', (op) => (a0(op).type.dtype === out(op).dtype ? a0(op) : null)], // cast to its own dtype -> x
  ['select', selectConstant], // select(constant p, a, b) -> a or b
  ['select', (op) => (a1(op) === op.operands[2] ? a1(op) : null)], // select(p, x, x) -> x
  [MOVEMENT_OF_SPLAT, movementOfSplat], // movement of a splat -> splat of the new shape
  ['reshape', (op) => (sameList(a0(op).type.shape, out(op).shape) ? a0(op) : null)], // reshape to its own shape -> x
  ['reshape', composeReshapes], // reshape(reshape x) -> reshape x
  ['transpose', (op) => (identity(attrs<'transpose'>(op).perm) ? a0(op) : null)], // identity transpose -> x
  ['transpose', composeTransposes], // transpose(transpose x) -> one transpose (then maybe x)
  ['transpose', transposeAsReshape], // a transpose that only moves size-1 dims -> reshape
  ['transpose', transposeOfDot], // transpose(dot_general(a, b)) swapping free dims -> dot_general(b, a)
  ['broadcast', (op) => (sameList(a0(op).type.shape, out(op).shape) ? a0(op) : null)], // broadcast to its own shape -> x
  ['broadcast', composeBroadcasts], // broadcast(broadcast x) -> one broadcast
  ['broadcast', broadcastThroughReshape], // broadcast(reshape x) adding only size-1 dims -> broadcast x
  ['broadcast', broadcastAsReshape], // a broadcast that only adds size-1 dims -> reshape
  ['slice', fullSlice], // slice of the full range -> x
  ['pad', emptyPad], // pad by nothing -> x
  ['concat', (op) => (op.operands.length === 1 ? a0(op) : null)], // concat of one operand -> x
  ['flip', (op) => (attrs<'flip'>(op).axes.every((a) => a0(op).type.shape[a] <= 1) ? a0(op) : null)], // flip of size-1 axes -> x
  [REDUCE_OPS, (op) => (attrs<'reduce_sum'>(op).axes.length === 0 ? a0(op) : null)], // reduce over no axes -> x
  [REDUCE_OPS, reduceUnitAxes], // reduce over size-1 axes -> reshape
  ['dot_general', dotThroughTranspose], // dot_general(transpose x, y) -> dot_general(x, y), dims renumbered
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
  private readonly reads = new Map<Value, number>();
  constructor(block: Block, private readonly parent?: Defs) {
    const read = (v: Value) => this.reads.set(v, (this.reads.get(v) ?? 0) + 1);
    for (const op of block.ops) opReads(op).forEach(read);
    block.results.forEach(read);
  }
  add(op: Op): void {
    for (const v of op.results) this.map.set(v, op);
  }
  get(v: Value): Op | undefined {
    return this.map.get(v) ?? this.parent?.get(v);
  }
  uses(v: Value): number {
    return this.reads.get(v) ?? this.parent?.uses(v) ?? 0;
  }
}

const MAX_EMIT_DEPTH = 16;

function simplifyBlock(block: Block, outerSubst?: Subst, outerDefs?: Defs): { block: Block; changed: boolean } {
  const subst = new Subst(outerSubst);
  const defs = new Defs(block, outerDefs);
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
    uses: (v) => defs.uses(v),
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
