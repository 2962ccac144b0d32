// Random well-typed Functions for the text-format property tests: a tape of integers (what fast-check
// shrinks) drives one maker per primitive, so every op of the table, with varied attributes, nested
// cond/while/scan/fusion regions, captures, odd names and locs, can appear in a printed program.
import { Builder } from '../../src/ir/builder.js';
import { DTYPES, isFloat } from '../../src/ir/dtype.js';
import type { DType } from '../../src/ir/dtype.js';
import type { Block, Function, Value } from '../../src/ir/function.js';
import {
  BINARY_OPS, CONTROL_OPS, FLOAT_UNARY_OPS, FUSION_KINDS, PRIMITIVES, REDUCE_OPS, UNARY_OPS,
} from '../../src/ir/ops.js';
import type { Attrs, BinaryOp, Primitive, ReduceOp, UnaryOp } from '../../src/ir/ops.js';
import { TensorType, shapeEqual, sizeOf } from '../../src/ir/shape.js';

/** Integers read in order; past the end it reads zeros, which steer every choice to its simplest. */
export class Tape {
  private i = 0;
  constructor(private readonly xs: readonly number[]) {}
  /** An integer in [0, n). */
  int(n: number): number {
    if (n <= 1) return 0;
    const x = this.i < this.xs.length ? this.xs[this.i++] : 0;
    return x % n;
  }
  bool(): boolean {
    return this.int(2) === 1;
  }
  choose<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

export interface Ctx {
  readonly b: Builder;
  /** Values this block may read: its own so far, plus the enclosing blocks' (captures). */
  readonly pool: Value[];
  readonly tape: Tape;
  readonly depth: number;
}

const MAX_DEPTH = 3;
const LOCS = [undefined, undefined, undefined, 'model.ts:3:5', 'a "quoted" \\ path.ts:1:2', 'ünï\u{1F525}.ts:9:9', 'x\ny'];
const PARAM_NAMES = [undefined, undefined, 'x', 'w_1', 'arg0', 'a b', '_', 'x', 'loc', 'f32', '9lives'];
const FLOATS = [0, -0, 1, -1.5, 0.1, 1 / 3, NaN, Infinity, -Infinity, 1e-45, 5e-324, 3.4028234663852886e38, -1e300, 2 ** 53 + 2, 123456789012345680000];
const INTS = [0, 1, -1, 42, 2147483647, -2147483648];

/** Parameters every program starts with, so each maker finds the operand kinds it needs. */
export const BASE_PARAMS: TensorType[] = [
  { dtype: 'float32', shape: [2, 3] },
  { dtype: 'float32', shape: [3, 2] },
  { dtype: 'float32', shape: [] },
  { dtype: 'bool', shape: [] },
  { dtype: 'bool', shape: [2, 3] },
  { dtype: 'int32', shape: [2, 3] },
  { dtype: 'int32', shape: [2] },
  { dtype: 'int32', shape: [3] },
  { dtype: 'float64', shape: [4] },
  { dtype: 'float32', shape: [1, 2, 5, 4] },
  { dtype: 'float32', shape: [2, 4, 3] },
  { dtype: 'float32', shape: [0, 3] },
];

type Pred = (v: Value) => boolean;
const any: Pred = () => true;
const float: Pred = (v) => isFloat(v.type.dtype);
const notFloat: Pred = (v) => !isFloat(v.type.dtype);
const numeric: Pred = (v) => v.type.dtype !== 'bool';
const rankAtLeast = (r: number): Pred => (v) => v.type.shape.length >= r;
const sameType = (t: TensorType): Pred => (v) => v.type.dtype === t.dtype && shapeEqual(v.type.shape, t.shape);
const and = (...ps: Pred[]): Pred => (v) => ps.every((p) => p(v));

function pick(c: Ctx, pred: Pred = any): Value | undefined {
  const vs = c.pool.filter(pred);
  return vs.length ? c.tape.choose(vs) : undefined;
}

/** Appends one op with a random loc and adds its results to the pool. */
function emit<P extends Primitive>(c: Ctx, prim: P, operands: Value[], attrs: Attrs<P>, regions: Block[] = []): Value[] {
  const out = c.b.op(prim, operands, attrs, regions, c.tape.choose(LOCS));
  c.pool.push(...out);
  return out;
}

const subset = (c: Ctx, n: number) => [...Array(n).keys()].filter(() => c.tape.bool());
function permutation(c: Ctx, n: number): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = c.tape.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
const smallShape = (c: Ctx, minRank = 0) => Array.from({ length: minRank + c.tape.int(3 - minRank + 1) }, () => c.tape.int(4));
const valuesFor = (c: Ctx, dtype: DType): number[] => [dtype === 'bool' ? c.tape.int(2) : c.tape.choose(isFloat(dtype) ? FLOATS : INTS)];

// ---- blocks and regions ---------------------------------------------------------------------------

/** A region: params of `types` (sometimes named), some random ops, results chosen by `results`. */
function region(c: Ctx, types: TensorType[], closed: boolean, results: (r: Ctx) => Value[]): Block {
  const b = new Builder();
  const params = types.map((t) => b.param(t, c.tape.choose(PARAM_NAMES)));
  const r: Ctx = { b, pool: closed ? [...params] : [...c.pool, ...params], tape: c.tape, depth: c.depth + 1 };
  randomSteps(r, c.tape.int(4));
  return b.block(results(r));
}

/** For each type, a value of that type readable in `r` (one always exists: captured or a param). */
const valuesOfTypes = (r: Ctx, types: TensorType[]) => types.map((t) => pick(r, sameType(t))!);
function someValues(c: Ctx, max: number, pred: Pred = any): Value[] {
  const n = c.tape.int(max + 1);
  const out: Value[] = [];
  for (let i = 0; i < n; i++) {
    const v = pick(c, pred);
    if (v) out.push(v);
  }
  return out;
}

// ---- one maker per primitive ----------------------------------------------------------------------

type Maker = (c: Ctx) => boolean;

const unary = (name: UnaryOp): Maker => (c) => {
  const x = pick(c, FLOAT_UNARY_OPS.has(name) ? float : name === 'not' ? notFloat : any);
  if (!x) return false;
  emit(c, name, [x], {});
  return true;
};

const binary = (name: BinaryOp): Maker => (c) => {
  const x = pick(c, name === 'and' || name === 'or' ? notFloat : name === 'atan2' ? float : any);
  if (!x) return false;
  emit(c, name, [x, pick(c, sameType(x.type))!], {});
  return true;
};

const reduce = (name: ReduceOp): Maker => (c) => {
  const x = pick(c, name === 'reduce_sum' || name === 'reduce_prod' ? numeric : any);
  if (!x) return false;
  emit(c, name, [x], { axes: subset(c, x.type.shape.length) });
  return true;
};

const arg = (name: 'argmax' | 'argmin'): Maker => (c) => {
  const x = pick(c, (v) => v.type.shape.some((d) => d > 0));
  if (!x) return false;
  const axes = x.type.shape.flatMap((d, i) => (d > 0 ? [i] : []));
  emit(c, name, [x], { axis: c.tape.choose(axes) });
  return true;
};

function cond(c: Ctx): boolean {
  const p = pick(c, sameType({ dtype: 'bool', shape: [] }));
  if (!p) return false;
  const operands = someValues(c, 2);
  const resultTypes = someValues(c, 2).map((v) => v.type);
  const types = operands.map((v) => v.type);
  const branch = () => region(c, types, false, (r) => valuesOfTypes(r, resultTypes));
  emit(c, 'cond', [p, ...operands], {}, [branch(), branch()]);
  return true;
}

function whileLoop(c: Ctx): boolean {
  const init = someValues(c, 2);
  const types = init.map((v) => v.type);
  const condRegion = region(c, types, false, (r) => {
    const p = pick(r, sameType({ dtype: 'bool', shape: [] }));
    return [p ?? r.b.constant(1, 'bool')];
  });
  const body = region(c, types, false, (r) => valuesOfTypes(r, types));
  emit(c, 'while', init, {}, [condRegion, body]);
  return true;
}

function scan(c: Ctx): boolean {
  const carry = someValues(c, 2);
  const lead = c.tape.bool() ? pick(c, rankAtLeast(1)) : undefined;
  const length = lead ? lead.type.shape[0] : c.tape.int(4);
  const xs = lead ? [lead, ...someValues(c, 1, (v) => v.type.shape.length >= 1 && v.type.shape[0] === length)] : [];
  const carryTypes = carry.map((v) => v.type);
  const sliceTypes = xs.map((v) => ({ dtype: v.type.dtype, shape: v.type.shape.slice(1) }));
  const body = region(c, [...carryTypes, ...sliceTypes], false, (r) => [...valuesOfTypes(r, carryTypes), ...someValues(r, 2)]);
  emit(c, 'scan', [...carry, ...xs], { length, numCarry: carry.length, reverse: c.tape.bool() }, [body]);
  return true;
}

function fusion(c: Ctx): boolean {
  const inputs = [pick(c)!, ...someValues(c, 2)];
  // Kernels are closed: the body reads only its params, as the fuse pass builds them.
  const body = region(c, inputs.map((v) => v.type), true, (r) => [pick(r)!, ...someValues(r, 1)]);
  emit(c, 'fusion', inputs, { kind: c.tape.choose(FUSION_KINDS) }, [body]);
  return true;
}

export const MAKERS: { [P in Primitive]: Maker } = {
  ...(Object.fromEntries(UNARY_OPS.map((n) => [n, unary(n)])) as { [P in UnaryOp]: Maker }),
  ...(Object.fromEntries(BINARY_OPS.map((n) => [n, binary(n)])) as { [P in BinaryOp]: Maker }),
  ...(Object.fromEntries(REDUCE_OPS.map((n) => [n, reduce(n)])) as { [P in ReduceOp]: Maker }),
  argmax: arg('argmax'),
  argmin: arg('argmin'),
  constant(c) {
    const dtype = c.tape.choose(DTYPES);
    const shape = smallShape(c);
    const n = sizeOf(shape);
    const value = c.tape.bool() ? valuesFor(c, dtype) : Array.from({ length: n }, () => valuesFor(c, dtype)[0]);
    emit(c, 'constant', [], { value, dtype, shape });
    return true;
  },
  iota(c) {
    const shape = smallShape(c, 1);
    emit(c, 'iota', [], { shape, dimension: c.tape.int(shape.length), dtype: c.tape.choose(['int32', 'float32', 'float64'] as const) });
    return true;
  },
  cast(c) {
    emit(c, 'cast', [pick(c)!], { dtype: c.tape.choose(DTYPES) });
    return true;
  },
  select(c) {
    const a = pick(c)!;
    const b = pick(c, sameType(a.type))!;
    const p = pick(c, sameType({ dtype: 'bool', shape: a.type.shape })) ?? emit(c, 'eq', [a, a], {})[0];
    emit(c, 'select', [p, a, b], {});
    return true;
  },
  reshape(c) {
    const x = pick(c)!;
    const s = x.type.shape;
    const shape = c.tape.choose([[sizeOf(s)], [...s, 1], [1, ...s], [...s].reverse()]);
    emit(c, 'reshape', [x], { shape });
    return true;
  },
  broadcast(c) {
    const x = pick(c)!;
    const shape: number[] = [];
    const dims: number[] = [];
    const maybeNew = () => {
      if (shape.length < 5 && c.tape.bool()) shape.push(1 + c.tape.int(3));
    };
    for (const d of x.type.shape) {
      maybeNew();
      shape.push(d === 1 ? 1 + c.tape.int(3) : d);
      dims.push(shape.length - 1);
    }
    maybeNew();
    emit(c, 'broadcast', [x], { shape, dims });
    return true;
  },
  transpose(c) {
    const x = pick(c)!;
    emit(c, 'transpose', [x], { perm: permutation(c, x.type.shape.length) });
    return true;
  },
  slice(c) {
    const x = pick(c)!;
    const start = x.type.shape.map((d) => c.tape.int(d + 1));
    const limit = x.type.shape.map((d, i) => start[i] + c.tape.int(d - start[i] + 1));
    emit(c, 'slice', [x], { start, limit, stride: x.type.shape.map(() => 1 + c.tape.int(3)) });
    return true;
  },
  pad(c) {
    const x = pick(c)!;
    // Negative padding only where the dimension can afford it (the result stays >= 0).
    const edge = (d: number) => (d >= 2 ? c.tape.int(4) - 1 : c.tape.int(3));
    const low = x.type.shape.map(edge);
    const high = x.type.shape.map(edge);
    const interior = x.type.shape.map(() => c.tape.int(3));
    emit(c, 'pad', [x], { low, high, interior, value: c.tape.choose(FLOATS) });
    return true;
  },
  concat(c) {
    const x = pick(c, rankAtLeast(1));
    if (!x) return false;
    const axis = c.tape.int(x.type.shape.length);
    const fits: Pred = (v) =>
      v.type.dtype === x.type.dtype && v.type.shape.length === x.type.shape.length && v.type.shape.every((d, i) => i === axis || d === x.type.shape[i]);
    emit(c, 'concat', [x, ...someValues(c, 2, fits)], { axis });
    return true;
  },
  flip(c) {
    const x = pick(c)!;
    emit(c, 'flip', [x], { axes: subset(c, x.type.shape.length) });
    return true;
  },
  dot_general(c) {
    const a = pick(c, numeric);
    if (!a) return false;
    const r = a.type.shape.length;
    // The rhs is the lhs, maybe transposed, so contracting and batch sizes agree by construction.
    const perm = c.tape.bool() ? permutation(c, r) : [...Array(r).keys()];
    const b = perm.every((p, i) => p === i) ? a : emit(c, 'transpose', [a], { perm })[0];
    const roles = a.type.shape.map(() => c.tape.int(3)); // 0 free, 1 contract, 2 batch
    const dimsOf = (role: number) => roles.flatMap((x, i) => (x === role ? [i] : []));
    const inB = (dims: number[]) => dims.map((i) => perm.indexOf(i));
    const ca = dimsOf(1);
    const ba = dimsOf(2);
    emit(c, 'dot_general', [a, b], { contract: [ca, inB(ca)], batch: [ba, inB(ba)] });
    return true;
  },
  conv(c) {
    const x = pick(c, and(float, rankAtLeast(3), (v) => v.type.shape.every((d) => d >= 1)));
    if (!x) return false;
    const [, channels, ...spatial] = x.type.shape;
    const divisors = [...Array(channels).keys()].map((i) => i + 1).filter((g) => channels % g === 0);
    const groups = c.tape.choose(divisors);
    const stride = spatial.map(() => 1 + c.tape.int(2));
    const lhsDilation = spatial.map(() => 1 + c.tape.int(2));
    const rhsDilation = spatial.map(() => 1 + c.tape.int(2));
    const padding = spatial.map(() => [c.tape.int(2), c.tape.int(2)] as [number, number]);
    const kernel = spatial.map((d, i) => {
      const extent = (d - 1) * lhsDilation[i] + 1 + padding[i][0] + padding[i][1];
      const most = Math.floor((extent - 1) / rhsDilation[i]) + 1; // keeps the kernel inside the padded input
      return 1 + c.tape.int(Math.min(most, 3));
    });
    const w = emit(c, 'constant', [], { value: valuesFor(c, x.type.dtype), dtype: x.type.dtype, shape: [groups * (1 + c.tape.int(2)), channels / groups, ...kernel] })[0];
    emit(c, 'conv', [x, w], { stride, padding, lhsDilation, rhsDilation, groups });
    return true;
  },
  reduce_window(c) {
    const x = pick(c, and(numeric, rankAtLeast(1)));
    if (!x) return false;
    const nd = 1 + c.tape.int(x.type.shape.length);
    const dims = x.type.shape.slice(-nd);
    const padding = dims.map(() => [c.tape.int(2), c.tape.int(2)] as [number, number]);
    const window = dims.map((d, i) => 1 + c.tape.int(Math.max(1, d + padding[i][0] + padding[i][1])));
    const stride = dims.map(() => 1 + c.tape.int(2));
    emit(c, 'reduce_window', [x], { kind: c.tape.choose(['max', 'sum'] as const), window, stride, padding });
    return true;
  },
  gather(c) {
    const x = pick(c, rankAtLeast(1));
    const idx = pick(c, (v) => v.type.dtype === 'int32');
    if (!x || !idx) return false;
    emit(c, 'gather', [x, idx], { axis: c.tape.int(x.type.shape.length) });
    return true;
  },
  scatter_add(c) {
    const x = pick(c, and(numeric, rankAtLeast(1)));
    const idx = pick(c, (v) => v.type.dtype === 'int32');
    if (!x || !idx) return false;
    const axis = c.tape.int(x.type.shape.length);
    const updates = emit(c, 'gather', [x, idx], { axis })[0]; // shaped like a gather result by definition
    emit(c, 'scatter_add', [x, idx, updates], { axis });
    return true;
  },
  random_bits(c) {
    const key = pick(c, sameType({ dtype: 'int32', shape: [2] }));
    if (!key) return false;
    emit(c, 'random_bits', [key], { shape: smallShape(c) });
    return true;
  },
  fusion,
  cond,
  while: whileLoop,
  scan,
};

const CONTROL = new Set<Primitive>([...CONTROL_OPS, 'fusion']);

/** `n` ops drawn uniformly from the whole table (control flow only while shallow enough). */
export function randomSteps(c: Ctx, n: number): void {
  for (let i = 0; i < n; i++) {
    const prim = c.tape.choose(PRIMITIVES);
    if (CONTROL.has(prim) && c.depth >= MAX_DEPTH) continue;
    MAKERS[prim](c);
  }
}

/** A fresh context over the base parameters (named from the tape, duplicates and bad names included). */
export function baseContext(tape: Tape): Ctx {
  const b = new Builder();
  const pool = BASE_PARAMS.map((t) => b.param(t, tape.choose(PARAM_NAMES)));
  return { b, pool, tape, depth: 0 };
}

/** A random program: random ops, then a few readable values as its results. */
export function randomFunction(tape: Tape): Function {
  const c = baseContext(tape);
  randomSteps(c, 1 + tape.int(12));
  const n = tape.int(4);
  const results = Array.from({ length: n }, () => c.tape.choose(c.pool));
  return c.b.finish(tape.choose(['f', 'main', 'step_1', 'with space', '"q"']), results);
}

/** A program built around one `prim` (the maker must succeed on the base parameters). */
export function functionWith(prim: Primitive, tape: Tape): Function {
  const c = baseContext(tape);
  const before = c.pool.length;
  if (!MAKERS[prim](c)) throw new Error(`maker for ${prim} found no operands`);
  return c.b.finish('one', c.pool.slice(before));
}
