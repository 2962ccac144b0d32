// One VJP rule per differentiable primitive, written once over the Emit interface: the eager tape runs
// them on tensors, the IR pass on builder values. Non-differentiable rows of the op table map to null.
//
// Conventions: a rule gets the op's inputs, outputs and one cotangent per output (the drivers pass
// zeros for outputs nobody used), and returns one cotangent per input, null where there is none
// (integer operands, or `needs[i]` false: nobody asked for it). Every rule uses only primitives that
// have rules themselves, so gradients of gradients work. Ties of max/min (binary, reduce_max/min and
// reduce_window max) split the cotangent evenly among the tied elements, as JAX does.
import type { Block } from '../../ir/function.js';
import type { Attrs, BinaryOp, Primitive, UnaryOp } from '../../ir/ops.js';
import {
  Emit, add, broadcastIn, cast, div, eq, invertPerm, isFloatValue, maskWhere, mul, neg, op1, pad,
  reduceSum, reshape, scale, scalarLike, select, slice, sub, transpose, zerosLike,
} from './emit.js';
import { convLhsVjp, convRhsVjp, dotGeneralVjp, windowMaxVjp, windowSumVjp } from './vjp_contract.js';
import { condVjp, scanVjp, whileVjp } from './control_rules.js';

export interface VjpExtra<T> {
  /** needs[i]: whether input i's cotangent is wanted (false for inputs that do not depend on the wrt). */
  readonly needs: readonly boolean[];
  /** Values the IR pass saved while emitting the forward op (scan: the carries entering each step). */
  readonly residuals?: readonly T[];
}

export type VjpRule<P extends Primitive> = <T>(
  e: Emit<T>, ins: readonly T[], outs: readonly T[], cts: readonly T[], attrs: Attrs<P>, regions: readonly Block[], extra: VjpExtra<T>,
) => (T | null)[];

type ElementRule = <T>(e: Emit<T>, x: T, y: T, g: T) => T;
const unary = (f: ElementRule) => <T>(e: Emit<T>, [x]: readonly T[], [y]: readonly T[], [g]: readonly T[]) => [f(e, x, y, g)];

type BinaryRule = <T>(e: Emit<T>, a: T, b: T, y: T, g: T, needs: readonly boolean[]) => (T | null)[];
const binary = (f: BinaryRule) => <T>(e: Emit<T>, [a, b]: readonly T[], [y]: readonly T[], [g]: readonly T[], _a: unknown, _r: unknown, { needs }: VjpExtra<T>) => f(e, a, b, y, g, needs);

const gtZero = <T>(e: Emit<T>, x: T): T => op1(e, 'gt', [x, zerosLike(e, x)]);
/** Weight of `a` in max(a, b): 1 where a wins, 1/2 on ties, 0 where b wins. */
function winWeight<T>(e: Emit<T>, a: T, b: T, cmp: 'gt' | 'lt'): T {
  const half = select(e, eq(e, a, b), scalarLike(e, a, 0.5), zerosLike(e, a));
  return select(e, op1(e, cmp, [a, b]), scalarLike(e, a, 1), half);
}

const UNARY_RULES: { [P in UnaryOp]: VjpRule<P> | null } = {
  neg: unary((e, _x, _y, g) => neg(e, g)),
  abs: unary((e, x, _y, g) => mul(e, g, op1(e, 'sign', [x]))),
  exp: unary((e, _x, y, g) => mul(e, g, y)),
  log: unary((e, x, _y, g) => div(e, g, x)),
  sqrt: unary((e, _x, y, g) => div(e, scale(e, g, 0.5), y)),
  // d x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3
  rsqrt: unary((e, _x, y, g) => mul(e, scale(e, g, -0.5), mul(e, y, mul(e, y, y)))),
  sin: unary((e, x, _y, g) => mul(e, g, op1(e, 'cos', [x]))),
  cos: unary((e, x, _y, g) => neg(e, mul(e, g, op1(e, 'sin', [x])))),
  tanh: unary((e, _x, y, g) => mul(e, g, sub(e, scalarLike(e, y, 1), mul(e, y, y)))),
  sigmoid: unary((e, _x, y, g) => mul(e, g, mul(e, y, sub(e, scalarLike(e, y, 1), y)))),
  // relu'(0) = 0, like PyTorch and JAX.
  relu: unary((e, x, _y, g) => maskWhere(e, gtZero(e, x), g)),
  log1p: unary((e, x, _y, g) => div(e, g, add(e, x, scalarLike(e, x, 1)))),
  expm1: unary((e, _x, y, g) => mul(e, g, add(e, y, scalarLike(e, y, 1)))),
  erf: unary((e, x, _y, g) => mul(e, scale(e, g, 2 / Math.sqrt(Math.PI)), op1(e, 'exp', [neg(e, mul(e, x, x))]))),
  floor: null,
  ceil: null,
  round: null,
  sign: null,
  not: null,
  isnan: null,
};

