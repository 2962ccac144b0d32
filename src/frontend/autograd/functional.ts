// Functional transforms (JAX style): grad, valueAndGrad, vjp, jvp, jacobian, hessian over pytrees.
// Eagerly grad/vjp run f on the tape; when tracing (inside jit, or with tracer arguments) f is traced
// to IR, differentiated by the IR pass and inlined, so forward and backward are one graph to optimize.
// Nesting works both ways: an inner eager grad records its backward when an outer one is watching.
import { KilnError } from '../../ir/error.js';
import { dce } from '../../passes/dce.js';
import { jvpFunction } from '../../passes/autodiff/jvp.js';
import { vjpFunction } from '../../passes/autodiff/ir_autodiff.js';
import { Tensor } from '../tensor.js';
import { fnArg, listArg } from '../args.js';
import { bind } from '../trace.js';
import { defaultDevice } from '../trace.js';
import { tensor } from '../convert.js';
import { countLeaves, flatten, treedefKey, unflatten, TreeDef } from '../pytree.js';
import type { TensorType } from '../../ir/shape.js';
import { sizeOf, typeToString } from '../../ir/shape.js';
import { isFloat } from '../../ir/dtype.js';
import { inlineFunction, traceToFunction } from '../tracing.js';
import { isGradEnabled, withGradMode } from './tape.js';
import { fullLike, gradients } from './backward.js';
import { isTracing, peekTensorId } from './custom.js';
import './methods.js';

export interface GradOptions {
  /** Which positional arguments to differentiate: a number (the result is that gradient) or a list. */
  argnums?: number | readonly number[];
  /** f returns [output, aux]; aux is returned alongside, not differentiated. */
  hasAux?: boolean;
}

const isFloatTensor = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

/** JS numbers in differentiated positions become float32 scalars (grad(x => x*x)(3) works). */
function numbersToTensors(tree: unknown, device: string): unknown {
  if (typeof tree === 'number') return tensor(tree, { dtype: 'float32', device });
  if (Array.isArray(tree)) return tree.map((x) => numbersToTensors(x, device));
  if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    return Object.fromEntries(Object.entries(tree).map(([k, x]) => [k, numbersToTensors(x, device)]));
  }
  return tree;
}

function normalizeArgnums(op: string, argnums: number | readonly number[] | undefined, n: number): number[] {
  const list = argnums === undefined ? [0] : typeof argnums === 'number' ? [argnums] : [...argnums];
  return list.map((a) => {
    const i = a < 0 ? a + n : a;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new KilnError(`${op}: argnums ${a} is out of range for ${n} argument(s)`);
    return i;
  });
}

/** The result of differentiating f once at some arguments. */
interface Linearized {
  /** Structure and types of the differentiated output (known before anything is evaluated). */
  readonly outTree: TreeDef;
  readonly outTypes: readonly TensorType[];
  readonly out: unknown;
  readonly aux: unknown;
  /** Output cotangent tree (undefined: ones for a one-element output) -> one gradient tree per differentiated argument. */
  pullback(ct: unknown): unknown[];
  /**
   * Eager results made inside the call are taken off the tape when no outer transform watches
   * (so grads and values do not drag the graph along); identity under tracing.
   */
  release(t: Tensor): Tensor;
}

/** Splits f's result into [out, aux] (aux undefined without hasAux). */
function splitAux(op: string, r: unknown, hasAux: boolean): [unknown, unknown] {
  if (!hasAux) return [r, undefined];
  if (!Array.isArray(r) || r.length !== 2) throw new KilnError(`${op}: with hasAux the function must return [output, aux]`);
  return [r[0], r[1]];
}

function prepareArgs(op: string, args: unknown[], nums: number[]): unknown[] {
  const leaves = flatten(args).leaves;
  const device = leaves[0]?.device ?? defaultDevice();
  const out = args.map((a, i) => (nums.includes(i) ? numbersToTensors(a, device) : a));
  for (const i of nums) {
    for (const t of flatten(out[i]).leaves) {
      if (!isFloatTensor(t)) throw new KilnError(`${op}: argument ${i} holds ${t.describe()}; only float tensors can be differentiated`);
    }
  }
  return out;
}

