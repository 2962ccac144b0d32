// Eager reverse mode over the tape (PyTorch semantics): backward() accumulates into the .grad of leaves,
// gradients() returns cotangents for chosen tensors (what grad/vjp use eagerly). The VJP rules are the
// IR pass's, run with a tensor emitter: bind. Under createGraph the backward ops are themselves
// recorded, so gradients of gradients work.
import { KilnError } from '../../ir/error.js';
import type { Primitive } from '../../ir/ops.js';
import { opRow } from '../../ir/ops.js';
import type { Emit } from '../../passes/autodiff/emit.js';
import { vjpRules, VjpRule } from '../../passes/autodiff/vjp_rules.js';
import { Tensor } from '../tensor.js';
import { listArg, show, tensorArg } from '../args.js';
import { bind, currentTrace } from '../trace.js';
import { TensorLike, asTensor } from '../convert.js';
import { GradNode, noGrad, releaseNode, withGradMode } from './tape.js';
import { keep } from '../memory.js';

/** The eager emitter: rules bind primitives on tensors; creation ops are placed on `device`. */
export function tensorEmit(device: string): Emit<Tensor> {
  return {
    bind: (prim, ins, attrs, regions = []) => bind(prim, [...ins], opRow(prim).arity === 0 ? { ...attrs, device } : attrs, regions),
    type: (t) => ({ dtype: t.dtype, shape: t.shape }),
  };
}

const isFloatTensor = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

export function fullLike(t: Tensor, value: number): Tensor {
  return bind('constant', [], { value: [value], dtype: t.dtype, shape: [...t.shape], device: t.device })[0];
}

/** Every node reachable from `roots` through the tape, in reverse creation order. */
function collectNodes(roots: readonly Tensor[]): GradNode[] {
  const seen = new Set<GradNode>();
  const stack = roots.map((t) => t._node).filter((n): n is GradNode => n !== null);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) if (x._node && !seen.has(x._node)) stack.push(x._node);
  }
  return [...seen].sort((a, b) => b.seq - a.seq);
}

/** Keeps the nodes that lie on a path from one of `targets` (walking creation order forward). */
function between(nodes: GradNode[], targets: readonly Tensor[]): GradNode[] {
  const reached = new Set<Tensor>(targets);
  const keep = new Set<GradNode>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.inputs.some((x) => reached.has(x))) {
      keep.add(n);
      n.outputs.forEach((o) => reached.add(o));
    }
  }
  return nodes.filter((n) => keep.has(n));
}

export interface BackwardOptions {
  /** Cotangent of the output (required unless it has one element); tensor or nested array. */
  gradOutput?: TensorLike;
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
  /** Record the backward ops so the gradients can be differentiated again (implies retainGraph). */
  createGraph?: boolean;
}

interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** When given, only paths from these tensors are walked (functional gradients). */
  targets?: readonly Tensor[];
}

/** Runs the tape backward from `roots` seeded with `seeds`; returns the cotangent of every tensor reached. */
function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], opts: RunOptions): Map<Tensor, Tensor> {
  let nodes = collectNodes(roots);
  if (opts.targets) nodes = between(nodes, opts.targets);
  const stale = nodes.find((n) => n.released);
  if (stale) {
    throw new KilnError(
      `backward: trying to go through the graph a second time (at ${stale.prim} producing ${stale.outputs.map((o) => o.describe()).join(', ')}); ` +
        'its saved values were released by the first backward(). Pass {retainGraph: true} to the first call.',
    );
  }
  const ct = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor | null) => {
    if (!g || !t.requiresGrad) return;
    const prev = ct.get(t);
    ct.set(t, prev ? bind('add', [prev, g])[0] : g);
  };
  withGradMode(opts.createGraph, () => {
    roots.forEach((r, i) => accumulate(r, seeds[i]));
    for (const node of nodes) {
      if (!node.outputs.some((o) => ct.has(o))) continue;
      const cts = node.outputs.map((o) => ct.get(o) ?? fullLike(o, 0));
      const needs = node.inputs.map((x) => x.requiresGrad && isFloatTensor(x));
      let grads: (Tensor | null)[];
      if (node.vjp) {
        grads = node.vjp(cts);
      } else {
        const rule = vjpRules[node.prim as Primitive] as VjpRule<Primitive> | null;
        if (!rule) continue;
        const device = node.inputs[0]?.device ?? node.outputs[0].device;
        grads = rule(tensorEmit(device), node.inputs, node.outputs, cts, node.attrs as never, node.regions, { needs });
      }
      node.inputs.forEach((x, i) => {
        if (needs[i]) accumulate(x, grads[i] ?? null);
      });
      // Intermediate cotangents are dropped as soon as their producer has run (they are not needed again).
      if (!opts.targets) for (const o of node.outputs) if (!o._retainGrad) ct.delete(o);
    }
    if (!opts.retainGraph && !opts.createGraph) {
      for (const n of nodes) releaseNode(n);
    }
  });
  return ct;
}

