// Random well-typed programs written with Kiln's PUBLIC ops, for differential fuzzing. A program is a
// JS function driven by a tape of integers (what fast-check draws and shrinks): every run reads the
// same integers in the same order, so eager, jitted, traced (makeIR) and wasm runs build one program.
// Every tape read happens outside cond/scan bodies (eager mode runs only one branch, jit traces both).
import * as K from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

/** Integers read in order; past the end zeros, which steer every choice to its simplest option. */
export class Tape {
  private i = 0;
  constructor(private readonly xs: readonly number[]) {}
  /** Integers read so far. */
  get consumed(): number {
    return this.i;
  }
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

/** A pool entry: `exact` values are bit-identical in every mode (inputs moved around, comparisons of them). */
interface Slot {
  t: Tensor;
  exact: boolean;
}

export interface GenOptions {
  /** Ops per program (upper bound; the tape may pick fewer). */
  maxOps?: number;
  /** Only differentiable structure (no whileLoop: reverse mode does not go through it). */
  differentiable?: boolean;
}

export interface Program {
  /** Float32 input shapes. */
  shapes: number[][];
  /** The program over tensors; returns the chosen outputs. */
  fn: (...xs: Tensor[]) => Tensor[];
}

const DIMS = [1, 2, 3, 4, 2, 3, 0, 1, 5];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Deterministic values in ±(0.1..2) from a seed (never zero, so kinks at 0 are not hit by chance). */
export function seededValues(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    const m = 0.1 + 1.9 * ((u * 7919) % 1);
    out[i] = u < 0.5 ? -m : m;
  }
  return out;
}

function randomShape(tape: Tape): number[] {
  const rank = tape.choose([2, 1, 0, 3, 2]);
  return Array.from({ length: rank }, () => tape.choose(DIMS));
}

/** A random factorization of `n` elements into up to 3 dims (n = 0 keeps one zero dim). */
function reshapeTarget(tape: Tape, n: number, like: readonly number[]): number[] {
  const kind = tape.int(4);
  if (kind === 0) return [n];
  if (n === 0) return tape.choose([[0, 2], [2, 0], [1, 0, 3], [0]]);
  if (kind === 1) return tape.bool() ? [1, ...like] : [...like, 1];
  const divisors = [...Array(n).keys()].map((i) => i + 1).filter((d) => n % d === 0);
  const a = tape.choose(divisors);
  const rest = n / a;
  if (kind === 2) return [a, rest];
  const ds = divisors.filter((d) => rest % d === 0);
  const b = tape.choose(ds.length ? ds : [1]);
  return [a, b, rest / b];
}

/** Any tensor reshaped/sliced/padded to `shape` (keeps programs well typed whatever the pool holds). */
function fit(x: Tensor, shape: readonly number[], padValue: number): Tensor {
  const n = size(shape);
  let f = K.reshape(x, [x.size]);
  if (x.size > n) f = K.slice(f, [0], [n]);
  else if (x.size < n) f = K.pad(f, [[0, n - x.size]], { value: padValue });
  return K.reshape(f, [...shape]);
}

/** A shape that broadcasts against `s`: some dims set to 1, some leading dims dropped. */
function broadcastPartner(tape: Tape, s: readonly number[]): number[] {
  const drop = tape.int(s.length + 1);
  return s.slice(drop).map((d) => (tape.int(3) === 0 ? 1 : d));
}

type Unary = (x: Tensor) => Tensor;
/** Shape-preserving float ops; unbounded ones are squashed so chains stay finite. */
const UNARY: readonly [string, Unary][] = [
  ['neg', K.neg],
  ['abs', K.abs],
  ['tanh', K.tanh],
  ['sigmoid', K.sigmoid],
  ['sin', K.sin],
  ['cos', K.cos],
  ['relu', K.relu],
  ['square', (x) => K.square(K.tanh(x))],
  ['exp', (x) => K.exp(K.tanh(x))],
  ['log1p', (x) => K.log1p(K.abs(x))],
  ['sqrt', (x) => K.sqrt(K.add(K.abs(x), 0.25))],
  ['rsqrt', (x) => K.rsqrt(K.add(K.square(x), 0.5))],
  ['log', (x) => K.log(K.add(K.sigmoid(x), 0.1))],
  ['erf', K.erf],
  ['expm1', (x) => K.expm1(K.tanh(x))],
  ['softplus', K.softplus],
  ['gelu', K.gelu],
  ['silu', K.silu],
  ['elu', K.elu],
  ['leakyRelu', K.leakyRelu],
  ['logSigmoid', K.logSigmoid],
  ['mul-const', (x) => K.mul(x, -1.5)],
  ['add-const', (x) => K.add(x, 0.75)],
];

