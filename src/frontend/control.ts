// Structured control flow: cond, whileLoop, forLoop, scan. Eagerly they are plain JS branches and loops
// (so the autograd tape sees ordinary ops); traced, each branch/body becomes a closed region of one op.
import { DType } from '../ir/dtype.js';
import { KilnError } from '../ir/error.js';
import type { Block, Value } from '../ir/function.js';
import { newValue } from '../ir/function.js';
import { typeToString } from '../ir/shape.js';
import { Tensor } from './tensor.js';
import { fnArg } from './args.js';
import { bind, bind1, currentTrace } from './trace.js';
import { TreeDef, flatten, treedefKey, unflatten } from './pytree.js';
import { TracedFunction, abstractTensor, traceToFunction } from './tracing.js';

// ---- helpers ---------------------------------------------------------------------------------------

/** Whether control flow over these leaves must be staged into IR (some tracer, or a trace is active). */
function staging(leaves: readonly Tensor[]): boolean {
  return currentTrace() !== null || leaves.some((t) => t.isTraced);
}

/** JS truthiness of a predicate: tensors are read with item() (inside jit: a guard). */
function truthy(op: string, p: unknown): boolean {
  if (p instanceof Tensor) {
    if (p.size !== 1) throw new KilnError(`${op}: the predicate must have one element, got ${p.describe()}`);
    return Boolean(p.item());
  }
  return Boolean(p);
}

/** Carries must be tensors once staged: JS numbers become int32 (integers), float32 or bool scalars. */
function numbersToScalars(tree: unknown, device: string | undefined): unknown {
  if (typeof tree === 'number' || typeof tree === 'boolean') {
    const dtype: DType = typeof tree === 'boolean' ? 'bool' : Number.isInteger(tree) ? 'int32' : 'float32';
    return bind1('constant', [], { value: [Number(tree)], dtype, shape: [], ...(device ? { device } : {}) });
  }
  if (Array.isArray(tree)) return tree.map((x) => numbersToScalars(x, device));
  if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    return Object.fromEntries(Object.entries(tree).map(([k, x]) => [k, numbersToScalars(x, device)]));
  }
  return tree;
}

/** A bool[] predicate: casts numbers, reshapes one-element tensors, lifts JS booleans. */
function boolScalar(op: string, p: unknown): Tensor {
  if (typeof p === 'boolean' || typeof p === 'number') return bind1('constant', [], { value: [p ? 1 : 0], dtype: 'bool', shape: [] });
  if (!(p instanceof Tensor)) throw new KilnError(`${op}: the predicate must be a tensor or a boolean, got ${typeof p}`);
  if (p.size !== 1) throw new KilnError(`${op}: the predicate must have one element, got ${p.describe()}`);
  let t = p;
  if (t.ndim !== 0) t = bind1('reshape', [t], { shape: [] });
  if (t.dtype !== 'bool') t = bind1('cast', [t], { dtype: 'bool' });
  return t;
}

const fresh = (vs: readonly Value[]): Value[] => vs.map((v) => newValue(v.type));

/** The region params a traced function uses for its captured values (its trailing params). */
function capturedParams(tf: TracedFunction): Value[] {
  const ps = tf.fn.body.params;
  return ps.slice(ps.length - tf.captured.length);
}

function describeTree(d: TreeDef): string {
  return treedefKey(d).replace(/\*/g, 'tensor');
}

function sameStructure(op: string, what: string, a: TreeDef, b: TreeDef): void {
  if (treedefKey(a) !== treedefKey(b)) throw new KilnError(`${op}: ${what}: ${describeTree(a)} vs ${describeTree(b)}`);
}

// ---- cond --------------------------------------------------------------------------------------------

/**
 * `cond(pred, trueFn, falseFn, ...operands)`: `trueFn(...operands)` when pred holds, else `falseFn`.
 * Both branches must return the same structure of tensors with equal types.
 */