/**
 * Runs `fn` (a backward pass that does not record a graph) and disposes every tensor it made except
 * `keepOf(result)`: the cotangents of intermediates are dead once backward returns, and leaving them
 * to the garbage collector lets a synchronous training loop, which never yields to the finalizers,
 * fill the device memory. Under createGraph the new tape holds them: nothing is disposed.
 */
function freeingTemporaries<R>(createGraph: boolean, fn: () => R, keepOf: (r: R) => Iterable<Tensor | null>): R {
  if (createGraph) return fn();
  const made: Tensor[] = [];
  const outer = Tensor._onCreate;
  Tensor._onCreate = (t) => {
    // Tensors made while tracing (a jitted function called by a custom VJP) are its constants.
    if (!currentTrace()) made.push(t);
    outer?.(t);
  };
  let result: R;
  try {
    result = fn();
  } finally {
    if (Tensor._onCreate !== outer) Tensor._onCreate = outer;
  }
  const kept = new Set(keepOf(result));
  for (const t of made) if (!kept.has(t)) t.dispose();
  return result;
}

function seedFor(op: string, t: Tensor, given: TensorLike | undefined): Tensor {
  if (given === undefined || given === null) {
    if (t.size !== 1) {
      throw new KilnError(`${op}: a gradient can be created implicitly only for one-element outputs, got ${t.describe()}; pass {gradOutput} with the cotangent`);
    }
    return fullLike(t, 1);
  }
  let g = asTensor(op, given, t.dtype, t.device);
  if (g.dtype !== t.dtype) g = noGrad(() => bind('cast', [g], { dtype: t.dtype })[0]);
  if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
    throw new KilnError(`${op}: gradOutput ${g.describe()} does not match the output ${t.describe()}`);
  }
  return g;
}

/**
 * `loss.backward()`: accumulates d(loss)/d(leaf) into `.grad` of every leaf that requires grad (and of
 * non-leaves marked with retainGrad()). Frees the graph unless retainGraph or createGraph.
 */
export function backward(t: Tensor, opts: BackwardOptions = {}): void {
  tensorArg('backward', t);
  if (t.isTraced) throw new KilnError(`backward: ${t.describe()} is a traced tensor; inside jit use grad/valueAndGrad instead of backward()`);
  if (!t.requiresGrad) {
    throw new KilnError(`backward: the tensor ${t.describe()} does not require grad and has no graph; create inputs with {requiresGrad: true} or call x.requiresGrad_()`);
  }
  const createGraph = opts.createGraph ?? false;
  freeingTemporaries(
    createGraph,
    () => {
      const seed = seedFor('backward', t, opts.gradOutput);
      const ct = runBackward([t], [seed], { retainGraph: opts.retainGraph ?? false, createGraph });
      const grads: Tensor[] = [];
      withGradMode(createGraph, () => {
        for (const [x, g] of ct) {
          if (!(x.isLeaf || x._retainGrad)) continue;
          // `.grad` outlives a tidy() scope around backward(), as the parameter it belongs to does.
          x.grad = keep(x.grad ? bind('add', [x.grad, g])[0] : g);
          grads.push(x.grad);
        }
      });
      return grads;
    },
    (grads) => grads,
  );
}

/**
 * Cotangents of `inputs` (any tensors on the tape, not only leaves) for `outputs` seeded with
 * `gradOutputs` (torch.autograd.grad); null where no path leads. Does not touch `.grad`.
 */
export function gradients(outputs: readonly Tensor[], inputs: readonly Tensor[], gradOutputs: readonly (TensorLike | undefined)[] = [], opts: { createGraph?: boolean; retainGraph?: boolean } = {}): (Tensor | null)[] {
  listArg('gradients', 'outputs', outputs).forEach((o, i) => tensorArg('gradients', o, `outputs[${i}]`));
  listArg('gradients', 'inputs', inputs).forEach((x, i) => tensorArg('gradients', x, `inputs[${i}]`));
  listArg('gradients', 'gradOutputs', gradOutputs);
  const live = outputs.filter((o) => o.requiresGrad);
  const seeds = outputs.map((o, i) => seedFor('grad', o, gradOutputs[i])).filter((_, i) => outputs[i].requiresGrad);
  const createGraph = opts.createGraph ?? false;
  return freeingTemporaries(
    createGraph,
    () => {
      const ct = runBackward(live, seeds, { retainGraph: opts.retainGraph ?? true, createGraph, targets: inputs });
      return inputs.map((x) => ct.get(x) ?? null);
    },
    (r) => r,
  );
}

/** Clears `.grad` of every tensor given (nested arrays/objects are walked). */
export function zeroGrad(...tensors: unknown[]): void {
  for (const x of tensors) {
    if (x !== null && x !== undefined && typeof x !== 'object') throw new KilnError(`zeroGrad: expected tensors (or arrays and objects of them), got ${show(x)}`);
  }
  const walk = (x: unknown): void => {
    if (x instanceof Tensor) x.grad = null;
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  tensors.forEach(walk);
}
