// Recurrent layers (PyTorch's RNN, LSTM, GRU): gate layouts and parameter names follow PyTorch so weights
// load by name; the time loop is `scan`, so a layer traces to one scan op under jit and differentiates.
import { KilnError } from '../../ir/error.js';
import type { Tensor } from '../tensor.js';
import { scan } from '../control.js';
import { add, mul, sub, tanh, relu, sigmoid } from '../ops/elementwise.js';
import { full } from '../ops/nn_internal.js';
import { linear, dropout } from '../ops/nn_functional.js';
import { concat, split, flip, stack, transpose, unsqueeze, squeeze } from '../ops/shape.js';
import { Module, parameter } from './module.js';
import { nextDropoutKey } from './rng.js';
import * as init from './init.js';

export interface RNNOptions {
  /** Stacked layers (default 1); layer l > 0 reads layer l-1's output sequence. */
  numLayers?: number;
  /** Both biases biasIh and biasHh (default true). */
  bias?: boolean;
  /** Input and output are [N, T, F] instead of [T, N, F] (hidden states stay [layers*dirs, N, H]). */
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last's, in training mode (default 0). */
  dropout?: number;
  /** A second pass from the last step to the first; outputs are [forward, backward] on the last axis. */
  bidirectional?: boolean;
}

type Mode = 'rnnTanh' | 'rnnRelu' | 'lstm' | 'gru';

interface CellWeights {
  weightHh: Tensor;
  biasHh: Tensor | null;
}

/**
 * One time step of each cell: `xp` is the input projection x W_ih^T + b_ih computed for the whole
 * sequence before the loop (one big matmul); `state` is [h] or [h, c]. Returns the new state.
 */
const CELLS: Record<Mode, { gates: number; states: number; step: (xp: Tensor, state: Tensor[], w: CellWeights) => Tensor[] }> = {
  rnnTanh: { gates: 1, states: 1, step: (xp, [h], w) => [tanh(add(xp, linear(h, w.weightHh, w.biasHh)))] },
  rnnRelu: { gates: 1, states: 1, step: (xp, [h], w) => [relu(add(xp, linear(h, w.weightHh, w.biasHh)))] },
  // Gates i, f, g, o (PyTorch's row order of weightIh/weightHh).
  lstm: {
    gates: 4,
    states: 2,
    step: (xp, [h, c], w) => {
      const [i, f, g, o] = split(add(xp, linear(h, w.weightHh, w.biasHh)), 4, -1);
      const c2 = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)));
      return [mul(sigmoid(o), tanh(c2)), c2];
    },
  },
  // Gates r, z, n; the reset gate multiplies h W_hn^T + b_hn (PyTorch), so the two projections stay apart.
  gru: {
    gates: 3,
    states: 1,
    step: (xp, [h], w) => {
      const [xr, xz, xn] = split(xp, 3, -1);
      const [hr, hz, hn] = split(linear(h, w.weightHh, w.biasHh), 3, -1);
      const r = sigmoid(add(xr, hr));
      const z = sigmoid(add(xz, hz));
      const n = tanh(add(xn, mul(r, hn)));
      return [add(n, mul(z, sub(h, n)))]; // (1 - z) * n + z * h
    },
  },
};

