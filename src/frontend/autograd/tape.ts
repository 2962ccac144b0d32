// The eager autograd tape: bind records a node on each output whose inputs require gradients.
// backward() (autograd/backward.ts) walks these nodes in reverse topological order.
import type { Block } from '../../ir/function.js';
import type { AnyAttrs, Primitive } from '../../ir/ops.js';
import { opRow } from '../../ir/ops.js';
import type { Tensor } from '../tensor.js';
import { fnArg } from '../args.js';

export interface GradNode {
  /** The primitive whose VJP rule runs in backward, or 'custom' for a customVjp node. */
  readonly prim: Primitive | 'custom';
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: AnyAttrs;
  readonly regions: readonly Block[];
  /** Creation order; reverse order of seq is a valid topological order for backward. */
  readonly seq: number;
  /** Custom nodes: one cotangent per input from one per output (zeros filled in for unused outputs). */
  readonly vjp?: (cts: Tensor[]) => (Tensor | null)[];
  /** Set when a backward() without retainGraph went through this node: its graph is freed. */
  released: boolean;
}

let gradEnabled = true;

// ---- freeing activations after backward() --------------------------------------------------------
// Tensors made inside a built-in module and not returned by it (nn/module.ts marks them internal)
// can be reached only through the tape. When backward() releases the last node that reads one, and
// the node that made it, nothing can use it again: it is disposed then, rather than left to
// finalizers, which a synchronous training loop never lets run.
const internal = new WeakSet<Tensor>();
/** How many recorded nodes read each tensor and are not released yet. */
const readers = new WeakMap<Tensor, number>();

/**
 * Marks `t` internal to a library module call that has just returned. One that no recorded node reads
 * or made (statistics computed under noGrad, everything in inference) is dead already: freed now.
 */
export function markInternal(t: Tensor): void {
  internal.add(t);
  if (t._node === null && !readers.get(t)) t.dispose();
}

function freeIfDead(t: Tensor): void {
  if (!internal.has(t) || t._retainGrad || (readers.get(t) ?? 0) > 0) return;
  if (t._node && !t._node.released) return;
  t.dispose();
}

/** Marks `n` released (its graph is freed), drops its saved inputs and frees the internal tensors now dead. */
export function releaseNode(n: GradNode): void {
  n.released = true;
  const inputs = n.inputs;
  // A node no longer holds its inputs (the saved activations), as in PyTorch: a loss kept after
  // backward() (a list of losses for logging) does not keep every step's graph alive.
  (n as { inputs: readonly Tensor[] }).inputs = [];
  for (const x of inputs) {
    const r = readers.get(x);
    if (r !== undefined) readers.set(x, r - 1);
  }
  for (const x of inputs) freeIfDead(x);
  for (const o of n.outputs) freeIfDead(o);
}
let seq = 0;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Like torch.no_grad(): ops inside record nothing. */
export function noGrad<T>(fn: () => T): T {
  fnArg('noGrad', null, fn);
  return withGradMode(false, fn);
}

/** Like torch.enable_grad(): records even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  fnArg('enableGrad', null, fn);
  return withGradMode(true, fn);
}

const isFloatTensor = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float64';

function attach(node: GradNode): void {
  for (const x of node.inputs) readers.set(x, (readers.get(x) ?? 0) + 1);
  for (const o of node.outputs) {
    if (isFloatTensor(o)) {
      o.requiresGrad = true;
      o._node = node;
    }
  }
}

export function recordNode(prim: Primitive, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: AnyAttrs, regions: readonly Block[]): void {
  if (!gradEnabled || !inputs.some((x) => x.requiresGrad) || !opRow(prim).differentiable) return;
  // The tape is eager only: ops recorded into a trace (a parameter requiring grad captured by jit) are
  // differentiated by the IR pass instead, and tracers must not keep graphs alive.
  if (outputs.some((o) => o.isTraced)) return;
  attach({ prim, inputs, outputs, attrs, regions, seq: seq++, released: false });
}

/** Records a customVjp call: `vjp` maps output cotangents to input cotangents. */
export function recordCustomNode(inputs: readonly Tensor[], outputs: readonly Tensor[], vjp: (cts: Tensor[]) => (Tensor | null)[]): void {
  if (!gradEnabled || !inputs.some((x) => x.requiresGrad)) return;
  attach({ prim: 'custom', inputs, outputs, attrs: {}, regions: [], seq: seq++, vjp, released: false });
}