const BINARY_RULES: { [P in BinaryOp]: VjpRule<P> | null } = {
  add: binary((_e, _a, _b, _y, g) => [g, g]),
  sub: binary((e, _a, _b, _y, g, n) => [g, n[1] ? neg(e, g) : null]),
  mul: binary((e, a, b, _y, g, n) => [n[0] ? mul(e, g, b) : null, n[1] ? mul(e, g, a) : null]),
  div: binary((e, _a, b, y, g, n) => [n[0] ? div(e, g, b) : null, n[1] ? neg(e, div(e, mul(e, g, y), b)) : null]),
  pow: binary((e, a, b, y, g, n) => {
    // d a^b/da = b a^(b-1) (0 where b = 0, so 0^0 stays finite); d/db = a^b log a (0 where a = 0).
    const isZero = (v: typeof a) => eq(e, v, zerosLike(e, v));
    const da = n[0] ? select(e, isZero(b), zerosLike(e, a), mul(e, b, op1(e, 'pow', [a, sub(e, b, scalarLike(e, b, 1))]))) : null;
    const safeA = select(e, isZero(a), scalarLike(e, a, 1), a);
    const db = n[1] ? select(e, isZero(a), zerosLike(e, a), mul(e, y, op1(e, 'log', [safeA]))) : null;
    return [da && mul(e, g, da), db && mul(e, g, db)];
  }),
  max: binary((e, a, b, _y, g) => {
    const ga = mul(e, g, winWeight(e, a, b, 'gt'));
    return [ga, sub(e, g, ga)];
  }),
  min: binary((e, a, b, _y, g) => {
    const ga = mul(e, g, winWeight(e, a, b, 'lt'));
    return [ga, sub(e, g, ga)];
  }),
  // a mod b = a - floor(a / b) * b (float remainder; int operands have no gradient).
  mod: binary((e, a, b, _y, g, n) => [g, n[1] ? neg(e, mul(e, g, op1(e, 'floor', [div(e, a, b)]))) : null]),
  atan2: binary((e, a, b, _y, g) => {
    const r2 = add(e, mul(e, a, a), mul(e, b, b));
    return [div(e, mul(e, g, b), r2), neg(e, div(e, mul(e, g, a), r2))];
  }),
  eq: null, ne: null, lt: null, le: null, gt: null, ge: null, and: null, or: null,
};

/** Broadcasts a reduced value back over the reduced axes. */
function unreduce<T>(e: Emit<T>, v: T, shape: readonly number[], axes: readonly number[]): T {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return broadcastIn(e, v, shape, kept);
}

/** max/min reductions: the cotangent goes to the elements equal to the result, split among ties. */
const extremumVjp: VjpRule<'reduce_max' | 'reduce_min'> = (e, [x], [y], [g], { axes }) => {
  const shape = e.type(x).shape;
  const mask = eq(e, x, unreduce(e, y, shape, axes));
  const count = reduceSum(e, cast(e, mask, e.type(x).dtype), axes);
  return [maskWhere(e, mask, unreduce(e, div(e, g, count), shape, axes))];
};

