// The reference interpreter: evaluates primitives and Functions on HostArrays. It is the numeric
// semantics of Kiln; every backend is differential-tested against it.
//
// Semantics (the spec; op shapes and dtypes are the op table's):
// - Storage rounds: float32 math is done in f64 and rounded once on store; float64 stays f64;
//   reductions and contractions accumulate in f64 (int32 in wrapping int arithmetic).
// - int32: add/sub/mul wrap (mul is Math.imul); div and mod are floor division and floor modulo
//   (Python `//` and `%`), x div 0 = x mod 0 = 0; pow is integer power (negative exponent gives 0
//   unless the base is 1 or -1). Float mod takes the sign of the divisor (NumPy/torch.remainder).
//   Float pow is C99 pow (pow(1, NaN) = 1, pow(-1, +-inf) = 1).
// - bool arithmetic is the int32 rule on 0/1 followed by x != 0; and/or/not are logical on bool,
//   bitwise on int32. Comparisons and isnan return bool.
// - round is half to even; sign is -1/0/1 with NaN (and -0) kept; relu = max(x, 0); sigmoid never
//   overflows; rsqrt = 1/sqrt; erf is float64-accurate; max/min (and relu) propagate NaN.
// - cast: float -> int32 truncates toward zero and saturates, NaN -> 0 (wasm trunc_sat); anything ->
//   bool is x != 0 (NaN -> true); bool -> number is 0/1. Constants and pad values are cast the same way.
// - Empty reductions: sum 0, prod 1, max -inf (int32 min, false), min +inf (int32 max, true).
//   argmax/argmin give the first index of the extreme, a NaN being the extreme (first NaN wins).
// - gather/scatter_add throw on an index outside [0, size); scatter_add accumulates duplicates.
// - random_bits: element i is word 0 of threefry2x32(key, counter (i, 0)), as int32.
// - Control flow: cond runs one region; while loops; scan outputs the final carry then the ys
//   stacked in time order (reverse only walks t from length-1 down). Regions may read values of
//   enclosing blocks.
// - Results are always fresh arrays: nothing returned aliases an input.
// - `promoteFloat32`: float32 values are held in float64 storage (no rounding anywhere), for
//   finite-difference gradient checks; such values have dtype 'float64' at the boundary.
import type { HostArray } from './array.js';
import { hostArray } from './array.js';
import type { DType } from './dtype.js';
import { isFloat, SHORT_NAME } from './dtype.js';
import { KilnError, fail } from './error.js';
import type { Block, Function, Op, Value } from './function.js';
import type { AnyAttrs, Attrs, BinaryOp, Primitive, ReduceOp, UnaryOp } from './ops.js';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, inferTypes } from './ops.js';
import type { TensorType } from './shape.js';
import { shapeEqual, sizeOf, stridesOf, typeToString } from './shape.js';
import { FLOAT_BINARY, FLOAT_UNARY, INT_BINARY, INT_UNARY, castScalar, toBool } from './interpret_scalar.js';
import type { BinaryFn, UnaryFn } from './interpret_scalar.js';
import * as move from './interpret_movement.js';
import { conv, dotGeneral, reduceWindow } from './interpret_contract.js';
import { randomBits } from './threefry.js';
import { spendIteration, loopBudget } from './loop_budget.js';
import type { LoopBudget } from './loop_budget.js';

export { threefry2x32 } from './threefry.js';

export interface InterpretOptions {
  /** Hold float32 values in float64 storage (every float op runs unrounded in f64). */
  promoteFloat32?: boolean;
  /** Loop iterations (while iterations and scan steps) one call may run, all loops together, before it is a KilnError (kiln/runtime bounds untrusted artifacts). Default: unbounded. */
  maxLoopIterations?: number;
}

/** Finds values of enclosing blocks (regions read them by id). */
type Lookup = (id: number) => HostArray | undefined;

interface EvalContext {
  /** Result types, float32 already mapped to float64 when promoting: what to allocate. */
  readonly out: readonly TensorType[];
  readonly regions: readonly Block[];
  readonly lookup: Lookup | undefined;
  readonly promote: boolean;
  readonly budget: LoopBudget;
}