type Binary = (a: Tensor, b: Tensor) => Tensor;
const BINARY: readonly [string, Binary][] = [
  ['add', K.add],
  ['sub', K.sub],
  ['mul', K.mul],
  ['maximum', K.maximum],
  ['minimum', K.minimum],
  ['div', (a, b) => K.div(a, K.add(K.abs(b), 0.5))],
  ['pow', (a, b) => K.pow(K.add(K.abs(a), 0.5), K.tanh(b))],
  ['atan2', (a, b) => K.atan2(a, K.add(K.abs(b), 0.25))],
  ['where', (a, b) => K.where(K.gt(a, b), a, b)],
];

const PAD_VALUES = [0.5, -1, 0, 2];

/**
 * Builds the program for `ints`. `fn` makes a fresh Tape on every call: all modes see one program.
 */
export function makeProgram(ints: readonly number[], opts: GenOptions = {}): Program {
  const head = new Tape(ints);
  const nInputs = 1 + head.int(3);
  const shapes = Array.from({ length: nInputs }, () => randomShape(head));
  const body = ints.slice(head.consumed);
  const maxOps = opts.maxOps ?? 8;
  const fn = (...xs: Tensor[]): Tensor[] => {
    const tape = new Tape(body);
    const pool: Slot[] = xs.map((t) => ({ t, exact: true }));
    const nOps = 1 + tape.int(maxOps);
    for (let k = 0; k < nOps; k++) step(tape, pool, opts);
    // Outputs: the last value plus up to two earlier ones.
    const outs = [pool[pool.length - 1].t];
    for (let j = tape.int(3); j > 0; j--) outs.push(tape.choose(pool).t);
    return outs;
  };
  return { shapes, fn };
}

const pickFloat = (tape: Tape, pool: Slot[]) => tape.choose(pool.filter((s) => s.t.dtype === 'float32'));

function step(tape: Tape, pool: Slot[], opts: GenOptions): void {
  const kinds = opts.differentiable ? KINDS.filter(([n]) => n !== 'while' && n !== 'discrete') : KINDS;
  const [, make] = tape.choose(kinds);
  const s = make(tape, pool);
  if (s) pool.push(s);
}

type Maker = (tape: Tape, pool: Slot[]) => Slot | undefined;