/** Eager: runs f on the tape with fresh stand-ins for the differentiated leaves. */
function linearizeTape(op: string, f: (...a: any[]) => unknown, args: unknown[], nums: number[], hasAux: boolean): Linearized {
  const outerWatching = isGradEnabled();
  const firstId = peekTensorId();
  const trees: TreeDef[] = [];
  const inputs: Tensor[][] = [];
  const callArgs = args.map((a, i) => {
    if (!nums.includes(i)) return a;
    const { leaves, treedef } = flatten(a);
    // A stand-in is an identity op on the tape (so an outer grad still sees through it), or a new leaf.
    const standIns = leaves.map((x) => {
      const y = withGradMode(outerWatching, () => bind('reshape', [x], { shape: [...x.shape] })[0]);
      y.requiresGrad = true;
      return y;
    });
    trees.push(treedef);
    inputs.push(standIns);
    return unflatten(treedef, standIns);
  });
  const [out, aux] = splitAux(op, withGradMode(true, () => f(...callArgs)), hasAux);
  const { leaves: outLeaves, treedef: outTree } = flatten(out);
  const flatInputs = inputs.flat();
  // The backward is recorded only when something older than this call (an outer grad's input, a
  // captured tensor requiring grad) is on the graph: then an outer transform differentiates it.
  const createGraph = outerWatching && touchesOuter(outLeaves, firstId);
  const release = (t: Tensor) => {
    if (!createGraph && t.id >= firstId) {
      t.requiresGrad = false;
      t._node = null;
    }
    return t;
  };
  return {
    outTree,
    outTypes: outLeaves.map((t) => ({ dtype: t.dtype, shape: t.shape })),
    out: unflatten(outTree, outLeaves),
    aux,
    pullback(ct) {
      const ctLeaves = ct === undefined ? outLeaves.map(() => undefined) : flatten(ct).leaves;
      if (ctLeaves.length !== outLeaves.length) throw new KilnError(`${op}: the cotangent has ${ctLeaves.length} tensor(s), the output ${outLeaves.length}`);
      const diff = outLeaves.map((o, i) => (isFloatTensor(o) ? i : -1)).filter((i) => i >= 0);
      const g = gradients(diff.map((i) => outLeaves[i]), flatInputs, diff.map((i) => ctLeaves[i]), { createGraph, retainGraph: true });
      const full = g.map((x, i) => release(x ?? fullLike(flatInputs[i], 0)));
      let k = 0;
      return trees.map((t, a) => unflatten(t, inputs[a].map(() => full[k++])));
    },
    release,
  };
}

/** Whether the graph behind `outs` reaches a tensor requiring grad that existed before the call. */
function touchesOuter(outs: readonly Tensor[], firstId: number): boolean {
  const seen = new Set<unknown>();
  const stack = outs.map((t) => t._node).filter((n) => n !== null);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) {
      if (x.requiresGrad && x.id < firstId) return true;
      if (x._node) stack.push(x._node);
    }
  }
  return false;
}

/** Traced: f becomes an IR Function, the IR pass builds its VJP, and the result is inlined. */
function linearizeIR(op: string, f: (...a: any[]) => unknown, args: unknown[], nums: number[], hasAux: boolean): Linearized {
  const tf = traceToFunction((...a: unknown[]) => splitAux(op, f(...a), hasAux), args, { name: (f as { name?: string }).name || op });
  const argLeafCounts = args.map((a) => flatten(a).leaves.length);
  const offsets = argLeafCounts.map((_, i) => argLeafCounts.slice(0, i).reduce((s, n) => s + n, 0));
  const wrt = nums.flatMap((i) => Array.from({ length: argLeafCounts[i] }, (_, j) => offsets[i] + j));
  const outTrees = (tf.outTree as { children: readonly TreeDef[] }).children;
  const nOutLeaves = countLeaves(outTrees[0]);
  const results = tf.fn.body.results;
  const outTypes = results.slice(0, nOutLeaves).map((v) => v.type);
  const diffOuts = outTypes.map((t, i) => (isFloat(t.dtype) ? i : -1)).filter((i) => i >= 0);
  const inputs = [...flatten(args).leaves, ...tf.captured];
  const device = inputs[0]?.device ?? defaultDevice();
  const vjpFn = vjpFunction(tf.fn, wrt, { outputs: diffOuts });
  // The primal outputs come from the first pullback when it runs first (valueAndGrad), so forward
  // ops are emitted once; reading `out` before (vjp, jacobian) inlines the forward on its own.
  let primal: Tensor[] | null = null;
  const primals = () => (primal ??= inlineFunction(tf.fn, inputs));
  return {
    outTree: outTrees[0],
    outTypes,
    get out() {
      return unflatten(outTrees[0], primals().slice(0, nOutLeaves));
    },
    get aux() {
      return unflatten(outTrees[1], primals().slice(nOutLeaves));
    },
    pullback(ct) {
      const ctLeaves = ct === undefined
        ? diffOuts.map((i) => bind('constant', [], { value: [1], dtype: outTypes[i].dtype, shape: [...outTypes[i].shape], device })[0])
        : pickCts(op, ct, outTypes, diffOuts);
      const res = inlineFunction(vjpFn, [...inputs, ...ctLeaves]);
      primal ??= res.slice(0, results.length);
      const grads = res.slice(results.length);
      let k = 0;
      return nums.map((i) => unflatten(flatten(args[i]).treedef, grads.slice(k, (k += argLeafCounts[i]))));
    },
    release: (t) => t,
  };
}