const NAMES: Record<Mode, string> = { rnnTanh: 'RNN', rnnRelu: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/** PyTorch's parameter name weight_ih_l0_reverse, in camelCase: weightIhL0Reverse. */
function paramName(kind: 'weightIh' | 'weightHh' | 'biasIh' | 'biasHh', layer: number, reverse: boolean): string {
  return `${kind}L${layer}${reverse ? 'Reverse' : ''}`;
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  constructor(private readonly mode: Mode, readonly inputSize: number, readonly hiddenSize: number, options: RNNOptions) {
    super();
    const name = NAMES[mode];
    this.numLayers = options.numLayers ?? 1;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    for (const [what, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['numLayers', this.numLayers]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new KilnError(`${name}: ${what} must be a positive integer, got ${v}`);
    }
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new KilnError(`${name}: dropout must be in [0, 1), got ${this.dropout}`);
    // PyTorch's init: every weight and bias uniform in ±1/sqrt(hiddenSize).
    const bound = 1 / Math.sqrt(hiddenSize);
    const u = (shape: number[]) => parameter(init.uniform(shape, -bound, bound));
    const g = CELLS[mode].gates * hiddenSize;
    const self = this as unknown as Record<string, Tensor>;
    for (let l = 0; l < this.numLayers; l++) {
      for (const reverse of this.directions()) {
        const inF = l === 0 ? inputSize : hiddenSize * this.directions().length;
        self[paramName('weightIh', l, reverse)] = u([g, inF]);
        self[paramName('weightHh', l, reverse)] = u([g, hiddenSize]);
        if (this.bias) {
          self[paramName('biasIh', l, reverse)] = u([g]);
          self[paramName('biasHh', l, reverse)] = u([g]);
        }
      }
    }
  }

  private directions(): boolean[] {
    return this.bidirectional ? [false, true] : [false];
  }

  private weights(layer: number, reverse: boolean) {
    const self = this as unknown as Record<string, Tensor | undefined>;
    return {
      weightIh: self[paramName('weightIh', layer, reverse)]!,
      weightHh: self[paramName('weightHh', layer, reverse)]!,
      biasIh: self[paramName('biasIh', layer, reverse)] ?? null,
      biasHh: self[paramName('biasHh', layer, reverse)] ?? null,
    };
  }

  /**
   * Runs the stack on x [T, N, F] (or [N, T, F] with batchFirst, or unbatched [T, F]) from initial
   * states [layers*dirs, N, H] each (zeros when omitted). Returns the last layer's outputs and the
   * final states, stacked like the initial ones.
   */
  protected run(x: Tensor, initial: (Tensor | undefined)[]): [Tensor, Tensor[]] {
    const name = NAMES[this.mode];
    const cell = CELLS[this.mode];
    const dirs = this.directions();
    const unbatched = x.ndim === 2;
    if (x.ndim !== 2 && x.ndim !== 3) throw new KilnError(`${name}: expects input [T, N, ${this.inputSize}]${this.batchFirst ? ' (batchFirst: [N, T, F])' : ''} or unbatched [T, ${this.inputSize}], got ${x.describe()}`);
    let seq = unbatched ? unsqueeze(x, 1) : this.batchFirst ? transpose(x, [1, 0, 2]) : x;
    if (seq.shape[2] !== this.inputSize) throw new KilnError(`${name}: expects ${this.inputSize} input features, got ${x.describe()}`);
    const n = seq.shape[1];
    const stateShape = [this.numLayers * dirs.length, n, this.hiddenSize];
    const states = initial.slice(0, cell.states).map((s, k) => {
      if (s === undefined) return null;
      const t = unbatched ? unsqueeze(s, 1) : s;
      if (t.ndim !== 3 || t.shape.some((d, i) => d !== stateShape[i])) {
        throw new KilnError(`${name}: initial state ${k} must be [${unbatched ? [stateShape[0], stateShape[2]] : stateShape}], got ${s.describe()}`);
      }
      return split(t, stateShape[0], 0).map((r) => squeeze(r, 0));
    });
    const zero = full([n, this.hiddenSize], 0, seq.dtype, seq.device);
    const finals: Tensor[][] = Array.from({ length: cell.states }, () => []);
    for (let l = 0; l < this.numLayers; l++) {
      // Both directions advance in one scan: the backward one reads the projections flipped in time.
      const ws = dirs.map((rev) => this.weights(l, rev));
      const xps = dirs.map((rev, d) => {
        const xp = linear(seq, ws[d].weightIh, ws[d].biasIh);
        return rev ? flip(xp, 0) : xp;
      });
      const init0 = dirs.map((_, d) => Array.from({ length: cell.states }, (_, k) => states[k]?.[l * dirs.length + d] ?? zero));
      const [last, ys] = scan(
        (carry: Tensor[][], xs: Tensor[]) => {
          const next = carry.map((st, d) => cell.step(xs[d], st, ws[d]));
          return [next, next.map((st) => st[0])] as [Tensor[][], Tensor[]];
        },
        init0,
        xps,
      );
      const outs = ys.map((y, d) => (dirs[d] ? flip(y, 0) : y));
      seq = outs.length === 1 ? outs[0] : concat(outs, 2);
      for (let k = 0; k < cell.states; k++) for (const st of last) finals[k].push(st[k]);
      if (this.dropout > 0 && this.training && l < this.numLayers - 1) {
        seq = dropout(seq, this.dropout, { key: nextDropoutKey(name, seq) });
      }
    }
    const output = unbatched ? squeeze(seq, 1) : this.batchFirst ? transpose(seq, [1, 0, 2]) : seq;
    return [output, finals.map((f) => (unbatched ? squeeze(stack(f, 0), 1) : stack(f, 0)))];
  }
}

/** Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). `forward(x, h0?)` returns [output, hN]. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new KilnError(`RNN: nonlinearity must be 'tanh' or 'relu', got '${nl}'`);
    super(nl === 'tanh' ? 'rnnTanh' : 'rnnRelu', inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [out, [h]] = this.run(x, [h0]);
    return [out, h];
  }
}

/** LSTM with PyTorch's gate order (i, f, g, o). `forward(x, [h0, c0]?)` returns [output, [hN, cN]]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('lstm', inputSize, hiddenSize, options);
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const [out, [h, c]] = this.run(x, state ? [state[0], state[1]] : []);
    return [out, [h, c]];
  }
}

/** GRU with PyTorch's gate order (r, z, n). `forward(x, h0?)` returns [output, hN]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('gru', inputSize, hiddenSize, options);
  }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [out, [h]] = this.run(x, [h0]);
    return [out, h];
  }
}