export function cond<R>(pred: Tensor | boolean, trueFn: (...operands: any[]) => R, falseFn: (...operands: any[]) => R, ...operands: unknown[]): R {
  fnArg('cond', 'trueFn', trueFn);
  fnArg('cond', 'falseFn', falseFn);
  // A concrete predicate picks the branch in JS even under a trace: nothing data-dependent is left.
  if (!(pred instanceof Tensor) || !pred.isTraced) {
    return truthy('cond', pred) ? trueFn(...operands) : falseFn(...operands);
  }
  const p = boolScalar('cond', pred);
  const { leaves } = flatten(operands);
  const tt = traceToFunction(trueFn, operands, { name: 'cond_true' });
  const tf = traceToFunction(falseFn, operands, { name: 'cond_false' });
  sameStructure('cond', 'the branches return different structures', tt.outTree, tf.outTree);
  const n = leaves.length;
  const capT = capturedParams(tt);
  const capF = capturedParams(tf);
  const argParams = (tf2: TracedFunction) => tf2.fn.body.params.slice(0, n);
  // Both regions take (operands, captured of then, captured of else); each ignores the other's.
  const thenBlock: Block = { ...tt.fn.body, params: [...argParams(tt), ...capT, ...fresh(capF)] };
  const elseBlock: Block = { ...tf.fn.body, params: [...argParams(tf), ...fresh(capT), ...capF] };
  const outs = bind('cond', [p, ...leaves, ...tt.captured, ...tf.captured], {}, [thenBlock, elseBlock]);
  return unflatten(tt.outTree, outs);
}

// ---- whileLoop ---------------------------------------------------------------------------------------

/** `whileLoop(condFn, bodyFn, init)`: `carry = bodyFn(carry)` while `condFn(carry)`; returns the carry. */
export function whileLoop<C>(condFn: (carry: C) => Tensor | boolean, bodyFn: (carry: C) => C, init: C): C {
  fnArg('whileLoop', 'condFn', condFn);
  fnArg('whileLoop', 'bodyFn', bodyFn);
  const { leaves: initLeaves } = flatten(init);
  // Numbers in the carry become scalar tensors in both modes, so eager and jit results have one dtype.
  const start = numbersToScalars(init, initLeaves[0]?.device) as C;
  if (!staging(initLeaves)) {
    let carry = start;
    while (truthy('whileLoop', condFn(carry))) carry = bodyFn(carry);
    return carry;
  }
  const { leaves, treedef } = flatten(start);
  const tc = traceToFunction((c: C) => boolScalar('whileLoop', condFn(c)), [start], { name: 'while_cond' });
  const tb = traceToFunction(bodyFn, [start], { name: 'while_body' });
  sameStructure('whileLoop', 'the body must return the structure of the carry', treedef, tb.outTree);
  checkTypes('whileLoop', 'the body must return the carry types', leaves, tb.fn.body.results);
  const n = leaves.length;
  const capC = capturedParams(tc);
  const capB = capturedParams(tb);
  // Captured values ride along as extra carries that the body passes through unchanged.
  const condBlock: Block = { ...tc.fn.body, params: [...tc.fn.body.params.slice(0, n), ...capC, ...fresh(capB)] };
  const passC = fresh(capC);
  const bodyBlock: Block = {
    params: [...tb.fn.body.params.slice(0, n), ...passC, ...capB],
    ops: tb.fn.body.ops,
    results: [...tb.fn.body.results, ...passC, ...capB],
  };
  const outs = bind('while', [...leaves, ...tc.captured, ...tb.captured], {}, [condBlock, bodyBlock]);
  return unflatten(treedef, outs.slice(0, n));
}