function pickCts(op: string, ct: unknown, outs: readonly TensorType[], diffOuts: number[]): Tensor[] {
  const leaves = flatten(ct).leaves;
  if (leaves.length !== outs.length) throw new KilnError(`${op}: the cotangent has ${leaves.length} tensor(s), the output ${outs.length}`);
  return diffOuts.map((i) => {
    const c = leaves[i];
    const o = outs[i];
    if (c.dtype !== o.dtype || c.shape.length !== o.shape.length || c.shape.some((d, j) => d !== o.shape[j])) {
      throw new KilnError(`${op}: cotangent ${c.describe()} does not match the output ${typeToString(o)}`);
    }
    return c;
  });
}

function linearize(op: string, f: (...a: any[]) => unknown, args: unknown[], nums: number[], hasAux: boolean): Linearized {
  const prepared = prepareArgs(op, args, nums);
  const leaves = flatten(prepared).leaves;
  return isTracing(leaves) ? linearizeIR(op, f, prepared, nums, hasAux) : linearizeTape(op, f, prepared, nums, hasAux);
}

/** grad needs f to return one float tensor with one element. */
function checkScalarOutput(op: string, lin: Linearized): void {
  if (lin.outTree.kind !== 'leaf') throw new KilnError(`${op}: the function must return a tensor (use hasAux to return more), got ${describeTree(lin.outTree)}`);
  const t = lin.outTypes[0];
  if (sizeOf(t.shape) !== 1 || !isFloat(t.dtype)) throw new KilnError(`${op}: the function must return a one-element float tensor, got ${typeToString(t)}; use vjp or jacobian for other outputs`);
}

function describeTree(d: TreeDef): string {
  return d.kind === 'static' ? String(d.value) : treedefKey(d).replace(/\*/g, 'tensor');
}

/**
 * `valueAndGrad(f, {argnums, hasAux})(...args)` -> `[value, grads]` (with hasAux, value is
 * `[output, aux]`). grads is the gradient tree of argument `argnums` (default 0), or an array of them
 * when argnums is an array.
 */
export function valueAndGrad(f: (...args: any[]) => unknown, opts: GradOptions = {}): (...args: any[]) => [any, any] {
  return valueAndGradAs('valueAndGrad', f, opts);
}

function valueAndGradAs(op: string, f: (...args: any[]) => unknown, opts: GradOptions): (...args: any[]) => [any, any] {
  fnArg(op, null, f);
  return (...args: unknown[]) => {
    const nums = normalizeArgnums(op, opts.argnums, args.length);
    const lin = linearize(op, f, args, nums, opts.hasAux ?? false);
    checkScalarOutput(op, lin);
    const grads = lin.pullback(undefined);
    const value = flattenMap(lin.out, lin.release);
    const aux = opts.hasAux ? flattenMap(lin.aux, lin.release) : lin.aux;
    const g = typeof opts.argnums === 'number' || opts.argnums === undefined ? grads[0] : grads;
    return [opts.hasAux ? [value, aux] : value, g];
  };
}

function flattenMap(tree: unknown, f: (t: Tensor) => Tensor): unknown {
  const { leaves, treedef } = flatten(tree);
  return unflatten(treedef, leaves.map(f));
}

/** `grad(f, {argnums, hasAux})(...args)`: the gradient of a scalar function (with hasAux: `[grads, aux]`). */
export function grad(f: (...args: any[]) => unknown, opts: GradOptions = {}): (...args: any[]) => any {
  const vg = valueAndGradAs('grad', f, opts);
  return (...args: unknown[]) => {
    const [value, g] = vg(...args);
    return opts.hasAux ? [g, (value as unknown[])[1]] : g;
  };
}

/**
 * `vjp(f, ...primals)` -> `[out, pullback]`; `pullback(ct)` returns one cotangent tree per primal.
 * `out` may be any tree of tensors; ct must match it.
 */
export function vjp(f: (...args: any[]) => unknown, ...primals: unknown[]): [any, (ct: unknown) => any[]] {
  fnArg('vjp', null, f);
  const nums = primals.map((_, i) => i);
  const lin = linearize('vjp', f, primals, nums, false);
  return [lin.out, (ct: unknown) => lin.pullback(ct)];
}

