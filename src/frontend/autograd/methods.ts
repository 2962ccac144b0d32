// Autograd methods on Tensor (PyTorch names): t.backward(), t.requiresGrad_(), t.detach(), t.retainGrad(),
// added by declaration merging so tensor.ts stays free of autograd.
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { BackwardOptions, backward } from './backward.js';
import { stopGradient } from './custom.js';

declare module '../tensor.js' {
  interface Tensor {
    /** Accumulates gradients of this tensor into `.grad` of the leaves it depends on. */
    backward(opts?: BackwardOptions): void;
    /** Marks a leaf as requiring gradients (in place, returns this). */
    requiresGrad_(requiresGrad?: boolean): Tensor;
    /** The same values, cut from the graph (a copy eagerly; stop_gradient inside jit). */
    detach(): Tensor;
    /** Keeps `.grad` of this non-leaf tensor after backward(). */
    retainGrad(): Tensor;
  }
}

Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions): void {
  backward(this, opts);
};

Tensor.prototype.requiresGrad_ = function (this: Tensor, requiresGrad = true): Tensor {
  if (!this.isLeaf) {
    throw new KilnError(`requiresGrad_: ${this.describe()} is computed by an op (not a leaf); call detach() first to make a leaf`);
  }
  if (requiresGrad && this.dtype !== 'float32' && this.dtype !== 'float64') {
    throw new KilnError(`requiresGrad_: only float tensors can require gradients, got ${this.describe()}`);
  }
  this.requiresGrad = requiresGrad;
  return this;
};

Tensor.prototype.detach = function (this: Tensor): Tensor {
  return stopGradient(this);
};

Tensor.prototype.retainGrad = function (this: Tensor): Tensor {
  if (!this.requiresGrad) throw new KilnError(`retainGrad: ${this.describe()} does not require grad`);
  if (!this.isLeaf) this._retainGrad = true;
  return this;
};