function checkTypes(op: string, what: string, expected: readonly Tensor[], got: readonly Value[]): void {
  expected.forEach((t, i) => {
    const g = got[i].type;
    if (g.dtype !== t.dtype || g.shape.length !== t.ndim || g.shape.some((d, j) => d !== t.shape[j])) {
      throw new KilnError(`${op}: ${what}: carry ${i} is ${t.describe()} but the body returns ${typeToString(g)}`);
    }
  });
}

// ---- scan --------------------------------------------------------------------------------------------

export interface ScanOptions {
  /** Number of steps when `xs` holds no tensors. */
  length?: number;
  /** Walk xs from the last step to the first (ys keep xs's order). */
  reverse?: boolean;
}

function scanLength(xLeaves: readonly Tensor[], opts: ScanOptions): number {
  const lengths = new Set(xLeaves.map((x) => {
    if (x.ndim === 0) throw new KilnError(`scan: scanned inputs need a leading axis, got ${x.describe()}`);
    return x.shape[0];
  }));
  if (opts.length !== undefined) lengths.add(opts.length);
  if (lengths.size === 0) throw new KilnError('scan: xs holds no tensors; pass {length}');
  if (lengths.size > 1) throw new KilnError(`scan: scanned inputs disagree on the length: ${[...lengths].join(' vs ')} (${xLeaves.map((x) => x.describe()).join(', ')})`);
  return [...lengths][0];
}

/** Row i of x, without its leading axis. */
function row(x: Tensor, i: number): Tensor {
  const start = x.shape.map((_, d) => (d === 0 ? i : 0));
  const limit = x.shape.map((s, d) => (d === 0 ? i + 1 : s));
  const s = bind1('slice', [x], { start, limit, stride: x.shape.map(() => 1) });
  return bind1('reshape', [s], { shape: x.shape.slice(1) });
}

/** Stacks equal-typed tensors along a new leading axis. */
function stackRows(rows: Tensor[], like: { dtype: DType; shape: readonly number[] }, device: string | undefined): Tensor {
  if (rows.length === 0) {
    return bind1('constant', [], { value: [0], dtype: like.dtype, shape: [0, ...like.shape], ...(device ? { device } : {}) });
  }
  return bind1('concat', rows.map((r) => bind1('reshape', [r], { shape: [1, ...r.shape] })), { axis: 0 });
}

/**
 * `scan(fn, init, xs)`: `[carry, y] = fn(carry, x)` for each leading slice x of xs (jax.lax.scan);
 * returns `[finalCarry, ys]` with the ys stacked along a new leading axis. Pytrees throughout.
 */