/**
 * `jvp(f, primals, tangents)` -> `[out, tangentOut]` (forward mode): tangents are trees like primals
 * (for every float leaf). Works through whileLoop. Always through the IR: f is traced, the jvp pass
 * transforms it and the result runs eagerly (or inlines into the enclosing jit).
 */
export function jvp(f: (...args: any[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[]): [any, any] {
  const op = 'jvp';
  fnArg(op, null, f);
  listArg(op, 'primals', primals);
  listArg(op, 'tangents', tangents);
  const device = flatten(primals).leaves[0]?.device ?? defaultDevice();
  const ps = primals.map((p) => numbersToTensors(p, device));
  const ts = tangents.map((t) => numbersToTensors(t, device));
  const pLeaves = flatten(ps).leaves;
  const tLeaves = flatten(ts).leaves;
  if (pLeaves.length !== tLeaves.length) throw new KilnError(`${op}: ${tLeaves.length} tangent(s) for ${pLeaves.length} primal tensor(s)`);
  const floatIdx = pLeaves.map((p, i) => (isFloatTensor(p) ? i : -1)).filter((i) => i >= 0);
  for (const i of floatIdx) {
    const p = pLeaves[i];
    const t = tLeaves[i];
    if (t.dtype !== p.dtype || t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
      throw new KilnError(`${op}: tangent ${t.describe()} does not match the primal ${p.describe()}`);
    }
  }
  const tf = traceToFunction(f, ps, { name: (f as { name?: string }).name || op });
  const fn = dce(jvpFunction(tf.fn, floatIdx));
  const res = inlineFunction(fn, [...pLeaves, ...tf.captured, ...floatIdx.map((i) => tLeaves[i])]);
  const nOut = tf.fn.body.results.length;
  const outs = res.slice(0, nOut);
  let k = nOut;
  const touts = outs.map((o) => (isFloatTensor(o) ? res[k++] : null));
  return [unflatten(tf.outTree, outs), unflatten(tf.outTree, touts)];
}

/** A one-hot tensor (value 1 at flat index i) shaped like `like`. */
function oneHot(like: Tensor, i: number): Tensor {
  const value = new Array<number>(like.size).fill(0);
  value[i] = 1;
  return bind('constant', [], { value, dtype: like.dtype, shape: [...like.shape], device: like.device })[0];
}

/** Stacks equal-shaped tensors along a new leading axis. */
function stack(rows: Tensor[]): Tensor {
  const r = rows.map((t) => bind('reshape', [t], { shape: [1, ...t.shape] })[0]);
  return r.length === 1 ? r[0] : bind('concat', r, { axis: 0 })[0];
}

/**
 * `jacobian(f, {argnums})(...args)`: for a tensor-valued f, d out / d arg shaped `[...out.shape, ...arg.shape]`
 * per tensor leaf of the argument (reverse mode: one pullback per output element).
 */
export function jacobian(f: (...args: any[]) => unknown, opts: { argnums?: number | readonly number[] } = {}): (...args: any[]) => any {
  const op = 'jacobian';
  fnArg(op, null, f);
  return (...args: unknown[]) => {
    const nums = normalizeArgnums(op, opts.argnums, args.length);
    const lin = linearize(op, f, args, nums, false);
    const t = lin.outTypes[0];
    if (lin.outTree.kind !== 'leaf' || !isFloat(t.dtype)) throw new KilnError(`${op}: the function must return one float tensor, got ${describeTree(lin.outTree)}`);
    const out = lin.out as Tensor;
    if (out.size === 0) throw new KilnError(`${op}: the output ${out.describe()} is empty`);
    const rows = Array.from({ length: out.size }, (_, i) => lin.pullback(oneHot(out, i)));
    const perArg = nums.map((_, a) => {
      const { treedef, leaves } = flatten(rows[0][a]);
      const jac = leaves.map((leaf, j) => {
        const s = stack(rows.map((r) => flatten(r[a]).leaves[j]));
        const t = bind('reshape', [s], { shape: [...out.shape, ...leaf.shape] })[0];
        return lin.release(t);
      });
      return unflatten(treedef, jac);
    });
    return typeof opts.argnums === 'number' || opts.argnums === undefined ? perArg[0] : perArg;
  };
}

/** `hessian(f, {argnums})(...args)`: the jacobian of the gradient, `[...x.shape, ...x.shape]`. */
export function hessian(f: (...args: any[]) => unknown, opts: { argnums?: number } = {}): (...args: any[]) => any {
  fnArg('hessian', null, f);
  return jacobian(grad(f, { argnums: opts.argnums ?? 0 }), { argnums: opts.argnums ?? 0 });
}