type Rule<P extends Primitive> = (ins: HostArray[], attrs: Attrs<P>, cx: EvalContext) => HostArray[];
type AnyRule = (ins: HostArray[], attrs: AnyAttrs, cx: EvalContext) => HostArray[];

const fresh = (t: TensorType): HostArray => hostArray(t.dtype, t.shape);
const copy = (x: HostArray): HostArray => ({ dtype: x.dtype, shape: [...x.shape], data: x.data.slice() });
const storageDType = (d: DType, promote: boolean): DType => (promote && d === 'float32' ? 'float64' : d);
const storageType = (t: TensorType, promote: boolean): TensorType =>
  promote && t.dtype === 'float32' ? { dtype: 'float64', shape: t.shape } : t;

// ---- elementwise ---------------------------------------------------------------------------------

const notBool: UnaryFn = (x) => (x ? 0 : 1);

function unaryRule(op: UnaryOp): Rule<UnaryOp> {
  return ([x], _, cx) => {
    const out = fresh(cx.out[0]);
    const f = isFloat(x.dtype) ? FLOAT_UNARY[op] : x.dtype === 'bool' && op === 'not' ? notBool : INT_UNARY[op];
    const src = x.data;
    const dst = out.data;
    if (out.dtype === 'bool') for (let i = 0; i < dst.length; i++) dst[i] = toBool(f(src[i]));
    else for (let i = 0; i < dst.length; i++) dst[i] = f(src[i]);
    return [out];
  };
}

function binaryRule(op: BinaryOp): Rule<BinaryOp> {
  return ([a, b], _, cx) => {
    const out = fresh(cx.out[0]);
    const f: BinaryFn = isFloat(a.dtype) ? FLOAT_BINARY[op] : INT_BINARY[op];
    const x = a.data;
    const y = b.data;
    const dst = out.data;
    if (out.dtype === 'bool') for (let i = 0; i < dst.length; i++) dst[i] = toBool(f(x[i], y[i]));
    else for (let i = 0; i < dst.length; i++) dst[i] = f(x[i], y[i]);
    return [out];
  };
}

// ---- reductions ----------------------------------------------------------------------------------

const maxOf: BinaryFn = (acc, v) => (v > acc || v !== v ? v : acc);
const minOf: BinaryFn = (acc, v) => (v < acc || v !== v ? v : acc);

/** [identity, combine] per reduction and operand dtype; the identity is the empty result. */
function reducer(op: ReduceOp, dtype: DType): [number, BinaryFn] {
  const isInt = dtype === 'int32';
  switch (op) {
    case 'reduce_sum': return [0, isInt ? (s, v) => (s + v) | 0 : (s, v) => s + v];
    case 'reduce_prod': return [1, isInt ? Math.imul : (s, v) => s * v];
    case 'reduce_max': return [isInt ? -2147483648 : dtype === 'bool' ? 0 : -Infinity, maxOf];
    case 'reduce_min': return [isInt ? 2147483647 : dtype === 'bool' ? 1 : Infinity, minOf];
  }
}

function reduceRule(op: ReduceOp): Rule<ReduceOp> {
  return ([x], { axes }, cx) => {
    const out = fresh(cx.out[0]);
    const [init, combine] = reducer(op, x.dtype);
    const acc = new Float64Array(out.data.length).fill(init);
    // Walk x in row-major order; each element lands on its output slot (stride 0 on reduced axes).
    const os = stridesOf(out.shape);
    const accStrides: number[] = [];
    for (let d = 0, k = 0; d < x.shape.length; d++) accStrides.push(axes.includes(d) ? 0 : os[k++]);
    const r = x.shape.length;
    const n = r === 0 ? 1 : x.shape[r - 1];
    const as = r === 0 ? 0 : accStrides[r - 1];
    const src = x.data;
    move.forEachRow(x.shape, 0, accStrides, 0, stridesOf(x.shape), (a, b) => {
      for (let i = 0; i < n; i++) acc[a + i * as] = combine(acc[a + i * as], src[b + i]);
    });
    out.data.set(acc);
    return [out];
  };
}