export function scan<C, X, Y>(fn: (carry: C, x: X) => [C, Y], init: C, xs: X, opts: ScanOptions = {}): [C, Y] {
  fnArg('scan', 'fn', fn);
  const { leaves: xLeaves, treedef: xTree } = flatten(xs);
  const { leaves: initLeaves } = flatten(init);
  const length = scanLength(xLeaves, opts);
  const reverse = opts.reverse ?? false;
  const device = xLeaves[0]?.device ?? initLeaves[0]?.device;
  const start = numbersToScalars(init, device) as C;
  if (!staging([...xLeaves, ...initLeaves])) {
    let carry = start;
    const yRows: Tensor[][] = [];
    let yTree: TreeDef | undefined;
    for (let k = 0; k < length; k++) {
      const i = reverse ? length - 1 - k : k;
      const [c, y] = fn(carry, unflatten(xTree, xLeaves.map((x) => row(x, i))));
      carry = c;
      const fy = flatten(y);
      yTree ??= fy.treedef;
      yRows[i] = fy.leaves;
    }
    if (yTree === undefined) {
      // No step ran: trace the body once only to learn the types of the (empty) ys.
      const tf = traceBody(fn, start, xLeaves, xTree, device);
      const yTypes = tf.fn.body.results.slice(flatten(start).leaves.length);
      const yTreeDef = (tf.outTree as { children: readonly TreeDef[] }).children[1];
      return [carry, unflatten(yTreeDef, yTypes.map((v) => stackRows([], v.type, device)))];
    }
    const nY = yRows[0].length;
    const ys = Array.from({ length: nY }, (_, j) => stackRows(yRows.map((r) => r[j]), yRows[0][j], device));
    return [carry, unflatten(yTree, ys)];
  }
  const { leaves, treedef: carryTree } = flatten(start);
  const tf = traceBody(fn, start, xLeaves, xTree, device);
  const out = tf.outTree;
  if (out.kind !== 'array' || out.children.length !== 2) throw new KilnError('scan: the body must return [carry, y]');
  sameStructure('scan', 'the body must return the structure of the carry first', carryTree, out.children[0]);
  const nC = leaves.length;
  const nX = xLeaves.length;
  const body = tf.fn.body;
  checkTypes('scan', 'the body must return the carry types first', leaves, body.results);
  const carryP = body.params.slice(0, nC);
  const xP = body.params.slice(nC, nC + nX);
  const capP = body.params.slice(nC + nX);
  // Captured values become extra carries passed through unchanged (scan's operands are carries, then xs).
  const block: Block = {
    params: [...carryP, ...capP, ...xP],
    ops: body.ops,
    results: [...body.results.slice(0, nC), ...capP, ...body.results.slice(nC)],
  };
  const numCarry = nC + capP.length;
  const outs = bind('scan', [...leaves, ...tf.captured, ...xLeaves], { length, numCarry, reverse }, [block]);
  return [unflatten(carryTree, outs.slice(0, nC)), unflatten(out.children[1], outs.slice(numCarry))];
}

function traceBody<C, X, Y>(fn: (carry: C, x: X) => [C, Y], init: C, xLeaves: Tensor[], xTree: TreeDef, device: string | undefined): TracedFunction {
  const slices = xLeaves.map((x) => abstractTensor({ dtype: x.dtype, shape: x.shape.slice(1) }, x.device));
  return traceToFunction(
    (c: C, x: X) => {
      const r = fn(c, x);
      if (!Array.isArray(r) || r.length !== 2) throw new KilnError('scan: the body must return [carry, y]');
      return r;
    },
    [init, unflatten(xTree, slices)],
    { name: 'scan_body', device },
  );
}

// ---- forLoop -----------------------------------------------------------------------------------------

/**
 * `forLoop(lower, upper, bodyFn, init)`: `carry = bodyFn(i, carry)` for i in [lower, upper). The trip
 * count is static, so it lowers to `scan` (differentiable); `i` is a JS number eagerly, an int32 scalar traced.
 */
export function forLoop<C>(lower: number | Tensor, upper: number | Tensor, bodyFn: (i: any, carry: C) => C, init: C): C {
  fnArg('forLoop', 'bodyFn', bodyFn);
  const lo = staticInt('forLoop', 'lower', lower);
  const hi = staticInt('forLoop', 'upper', upper);
  const n = Math.max(0, hi - lo);
  const { leaves } = flatten(init);
  if (!staging(leaves)) {
    let carry = numbersToScalars(init, leaves[0]?.device) as C;
    for (let i = lo; i < hi; i++) carry = bodyFn(i, carry);
    return carry;
  }
  const device = leaves[0]?.device;
  const dev = device ? { device } : {};
  let idx = bind1('iota', [], { shape: [n], dimension: 0, dtype: 'int32', ...dev });
  if (lo !== 0) idx = bind1('add', [idx, bind1('constant', [], { value: [lo], dtype: 'int32', shape: [n], ...dev })]);
  const [carry] = scan((c: C, i: Tensor) => [bodyFn(i, c), null] as [C, null], init, idx);
  return carry;
}

function staticInt(op: string, name: string, x: number | Tensor): number {
  const v = x instanceof Tensor ? Number(x.item()) : x;
  if (!Number.isInteger(v)) throw new KilnError(`${op}: ${name} must be an integer (the trip count is static), got ${v}`);
  return v;
}
