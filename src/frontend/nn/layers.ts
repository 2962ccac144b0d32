// The standard layers as Modules: thin wrappers that own parameters and call the functional ops.
import { KilnError } from '../../ir/error.js';
import { Tensor } from '../tensor.js';
import { bind1 } from '../trace.js';
import { noGrad } from '../autograd/tape.js';
import { keep } from '../memory.js';
import { add, mul, sub, relu, tanh, sigmoid, astype } from '../ops/elementwise.js';
import { reshapeTo, meanAxes } from '../ops/nn_internal.js';
import { linear, dropout, gelu, silu, leakyRelu, softmax, layerNorm, batchNorm, groupNorm } from '../ops/nn_functional.js';
import { gatherRowsChecked } from '../ops/index_errors.js';
import { conv2d, convTranspose2d, maxPool2d, avgPool2d, adaptiveAvgPool2d } from '../ops/conv.js';
import type { PoolOptions, AvgPoolOptions, ConvPadding } from '../ops/conv.js';
import { Module, parameter } from './module.js';
import { nextDropoutKey } from './rng.js';
import * as init from './init.js';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true }: { bias?: boolean } = {}) {
    super();
    this.weight = parameter(init.kaimingUniform([outFeatures, inFeatures]));
    const bound = 1 / Math.sqrt(Math.max(1, inFeatures));
    this.bias = bias ? parameter(init.uniform([outFeatures], -bound, bound)) : null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: ConvPadding;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], readonly options: Conv2dOptions = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    const groups = options.groups ?? 1;
    if (inChannels % groups || outChannels % groups) throw new KilnError(`Conv2d: groups ${groups} must divide in (${inChannels}) and out (${outChannels}) channels`);
    this.weight = parameter(init.kaimingUniform([outChannels, inChannels / groups, kh, kw]));
    const bound = 1 / Math.sqrt(Math.max(1, (inChannels / groups) * kh * kw));
    this.bias = options.bias === false ? null : parameter(init.uniform([outChannels], -bound, bound));
  }
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this.options;
    return conv2d(x, this.weight, { stride, padding, dilation, groups, bias: this.bias });
  }
}

export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number],
    readonly options: { stride?: number | [number, number]; padding?: number | [number, number]; outputPadding?: number | [number, number]; dilation?: number | [number, number]; groups?: number; bias?: boolean } = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    const groups = options.groups ?? 1;
    if (inChannels % groups || outChannels % groups) throw new KilnError(`ConvTranspose2d: groups ${groups} must divide in (${inChannels}) and out (${outChannels}) channels`);
    this.weight = parameter(init.kaimingUniform([inChannels, outChannels / groups, kh, kw]));
    const bound = 1 / Math.sqrt(Math.max(1, (outChannels / groups) * kh * kw));
    this.bias = options.bias === false ? null : parameter(init.uniform([outChannels], -bound, bound));
  }
  forward(x: Tensor): Tensor {
    const { stride, padding, outputPadding, dilation, groups } = this.options;
    return convTranspose2d(x, this.weight, { stride, padding, outputPadding, dilation, groups, bias: this.bias });
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number | [number, number], readonly options: PoolOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number | [number, number], readonly options: AvgPoolOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number, number]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** BatchNorm over [N, C, ...]: batch statistics in training (updating running ones), running ones in eval. */
class BatchNormNd extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  declare runningMean: Tensor;
  declare runningVar: Tensor;
  declare numBatchesTracked: Tensor;
  constructor(readonly numFeatures: number, readonly options: { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean } = {}, private readonly ranks: number[]) {
    super();
    const affine = options.affine ?? true;
    this.weight = affine ? parameter(init.ones([numFeatures])) : null;
    this.bias = affine ? parameter(init.zeros([numFeatures])) : null;
    this.registerBuffer('runningMean', init.zeros([numFeatures]));
    this.registerBuffer('runningVar', init.ones([numFeatures]));
  }
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim)) throw new KilnError(`${this.constructor.name}: expects input of rank ${this.ranks.join(' or ')}, got ${x.describe()}`);
    if (x.shape[1] !== this.numFeatures) throw new KilnError(`${this.constructor.name}: expects ${this.numFeatures} channels, got ${x.describe()}`);
    const eps = this.options.eps ?? 1e-5;
    const useBatch = this.training || this.options.trackRunningStats === false;
    if (useBatch && this.training && this.options.trackRunningStats !== false) {
      // Running statistics use the unbiased variance (PyTorch); they never carry gradients.
      const axes = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
      const n = x.size / Math.max(1, this.numFeatures);
      const m = this.options.momentum ?? 0.1;
      noGrad(() => {
        const xd = x.requiresGrad ? detachLike(x) : x;
        const mean = meanAxes('BatchNorm', xd, axes);
        const centered = sub(xd, reshapeTo(mean, [1, this.numFeatures, ...new Array(x.ndim - 2).fill(1)]));
        const varUnbiased = mul(meanAxes('BatchNorm', mul(centered, centered), axes), n / Math.max(1, n - 1));
        // State that lives on, like optimizer slots: a tidy() around a training step must keep it.
        this.runningMean = keep(add(mul(this.runningMean, 1 - m), mul(mean, m)));
        this.runningVar = keep(add(mul(this.runningVar, 1 - m), mul(varUnbiased, m)));
      });
    }
    return batchNorm(x, this.runningMean, this.runningVar, { weight: this.weight, bias: this.bias, eps, training: useBatch });
  }
}