function argRule(isMax: boolean): Rule<'argmax' | 'argmin'> {
  return ([x], { axis }, cx) => {
    const out = fresh(cx.out[0]);
    const outer = sizeOf(x.shape.slice(0, axis));
    const n = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const src = x.data;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let best = src[base];
        let at = 0;
        if (best === best) {
          for (let k = 1; k < n; k++) {
            const v = src[base + k * inner];
            if (v !== v) {
              at = k;
              break;
            }
            if (isMax ? v > best : v < best) {
              best = v;
              at = k;
            }
          }
        }
        out.data[o * inner + i] = at;
      }
    }
    return [out];
  };
}

// ---- control flow --------------------------------------------------------------------------------

function whileRule(ins: HostArray[], _: Attrs<'while'>, cx: EvalContext): HostArray[] {
  const [condR, bodyR] = cx.regions;
  let carry = ins;
  for (;;) {
    const [go] = runBlock(condR, carry, cx.lookup, cx.promote, cx.budget);
    if (!go.data[0]) break;
    spendIteration(cx.budget);
    carry = runBlock(bodyR, carry, cx.lookup, cx.promote, cx.budget);
  }
  return carry === ins ? ins.map(copy) : carry;
}

function scanRule(ins: HostArray[], { length, numCarry, reverse }: Attrs<'scan'>, cx: EvalContext): HostArray[] {
  const [body] = cx.regions;
  let carry = ins.slice(0, numCarry);
  const xs = ins.slice(numCarry);
  const ys = cx.out.slice(numCarry).map(fresh);
  const xSizes = xs.map((x) => sizeOf(x.shape.slice(1)));
  const ySizes = ys.map((y) => sizeOf(y.shape.slice(1)));
  for (let step = 0; step < length; step++) {
    spendIteration(cx.budget, 'scan');
    const t = reverse ? length - 1 - step : step;
    // Slices are read-only views; runBlock copies any it returns, so nothing aliases xs.
    const slices = xs.map((x, j) => ({ dtype: x.dtype, shape: x.shape.slice(1), data: x.data.subarray(t * xSizes[j], (t + 1) * xSizes[j]) }));
    const res = runBlock(body, [...carry, ...slices], cx.lookup, cx.promote, cx.budget);
    carry = res.slice(0, numCarry);
    res.slice(numCarry).forEach((y, j) => ys[j].data.set(y.data, t * ySizes[j]));
  }
  return [...(length === 0 ? carry.map(copy) : carry), ...ys];
}

// ---- the rule table ------------------------------------------------------------------------------

const RULES: { [P in Primitive]: Rule<P> } = {
  ...(Object.fromEntries(UNARY_OPS.map((n) => [n, unaryRule(n)])) as { [P in UnaryOp]: Rule<P> }),
  ...(Object.fromEntries(BINARY_OPS.map((n) => [n, binaryRule(n)])) as { [P in BinaryOp]: Rule<P> }),
  ...(Object.fromEntries(REDUCE_OPS.map((n) => [n, reduceRule(n)])) as { [P in ReduceOp]: Rule<P> }),
  argmax: argRule(true),
  argmin: argRule(false),

  constant: (_, { value }, cx) => {
    const out = fresh(cx.out[0]);
    if (value.length === 1) out.data.fill(castScalar(value[0], out.dtype));
    else for (let i = 0; i < value.length; i++) out.data[i] = castScalar(value[i], out.dtype);
    return [out];
  },
  iota: (_, { dimension }, cx) => {
    const out = fresh(cx.out[0]);
    const { shape } = out;
    const n = shape[dimension];
    const inner = sizeOf(shape.slice(dimension + 1));
    const outer = sizeOf(shape.slice(0, dimension));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < n; j++) out.data.fill(j, (o * n + j) * inner, (o * n + j + 1) * inner);
    }
    return [out];
  },
  cast: ([x], _, cx) => {
    const out = fresh(cx.out[0]);
    for (let i = 0; i < x.data.length; i++) out.data[i] = castScalar(x.data[i], out.dtype);
    return [out];
  },
  select: ([p, a, b], _, cx) => {
    const out = fresh(cx.out[0]);
    for (let i = 0; i < out.data.length; i++) out.data[i] = p.data[i] ? a.data[i] : b.data[i];
    return [out];
  },

  reshape: ([x], _, cx) => [move.reshape(x, fresh(cx.out[0]))],
  broadcast: ([x], attrs, cx) => [move.broadcast(x, attrs, fresh(cx.out[0]))],
  transpose: ([x], attrs, cx) => [move.transpose(x, attrs, fresh(cx.out[0]))],
  slice: ([x], attrs, cx) => [move.slice(x, attrs, fresh(cx.out[0]))],
  pad: ([x], attrs, cx) => [move.pad(x, attrs, fresh(cx.out[0]))],
  concat: (xs, attrs, cx) => [move.concat(xs, attrs, fresh(cx.out[0]))],
  flip: ([x], attrs, cx) => [move.flip(x, attrs, fresh(cx.out[0]))],

  dot_general: ([a, b], attrs, cx) => [dotGeneral(a, b, attrs, fresh(cx.out[0]))],
  conv: ([x, w], attrs, cx) => [conv(x, w, attrs, fresh(cx.out[0]))],
  reduce_window: ([x], attrs, cx) => [reduceWindow(x, attrs, fresh(cx.out[0]))],
  gather: ([x, idx], attrs, cx) => [move.gather(x, idx, attrs, fresh(cx.out[0]))],
  scatter_add: ([x, idx, upd], attrs, cx) => [move.scatterAdd(x, idx, upd, attrs, fresh(cx.out[0]))],
  random_bits: ([key], _, cx) => {
    const out = fresh(cx.out[0]);
    randomBits(key.data[0], key.data[1], out.data as Int32Array);
    return [out];
  },

  fusion: (ins, _, cx) => runBlock(cx.regions[0], ins, cx.lookup, cx.promote, cx.budget),
  cond: ([pred, ...operands], _, cx) => runBlock(cx.regions[pred.data[0] ? 0 : 1], operands, cx.lookup, cx.promote, cx.budget),
  while: whileRule,
  scan: scanRule,
};

