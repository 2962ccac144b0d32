// The eager autograd tape: bind records a node on each output whose inputs require gradients.
// backward() (autograd/backward.ts) walks these nodes in reverse topological order.
import type { Block } from '../../ir/function.js';
import type { AnyAttrs, Primitive } from '../../ir/ops.js';
import { opRow } from '../../ir/ops.js';
import type { Tensor } from '../tensor.js';

export interface GradNode {
  readonly prim: Primitive;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: AnyAttrs;
  readonly regions: readonly Block[];
  /** Creation order; reverse order of seq is a valid topological order for backward. */
  readonly seq: number;
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
  return withGradMode(false, fn);
}

export function recordNode(prim: Primitive, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: AnyAttrs, regions: readonly Block[]): void {
  if (!gradEnabled || !inputs.some((x) => x.requiresGrad) || !opRow(prim).differentiable) return;
  const node: GradNode = { prim, inputs, outputs, attrs, regions, seq: seq++ };
  for (const o of outputs) {
    if (o.dtype === 'float32' || o.dtype === 'float64') {
      o.requiresGrad = true;
      o._node = node;
    }
  }
}
