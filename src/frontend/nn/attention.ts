// Attention (PyTorch's F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer),
// composed from matmul, softmax and masks so it runs eagerly, under jit and under autodiff unchanged.
import { KilnError } from '../../ir/error.js';
import type { Tensor } from '../tensor.js';
import { add, mul, where, ge, astype } from '../ops/elementwise.js';
import { full, iota, meanAxes } from '../ops/nn_internal.js';
import { linear, softmax, dropout, gelu } from '../ops/nn_functional.js';
import { relu } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { reshape, split, transpose, unsqueeze, squeeze } from '../ops/shape.js';
import { Module, parameter } from './module.js';
import { Linear, Dropout, LayerNorm } from './layers.js';
import { nextDropoutKey } from './rng.js';
import * as init from './init.js';

export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcastable to [..., L, S]. A bool mask marks the pairs that TAKE PART (PyTorch's SDPA convention,
   * the opposite of MultiheadAttention's); a float mask is added to the scores.
   */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (default 0); its key comes from `key` or the nn.withRng scope. */
  dropoutP?: number;
  /** Query i attends to keys j <= i (the top-left aligned causal mask, as PyTorch). */
  isCausal?: boolean;
  /** Multiplies q k^T (default 1/sqrt(E)). */
  scale?: number;
  key?: Tensor;
}

/** Scores q k^T * scale plus masks, softmax over keys, dropout: the weights [..., L, S]. */
function attentionWeights(op: string, q: Tensor, k: Tensor, opts: ScaledDotProductAttentionOptions, additive: Tensor | null): Tensor {
  const e = q.shape[q.ndim - 1];
  const perm = [...k.shape.keys()];
  [perm[k.ndim - 2], perm[k.ndim - 1]] = [perm[k.ndim - 1], perm[k.ndim - 2]];
  let scores = mul(matmul(q, transpose(k, perm)), opts.scale ?? 1 / Math.sqrt(e));
  const [l, s] = [q.shape[q.ndim - 2], k.shape[k.ndim - 2]];
  const negInf = full([], -Infinity, scores.dtype, scores.device);
  if (opts.isCausal) {
    const allowed = ge(iota([l, s], 0, q.device), iota([l, s], 1, q.device));
    scores = where(allowed, scores, negInf);
  }
  const m = opts.attnMask;
  if (m !== undefined && m !== null) scores = m.dtype === 'bool' ? where(m, scores, negInf) : add(scores, astype(m, scores.dtype));
  if (additive) scores = add(scores, additive);
  let w = softmax(scores, { axis: -1 });
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new KilnError(`${op}: dropout probability must be in [0, 1), got ${p}`);
  if (p > 0) w = dropout(w, p, { key: opts.key ?? nextDropoutKey(op, w) });
  return w;
}

function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor): void {
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) throw new KilnError(`${op}: query, key and value need at least 2 dimensions [..., L, E], got ${q.describe()}, ${k.describe()}, ${v.describe()}`);
  if (q.shape[q.ndim - 1] !== k.shape[k.ndim - 1]) throw new KilnError(`${op}: query ${q.describe()} and key ${k.describe()} differ in their last dimension`);
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) throw new KilnError(`${op}: key ${k.describe()} and value ${v.describe()} differ in their sequence length`);
}

/** softmax(q k^T * scale + mask) v over q [..., L, E], k [..., S, E], v [..., S, Ev]: the output [..., L, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): Tensor {
  checkQkv('scaledDotProductAttention', q, k, v);
  return matmul(attentionWeights('scaledDotProductAttention', q, k, opts, null), v);
}

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Biases of the input and output projections (default true). */
  bias?: boolean;
  /** Inputs and output are [N, L, E] instead of [L, N, E]. */
  batchFirst?: boolean;
}

export interface MultiheadAttentionCallOptions {
  /** [N, S]: true (or a float mask's -inf) marks keys to ignore, e.g. padding. */
  keyPaddingMask?: Tensor | null;
  /** [L, S] or [N*numHeads, L, S]: a bool mask marks pairs NOT allowed to attend (PyTorch's MHA); a float mask is added. */
  attnMask?: Tensor | null;
  /** Return the attention weights too (default true). */
  needWeights?: boolean;
  /** Average the returned weights over heads: [N, L, S] (default true), else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /** Adds the causal mask (query i sees keys j <= i). */
  isCausal?: boolean;
}

/** A float mask where bool masks hold -inf on true entries (masked) and float masks pass through. */
function additiveMask(m: Tensor, dtype: Tensor['dtype'], device: string): Tensor {
  if (m.dtype !== 'bool') return astype(m, dtype);
  return where(m, full([], -Infinity, dtype, device), full([], 0, dtype, device));
}

/**
 * Multi-head attention (PyTorch's nn.MultiheadAttention with kdim = vdim = embedDim): parameters
 * inProjWeight [3E, E], inProjBias [3E] and outProj (Linear E -> E), PyTorch's names in camelCase.
 * `forward(query, key, value, opts)` returns [output, weights or null].
 */