// ---- blocks --------------------------------------------------------------------------------------

/** Per block, computed once: which values die after each op, and which values its ops define. */
interface BlockPlan {
  readonly frees: readonly number[][];
  readonly own: ReadonlySet<number>;
}
const PLANS = new WeakMap<Block, BlockPlan>();

/** Every value id an op reads, including reads from inside its regions (of enclosing values). */
function readsOf(op: Op, into: Set<number>): Set<number> {
  for (const v of op.operands) into.add(v.id);
  for (const r of op.regions) {
    for (const inner of r.ops) readsOf(inner, into);
    for (const v of r.results) into.add(v.id);
  }
  return into;
}

function planOf(block: Block): BlockPlan {
  let plan = PLANS.get(block);
  if (plan) return plan;
  // Dropping each value after its last reader keeps a long Function's peak memory near its live set.
  const last = new Map<number, number>();
  block.ops.forEach((op, k) => {
    for (const id of readsOf(op, new Set())) last.set(id, k);
  });
  const keep = new Set(block.results.map((v) => v.id));
  const frees: number[][] = block.ops.map(() => []);
  for (const [id, k] of last) if (!keep.has(id)) frees[k].push(id);
  const own = new Set<number>();
  block.ops.forEach((op, k) => {
    for (const r of op.results) {
      own.add(r.id);
      if (!last.has(r.id) && !keep.has(r.id)) frees[k].push(r.id);
    }
  });
  plan = { frees, own };
  PLANS.set(block, plan);
  return plan;
}

/** Checks that `x` is a well-formed array of type `t` (storage dtype under promotion). */
function checkArg(where: string, what: string, t: TensorType, x: HostArray, promote: boolean): void {
  const dtype = storageDType(t.dtype, promote);
  if (x.dtype !== dtype || !shapeEqual(x.shape, t.shape)) {
    const held = dtype === t.dtype ? '' : ` (held as ${SHORT_NAME[dtype]})`;
    fail(where, `${what} must be ${typeToString(t)}${held}, got ${typeToString(x)}`);
  }
  checkData(where, what, x);
}

const STORAGE: Record<DType, unknown> = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };

/** Catches arrays whose typed array or length disagrees with their dtype and shape. */
function checkData(where: string, what: string, x: HostArray): void {
  if (x.data.constructor !== STORAGE[x.dtype] || x.data.length !== sizeOf(x.shape)) {
    fail(where, `${what} of type ${typeToString(x)} holds ${x.data.length} values in a ${x.data.constructor.name}`);
  }
}

