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