/** A view of x that records no gradient (the value is shared). */
function detachLike(x: Tensor): Tensor {
  return noGrad(() => bind1('reshape', [x], { shape: [...x.shape] }));
}

export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean } = {}) {
    super(numFeatures, options, [2, 3]);
  }
}
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean } = {}) {
    super(numFeatures, options, [4]);
  }
}

export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly options: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? parameter(init.ones(this.normalizedShape)) : null;
    this.bias = affine ? parameter(init.zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.options.eps });
  }
}

export class GroupNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly options: { eps?: number; affine?: boolean } = {}) {
    super();
    const affine = options.affine ?? true;
    this.weight = affine ? parameter(init.ones([numChannels])) : null;
    this.bias = affine ? parameter(init.zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.options.eps });
  }
}

/** Dropout with counter-based keys: eager calls draw from the global seed, jit needs nn.withRng(key, ...). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new KilnError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, { key: nextDropoutKey('Dropout', x), training: true });
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    this.weight = parameter(init.normal([numEmbeddings, embeddingDim]));
  }
  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') throw new KilnError(`Embedding: indices must be int32, got ${indices.describe()}`);
    return gatherRowsChecked('Embedding', this.weight, indices);
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    const s = this.startDim < 0 ? this.startDim + x.ndim : this.startDim;
    const e = this.endDim < 0 ? this.endDim + x.ndim : this.endDim;
    if (s < 0 || e >= x.ndim || s > e) throw new KilnError(`Flatten: dims ${this.startDim}..${this.endDim} out of range for ${x.describe()}`);
    const mid = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return reshapeTo(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
  }
}

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  forward(x: unknown): unknown {
    return this.layers.reduce((acc, layer) => layer.call(acc), x);
  }
}

export class ModuleList extends Module {
  readonly items: Module[];
  constructor(items: Module[] = []) {
    super();
    this.items = items;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): Module {
    return this.items[i];
  }
  push(m: Module): void {
    this.items.push(m);
  }
  forward(): never {
    throw new KilnError('ModuleList: has no forward; iterate over .items');
  }
}

/** Activation modules (parameter-free wrappers of the functions). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, { negativeSlope: this.negativeSlope });
  }
}
export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, { axis: this.axis });
  }
}

export { astype };