const KINDS: readonly [string, Maker][] = [
  ['unary', (tape, pool) => {
    const x = pickFloat(tape, pool);
    const [name, f] = tape.choose(UNARY);
    return { t: f(x.t), exact: x.exact && (name === 'neg' || name === 'abs') };
  }],
  ['binary', (tape, pool) => {
    const a = pickFloat(tape, pool);
    let b = pickFloat(tape, pool);
    const target = broadcastPartner(tape, a.t.shape);
    const bt = fit(b.t, target, tape.choose(PAD_VALUES));
    b = { t: bt, exact: b.exact };
    const swap = tape.bool();
    const [, f] = tape.choose(BINARY);
    return { t: swap ? f(b.t, a.t) : f(a.t, b.t), exact: false };
  }],
  ['reduce', (tape, pool) => {
    const x = pickFloat(tape, pool);
    const r = x.t.ndim;
    const form = tape.int(3);
    const axis = form === 0 || r === 0 ? undefined : form === 1 ? tape.int(r) - (tape.bool() ? r : 0) : [...Array(r).keys()].filter(() => tape.bool());
    const keepdims = tape.bool();
    const o = { axis, keepdims };
    const which = tape.int(7);
    // Reductions over empty axes: sum/mean are fine (0, NaN); max/min of nothing is ±inf; keep those apart.
    const empty = x.t.size === 0;
    const t = [
      () => K.sum(x.t, o),
      () => K.mean(x.t, o),
      () => (empty ? K.sum(x.t, o) : K.max(x.t, o)),
      () => (empty ? K.sum(x.t, o) : K.min(x.t, o)),
      () => K.logSumExp(x.t, o),
      () => K.prod(K.tanh(x.t), o),
      () => K.variance(x.t, o),
    ][which]();
    return { t, exact: false };
  }],
  ['normalize', (tape, pool) => {
    const x = pickFloat(tape, pool);
    if (x.t.ndim === 0) return undefined;
    const axis = tape.int(x.t.ndim) - x.t.ndim;
    const t = tape.choose([() => K.softmax(x.t, { axis }), () => K.logSoftmax(x.t, { axis }), () => K.cumsum(x.t, { axis })])();
    return { t, exact: false };
  }],
  ['reshape', (tape, pool) => {
    const x = tape.choose(pool);
    return { t: K.reshape(x.t, reshapeTarget(tape, x.t.size, x.t.shape)), exact: x.exact };
  }],
  ['transpose', (tape, pool) => {
    const x = tape.choose(pool);
    const perm = [...Array(x.t.ndim).keys()];
    for (let i = perm.length - 1; i > 0; i--) {
      const j = tape.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    return { t: K.transpose(x.t, perm), exact: x.exact };
  }],
  ['slice', (tape, pool) => {
    const x = tape.choose(pool);
    const starts = x.t.shape.map((d) => tape.int(d + 1));
    const ends = x.t.shape.map((d, i) => starts[i] + tape.int(d - starts[i] + 1));
    const steps = x.t.shape.map(() => tape.choose([1, 1, 2, -1]));
    // A negative step walks from `end` down: swap bounds so the range stays inside the axis.
    const s2 = starts.map((s, i) => (steps[i] < 0 ? Math.max(ends[i] - 1, 0) : s));
    const e2 = ends.map((e, i) => (steps[i] < 0 ? (starts[i] > 0 ? starts[i] - 1 : undefined) : e));
    return { t: K.slice(x.t, s2, e2, steps), exact: x.exact };
  }],
  ['pad', (tape, pool) => {
    const x = tape.choose(pool);
    const widths = x.t.shape.map(() => [tape.int(3), tape.int(2)] as [number, number]);
    const value = tape.choose(PAD_VALUES);
    return { t: K.pad(x.t, widths, { value: x.t.dtype === 'bool' ? 0 : value }), exact: x.exact };
  }],
  ['concat', (tape, pool) => {
    const a = pickFloat(tape, pool);
    if (a.t.ndim === 0) return undefined;
    const b = pickFloat(tape, pool);
    const axis = tape.int(a.t.ndim);
    const shape = a.t.shape.map((d, i) => (i === axis ? tape.int(3) : d));
    const bt = fit(b.t, shape, tape.choose(PAD_VALUES));
    const stack = tape.bool() && shape[axis] === a.t.shape[axis];
    return { t: stack ? K.stack([a.t, bt], axis) : K.concat([a.t, bt], axis), exact: a.exact && b.exact };
  }],
  ['flip', (tape, pool) => {
    const x = tape.choose(pool);
    if (x.t.ndim === 0) return undefined;
    return { t: K.flip(x.t, tape.int(x.t.ndim)), exact: x.exact };
  }],
  ['broadcast', (tape, pool) => {
    const x = tape.choose(pool);
    const lead = Array.from({ length: tape.int(2) }, () => tape.choose([1, 2, 3, 0]));
    const shape = [...lead, ...x.t.shape.map((d) => (d === 1 ? tape.choose([1, 3, 2]) : d))];
    return { t: tape.bool() ? K.broadcastTo(x.t, shape) : K.tile(x.t, x.t.shape.map(() => tape.choose([1, 2]))), exact: x.exact };
  }],
  ['squeeze', (tape, pool) => {
    const x = tape.choose(pool);
    return { t: tape.bool() ? K.squeeze(x.t) : K.unsqueeze(x.t, tape.int(x.t.ndim + 1)), exact: x.exact };
  }],
  ['split', (tape, pool) => {
    const x = tape.choose(pool);
    if (x.t.ndim === 0) return undefined;
    const axis = tape.int(x.t.ndim);
    const parts = K.chunk(x.t, 1 + tape.int(3), axis);
    return { t: tape.choose(parts), exact: x.exact };
  }],
  ['take', (tape, pool) => {
    const x = tape.choose(pool);
    if (x.t.ndim === 0 || x.t.shape.some((d) => d === 0)) return undefined;
    const axis = tape.int(x.t.ndim);
    const n = x.t.shape[axis];
    const idx = Array.from({ length: 1 + tape.int(4) }, () => tape.int(2 * n) - n);
    return { t: K.take(x.t, K.tensor(idx, { dtype: 'int32', device: x.t.device }), { axis }), exact: x.exact };
  }],
  ['gather', (tape, pool) => {
    const x = pickFloat(tape, pool);
    if (x.t.ndim === 0 || x.t.size === 0) return undefined;
    const axis = tape.int(x.t.ndim);
    const ishape = x.t.shape.map((d, i) => (i === axis ? 1 + tape.int(3) : tape.bool() ? 1 : d));
    const idx = Array.from({ length: size(ishape) }, () => tape.int(x.t.shape[axis]));
    const it = K.reshape(K.tensor(idx, { dtype: 'int32', device: x.t.device }), ishape);
    if (tape.bool()) return { t: K.takeAlongAxis(x.t, it, { axis }), exact: x.exact };
    const base = K.mul(x.t, 0.5);
    const flatIdx = K.tensor(Array.from({ length: 3 }, () => tape.int(x.t.shape[0])), { dtype: 'int32', device: x.t.device });
    const upd = fit(x.t, [3, ...x.t.shape.slice(1)], 1);
    return { t: K.scatterAdd(base, flatIdx, upd, { axis: 0 }), exact: false };
  }],
  ['matmul', (tape, pool) => {
    const a = pickFloat(tape, pool);
    const b = pickFloat(tape, pool);
    const A = a.t.ndim === 0 ? K.reshape(a.t, [1, 1]) : a.t;
    const k = A.shape[A.ndim - 1];
    const n = tape.choose([1, 2, 3, 0]);
    const form = tape.int(4);
    if (form === 0 || A.ndim === 1) return { t: K.matmul(A, fit(b.t, A.ndim === 1 && tape.bool() ? [k] : [k, n], 0.25)), exact: false };
    if (form === 1) {
      // Batched with a broadcast batch dim.
      const batch = A.shape.slice(0, -2);
      const bb = fit(b.t, [...batch.map(() => 1), k, n], -0.5);
      return { t: K.matmul(A, bb), exact: false };
    }
    if (form === 2) return { t: K.einsum('...k,nk->...n', A, fit(b.t, [n, k], 0.5)), exact: false };
    return { t: K.tensordot(A, fit(b.t, [k, n], 1), { axes: 1 }), exact: false };
  }],
  ['cond', (tape, pool) => {
    const a = pickFloat(tape, pool);
    const b = pickFloat(tape, pool);
    const bt = fit(b.t, a.t.shape, 1);
    // Choose both branch bodies before cond runs: eagerly only one branch executes.
    const f1 = tape.choose(UNARY)[1];
    const f2 = tape.choose(UNARY)[1];
    const g = tape.choose(BINARY)[1];
    const pred = K.gt(K.sum(b.t), tape.choose([0, 0.5, -0.5]));
    const [t] = K.cond(pred, (x: Tensor, y: Tensor) => [g(f1(x), y)], (x: Tensor, y: Tensor) => [f2(K.sub(x, y))], a.t, bt);
    return { t, exact: false };
  }],
  ['scan', (tape, pool) => {
    const xs = pickFloat(tape, pool);
    if (xs.t.ndim === 0) return undefined;
    const c = pickFloat(tape, pool);
    const init = fit(c.t, xs.t.shape.slice(1), 0.5);
    const f = tape.choose(UNARY)[1];
    const g = tape.choose(BINARY)[1];
    const reverse = tape.bool();
    const giveCarry = tape.bool();
    const [carry, ys] = K.scan((h: Tensor, x: Tensor) => {
      const h2 = K.tanh(g(K.mul(h, 0.9), f(x)));
      return [h2, K.add(h2, x)];
    }, init, xs.t, { reverse });
    return { t: giveCarry ? carry : ys, exact: false };
  }],
  ['forLoop', (tape, pool) => {
    const x = pickFloat(tape, pool);
    const n = tape.int(4);
    const f = tape.choose(UNARY)[1];
    const t = K.forLoop(0, n, (_i: unknown, h: Tensor) => K.add(K.mul(f(h), 0.5), x.t), x.t);
    return { t, exact: false };
  }],
  ['while', (tape, pool) => {
    const x = pickFloat(tape, pool);
    const limit = tape.int(4);
    const [, y] = K.whileLoop(
      ([i]: [Tensor, Tensor]) => K.lt(i, limit),
      ([i, h]: [Tensor, Tensor]) => [K.add(i, 1), K.sin(K.add(h, 0.5))] as [Tensor, Tensor],
      [K.tensor(0, { dtype: 'int32', device: x.t.device }), x.t] as [Tensor, Tensor],
    );
    return { t: y, exact: false };
  }],
  ['discrete', (tape, pool) => {
    // Comparisons, rounding and argmax only on exact values: elsewhere ulp differences between modes flip them.
    const exact = pool.filter((s) => s.exact && s.t.dtype === 'float32');
    if (!exact.length) return undefined;
    const x = tape.choose(exact).t;
    const kind = tape.int(5);
    if (kind === 0 && x.ndim > 0 && x.size > 0) return { t: K.astype(K.argmax(x, { axis: tape.int(x.ndim) }), 'float32'), exact: true };
    if (kind === 1) return { t: K.where(K.gt(x, tape.choose([0, 0.5])), x, K.mul(x, 0.25)), exact: false };
    if (kind === 2) return { t: K.astype(K.astype(K.mul(x, 3), 'int32'), 'float32'), exact: true };
    if (kind === 3) return { t: tape.choose([K.floor, K.ceil, K.round, K.sign])(K.mul(x, 2)), exact: true };
    return { t: K.astype(K.logicalAnd(K.lt(x, 1), K.ge(x, -0.5)), 'float32'), exact: true };
  }],
];