function valueName(v: Value): string {
  return v.name === undefined ? `%${v.id}` : `%${v.name}`;
}

/** Runs a block; every result is a fresh array (params and enclosing values returned are copied). */
function runBlock(block: Block, args: readonly HostArray[], outer: Lookup | undefined, promote: boolean, budget: LoopBudget = loopBudget()): HostArray[] {
  if (args.length !== block.params.length) fail('interpret', `block takes ${block.params.length} argument(s), got ${args.length}`);
  block.params.forEach((p, i) => checkArg('interpret', `block argument ${i} (${valueName(p)})`, p.type, args[i], promote));
  const local = new Map<number, HostArray>();
  block.params.forEach((p, i) => local.set(p.id, args[i]));
  const lookup: Lookup = (id) => local.get(id) ?? outer?.(id);
  const get = (v: Value): HostArray => lookup(v.id) ?? fail('interpret', `value ${valueName(v)} is used but never defined`);
  const { frees, own } = planOf(block);
  block.ops.forEach((op, k) => {
    const ins = op.operands.map(get);
    const cx: EvalContext = { out: op.results.map((r) => storageType(r.type, promote)), regions: op.regions, lookup, promote, budget };
    let res: HostArray[];
    try {
      res = (RULES[op.prim] as unknown as AnyRule)(ins, op.attrs, cx);
    } catch (e) {
      // Point at the user's line once (the innermost op that knows it).
      if (e instanceof KilnError && op.loc && !e.message.includes(' (at ')) throw new KilnError(`${e.message} (at ${op.loc})`);
      throw e;
    }
    op.results.forEach((r, i) => local.set(r.id, res[i]));
    for (const id of frees[k]) local.delete(id);
  });
  const returned = new Set<HostArray>();
  return block.results.map((v) => {
    const x = get(v);
    if (!own.has(v.id) || returned.has(x)) return copy(x);
    returned.add(x);
    return x;
  });
}

// ---- entry points --------------------------------------------------------------------------------

/** Evaluates one primitive (the eager CPU path and constant folding); checks types via the op table. */
export function evalPrimitive(prim: Primitive, inputs: HostArray[], attrs: AnyAttrs, regions: readonly Block[] = []): HostArray[] {
  inputs.forEach((x, i) => checkData(prim, `operand ${i}`, x));
  const out = inferTypes(prim, inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })), attrs as Attrs<Primitive>, regions);
  return (RULES[prim] as unknown as AnyRule)(inputs, attrs, { out, regions, lookup: undefined, promote: false, budget: loopBudget() });
}

/**
 * Runs a block (a region or a function body) on `args`. `env` holds values of enclosing blocks
 * that the block's ops may read.
 */
export function interpretBlock(block: Block, args: HostArray[], env?: Map<number, HostArray>, options: InterpretOptions = {}): HostArray[] {
  return runBlock(block, args, env && ((id) => env.get(id)), options.promoteFloat32 === true, loopBudget(options.maxLoopIterations));
}

/**
 * Runs a Function. Arguments must match its parameter types; with `promoteFloat32`, float32
 * parameters accept float32 or float64 arrays and float32 results come back as float64.
 */
export function interpret(fn: Function, args: HostArray[], options: InterpretOptions = {}): HostArray[] {
  const where = `interpret @${fn.name}`;
  const { params } = fn.body;
  const promote = options.promoteFloat32 === true;
  if (args.length !== params.length) fail(where, `expects ${params.length} argument(s), got ${args.length}`);
  const inputs = args.map((x, i) => {
    const p = params[i];
    const what = `argument ${i} (${valueName(p)})`;
    if (promote && p.type.dtype === 'float32' && x.dtype === 'float32' && shapeEqual(x.shape, p.type.shape)) {
      checkData(where, what, x);
      return { dtype: 'float64' as const, shape: [...x.shape], data: Float64Array.from(x.data) };
    }
    checkArg(where, what, p.type, x, promote);
    return x;
  });
  return runBlock(fn.body, inputs, undefined, promote, loopBudget(options.maxLoopIterations));
}