export class MultiheadAttention extends Module {
  inProjWeight: Tensor;
  inProjBias: Tensor | null;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) throw new KilnError(`MultiheadAttention: numHeads ${numHeads} must divide embedDim ${embedDim}`);
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new KilnError(`MultiheadAttention: dropout must be in [0, 1), got ${this.dropout}`);
    this.batchFirst = options.batchFirst ?? false;
    const bias = options.bias ?? true;
    // PyTorch's _reset_parameters: xavier-uniform in-projection, zero biases.
    this.inProjWeight = parameter(init.xavierUniform([3 * embedDim, embedDim]));
    this.inProjBias = bias ? parameter(init.zeros([3 * embedDim])) : null;
    this.outProj = new Linear(embedDim, embedDim, { bias });
    if (this.outProj.bias) this.outProj.bias = parameter(init.zeros([embedDim]));
  }

  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionCallOptions = {}): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention';
    const unbatched = query.ndim === 2;
    for (const t of [query, key, value]) {
      if (t.ndim !== query.ndim || (t.ndim !== 2 && t.ndim !== 3) || t.shape[t.ndim - 1] !== this.embedDim) {
        throw new KilnError(`${op}: query, key and value must be [L, N, ${this.embedDim}]${this.batchFirst ? ' (batchFirst: [N, L, E])' : ''} or unbatched [L, ${this.embedDim}], got ${query.describe()}, ${key.describe()}, ${value.describe()}`);
      }
    }
    // Work in [N, L, E].
    const toNLE = (t: Tensor) => (unbatched ? unsqueeze(t, 0) : this.batchFirst ? t : transpose(t, [1, 0, 2]));
    const [q0, k0, v0] = [toNLE(query), toNLE(key), toNLE(value)];
    const [n, l] = q0.shape;
    const s = k0.shape[1];
    if (k0.shape[0] !== n || v0.shape[0] !== n || v0.shape[1] !== s) throw new KilnError(`${op}: query ${query.describe()}, key ${key.describe()} and value ${value.describe()} disagree on batch or source length`);
    const [wq, wk, wv] = split(this.inProjWeight, 3, 0);
    const [bq, bk, bv] = this.inProjBias ? split(this.inProjBias, 3, 0) : [null, null, null];
    const h = this.numHeads;
    const d = this.headDim;
    const heads = (t: Tensor, w: Tensor, b: Tensor | null, len: number) => transpose(reshape(linear(t, w, b), [n, len, h, d]), [0, 2, 1, 3]);
    const q = heads(q0, wq, bq, l);
    const k = heads(k0, wk, bk, s);
    const v = heads(v0, wv, bv, s);

    let additive: Tensor | null = null;
    const dtype = q.dtype;
    if (opts.attnMask) {
      const m = opts.attnMask;
      const ok2 = m.ndim === 2 && m.shape[0] === l && m.shape[1] === s;
      const ok3 = m.ndim === 3 && m.shape[0] === n * h && m.shape[1] === l && m.shape[2] === s;
      if (!ok2 && !ok3) throw new KilnError(`${op}: attnMask must be [${l}, ${s}] or [${n * h}, ${l}, ${s}], got ${m.describe()}`);
      additive = additiveMask(ok3 ? reshape(m, [n, h, l, s]) : m, dtype, q.device);
    }
    if (opts.keyPaddingMask) {
      const m = opts.keyPaddingMask;
      const want = unbatched ? [s] : [n, s];
      if (m.ndim !== want.length || m.shape.some((x, i) => x !== want[i])) throw new KilnError(`${op}: keyPaddingMask must be [${want}], got ${m.describe()}`);
      const pad = reshape(additiveMask(m, dtype, q.device), [n, 1, 1, s]);
      additive = additive ? add(additive, pad) : pad;
    }
    const p = this.training ? this.dropout : 0;
    const w = attentionWeights(op, q, k, { dropoutP: p, isCausal: opts.isCausal }, additive);
    const attended = reshape(transpose(matmul(w, v), [0, 2, 1, 3]), [n, l, this.embedDim]);
    const out = this.outProj.call(attended) as Tensor;
    const output = unbatched ? squeeze(out, 0) : this.batchFirst ? out : transpose(out, [1, 0, 2]);
    if (opts.needWeights === false) return [output, null];
    const weights = opts.averageAttnWeights === false ? w : meanAxes(op, w, 1);
    return [output, unbatched ? squeeze(weights, 0) : weights];
  }
}

export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  layerNormEps?: number;
  batchFirst?: boolean;
  /** Pre-norm: x + sa(norm1(x)), then x + ff(norm2(x)); default post-norm: norm1(x + sa(x)), norm2(x + ff(x)). */
  normFirst?: boolean;
  bias?: boolean;
}

/** PyTorch's nn.TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual and LayerNorm. */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(readonly dModel: number, readonly nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const p = options.dropout ?? 0.1;
    const bias = options.bias ?? true;
    const eps = options.layerNormEps ?? 1e-5;
    const ff = options.dimFeedforward ?? 2048;
    this.selfAttn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst: options.batchFirst });
    this.linear1 = new Linear(dModel, ff, { bias });
    this.linear2 = new Linear(ff, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.dropout = new Dropout(p);
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.normFirst = options.normFirst ?? false;
    const act = options.activation ?? 'relu';
    if (typeof act === 'function') this.activation = act;
    else if (act === 'relu') this.activation = relu;
    else if (act === 'gelu') this.activation = (x) => gelu(x);
    else throw new KilnError(`TransformerEncoderLayer: activation must be 'relu', 'gelu' or a function, got '${String(act)}'`);
  }

  forward(src: Tensor, opts: { srcMask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    const sa = (x: Tensor) => {
      const [y] = this.selfAttn.forward(x, x, x, { attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal, needWeights: false });
      return this.dropout1.call(y) as Tensor;
    };
    const ffBlock = (x: Tensor) => this.dropout2.call(this.linear2.call(this.dropout.call(this.activation(this.linear1.call(x) as Tensor)))) as Tensor;
    let x = src;
    if (this.normFirst) {
      x = add(x, sa(this.norm1.call(x) as Tensor));
      return add(x, ffBlock(this.norm2.call(x) as Tensor));
    }
    x = this.norm1.call(add(x, sa(x))) as Tensor;
    return this.norm2.call(add(x, ffBlock(x))) as Tensor;
  }
}