export const vjpRules: { [P in Primitive]: VjpRule<P> | null } = {
  ...UNARY_RULES,
  ...BINARY_RULES,

  reduce_sum: (e, [x], _y, [g], { axes }) => [unreduce(e, g, e.type(x).shape, axes)],
  reduce_max: extremumVjp,
  reduce_min: extremumVjp,
  // d prod / d x_i = product of the others: y / x_i without zeros; with one zero only that slot gets
  // the product of the non-zeros; with two or more zeros everything is 0.
  reduce_prod: (e, [x], _y, [g], { axes }) => {
    const shape = e.type(x).shape;
    const isZero = eq(e, x, zerosLike(e, x));
    const nonZero = select(e, isZero, scalarLike(e, x, 1), x);
    const prodNz = unreduce(e, op1(e, 'reduce_prod', [nonZero], { axes: [...axes] }), shape, axes);
    const zeros = unreduce(e, reduceSum(e, cast(e, isZero, e.type(x).dtype), axes), shape, axes);
    const zerosAre = (k: number) => eq(e, zeros, scalarLike(e, zeros, k));
    const onZero = maskWhere(e, zerosAre(1), prodNz);
    const offZero = maskWhere(e, zerosAre(0), div(e, prodNz, nonZero));
    return [mul(e, unreduce(e, g, shape, axes), select(e, isZero, onZero, offZero))];
  },

  cast: (e, [x], _y, [g]) => [isFloatValue(e, x) ? cast(e, g, e.type(x).dtype) : null],
  select: (e, [p], _y, [g]) => {
    const z = zerosLike(e, g);
    return [null, select(e, p, g, z), select(e, p, z, g)];
  },

  reshape: (e, [x], _y, [g]) => [reshape(e, g, e.type(x).shape)],
  broadcast: (e, [x], _y, [g], { shape, dims }) => {
    const xs = e.type(x).shape;
    const summed = shape.map((_, d) => d).filter((d) => {
      const i = dims.indexOf(d);
      return i < 0 || (xs[i] === 1 && shape[d] !== 1);
    });
    return [reshape(e, reduceSum(e, g, summed), xs)];
  },
  transpose: (e, _x, _y, [g], { perm }) => [transpose(e, g, invertPerm(perm))],
  // The adjoint of a strided slice scatters g back with interior padding stride-1.
  slice: (e, [x], [y], [g], { start, stride }) => {
    const xs = e.type(x).shape;
    const ys = e.type(y).shape;
    const high = xs.map((d, i) => (ys[i] > 0 ? d - start[i] - (ys[i] - 1) * stride[i] - 1 : d - start[i]));
    return [pad(e, g, start, high, stride.map((s) => s - 1))];
  },
  // The adjoint of pad: undo negative (cropping) pads with zeros, then take every (interior+1)-th element.
  pad: (e, [x], _y, [g], { low, high, interior }) => {
    const xs = e.type(x).shape;
    const grown = pad(e, g, low.map((l) => Math.max(-l, 0)), high.map((h) => Math.max(-h, 0)), low.map(() => 0));
    const start = low.map((l) => Math.max(l, 0));
    const limit = xs.map((d, i) => (d === 0 ? start[i] : start[i] + (d - 1) * (interior[i] + 1) + 1));
    return [slice(e, grown, start, limit, interior.map((s) => s + 1))];
  },
  concat: (e, ins, _y, [g], { axis }, _r, { needs }) => {
    const gs = e.type(g).shape;
    let at = 0;
    return ins.map((x, i) => {
      const n = e.type(x).shape[axis];
      const start = gs.map((_, d) => (d === axis ? at : 0));
      const limit = gs.map((s, d) => (d === axis ? at + n : s));
      at += n;
      return needs[i] ? slice(e, g, start, limit) : null;
    });
  },
  flip: (e, _x, _y, [g], { axes }) => [op1(e, 'flip', [g], { axes: [...axes] })],

  dot_general: (e, [a, b], _y, [g], attrs, _r, { needs }) => dotGeneralVjp(e, a, b, g, attrs, needs),
  conv: (e, [x, w], _y, [g], attrs, _r, { needs }) => [
    needs[0] ? convLhsVjp(e, g, w, e.type(x).shape, attrs) : null,
    needs[1] ? convRhsVjp(e, x, g, e.type(w).shape, attrs) : null,
  ],
  reduce_window: (e, [x], [y], [g], attrs) => [attrs.kind === 'sum' ? windowSumVjp(e, x, g, attrs) : windowMaxVjp(e, x, y, g, attrs)],
  gather: (e, [x, idx], _y, [g], { axis }) => [op1(e, 'scatter_add', [zerosLike(e, x), idx, g], { axis }), null],
  scatter_add: (e, [, idx], _y, [g], { axis }, _r, { needs }) => [g, null, needs[2] ? op1(e, 'gather', [g, idx], { axis }) : null],

  cond: condVjp,
  while: whileVjp,
  scan: scanVjp,

  constant: null,
  iota: null,
  argmax: null,
  argmin: null,
  random_bits: null,
  // Fusion runs after autodiff in the pipeline; a fused Function is not differentiated again.
  fusion: null,
};

