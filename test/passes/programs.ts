// IR programs the pass tests share, built with the Builder: softmax, layer norm, MLPs, an elementwise
// chain and a hand-written MLP training step (forward, backward, SGD update).
import { Builder } from '../../src/ir/builder.js';
import type { Function, Value } from '../../src/ir/function.js';
import type { DType } from '../../src/ir/dtype.js';

export const f32 = (...shape: number[]) => ({ dtype: 'float32' as DType, shape });
export const bcast = (b: Builder, v: Value, shape: number[], dims: number[]) => b.op1('broadcast', [v], { shape, dims });
export const matmul = (b: Builder, x: Value, w: Value) => b.op1('dot_general', [x, w], { contract: [[1], [0]], batch: [[], []] });

export function softmax(rows = 8, cols = 16): Function {
  const b = new Builder();
  const x = b.param(f32(rows, cols), 'x');
  const m = b.op1('reduce_max', [x], { axes: [1] });
  const e = b.op1('exp', [b.op1('sub', [x, bcast(b, m, [rows, cols], [0])], {})], {});
  const s = b.op1('reduce_sum', [e], { axes: [1] });
  return b.finish('softmax', [b.op1('div', [e, bcast(b, s, [rows, cols], [0])], {})]);
}

export function layerNorm(rows = 8, cols = 16): Function {
  const b = new Builder();
  const x = b.param(f32(rows, cols), 'x');
  const gamma = b.param(f32(cols), 'gamma');
  const beta = b.param(f32(cols), 'beta');
  const n = b.constant(cols, 'float32', [rows]);
  const mean = b.op1('div', [b.op1('reduce_sum', [x], { axes: [1] }), n], {});
  const xc = b.op1('sub', [x, bcast(b, mean, [rows, cols], [0])], {});
  const variance = b.op1('div', [b.op1('reduce_sum', [b.op1('mul', [xc, xc], {})], { axes: [1] }), n], {});
  const rstd = b.op1('rsqrt', [b.op1('add', [variance, b.constant(1e-5, 'float32', [rows])], {})], {});
  const xn = b.op1('mul', [xc, bcast(b, rstd, [rows, cols], [0])], {});
  const y = b.op1('add', [b.op1('mul', [xn, bcast(b, gamma, [rows, cols], [1])], {}), bcast(b, beta, [rows, cols], [1])], {});
  return b.finish('layer_norm', [y]);
}

/** relu(x @ W + b) per layer (no relu after the last); `sizes` = [in, hidden..., out]. */
export function mlp(batch = 4, sizes = [8, 16, 16, 4]): Function {
  const b = new Builder();
  let h = b.param(f32(batch, sizes[0]), 'x');
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = b.param(f32(sizes[l], sizes[l + 1]), `w${l}`);
    const bias = b.param(f32(sizes[l + 1]), `b${l}`);
    const a = b.op1('add', [matmul(b, h, w), bcast(b, bias, [batch, sizes[l + 1]], [1])], {});
    h = l + 2 < sizes.length ? b.op1('max', [a, b.constant(0, 'float32', [batch, sizes[l + 1]])], {}) : a;
  }
  return b.finish('mlp', [h]);
}

/** Ten elementwise ops over x: f32[r,c] with a row vector and a column broadcast in. */
export function elementwiseChain(rows = 4, cols = 8): Function {
  const b = new Builder();
  const x = b.param(f32(rows, cols), 'x');
  const r = bcast(b, b.param(f32(cols), 'r'), [rows, cols], [1]);
  const c = bcast(b, b.param(f32(rows, 1), 'c'), [rows, cols], [0, 1]);
  let v = b.op1('add', [x, r], {});
  v = b.op1('mul', [v, c], {});
  v = b.op1('tanh', [v], {});
  v = b.op1('sub', [v, r], {});
  v = b.op1('exp', [v], {});
  v = b.op1('mul', [v, x], {});
  v = b.op1('max', [v, c], {});
  v = b.op1('neg', [v], {});
  v = b.op1('abs', [v], {});
  v = b.op1('sqrt', [v], {});
  return b.finish('chain', [v]);
}

/**
 * One SGD step of a 2-layer MLP with softmax cross-entropy, backward written out by hand:
 * (x, onehot, w1, b1, w2, b2) -> (loss, w1', b1', w2', b2').
 */
export function mlpTrainStep(batch = 32, inputs = 64, hidden = 128, classes = 10, lr = 0.1): Function {
  const b = new Builder();
  const x = b.param(f32(batch, inputs), 'x');
  const onehot = b.param(f32(batch, classes), 'onehot');
  const w1 = b.param(f32(inputs, hidden), 'w1');
  const b1 = b.param(f32(hidden), 'b1');
  const w2 = b.param(f32(hidden, classes), 'w2');
  const b2 = b.param(f32(classes), 'b2');
  const BH = [batch, hidden];
  const BC = [batch, classes];
  // forward
  const z1 = b.op1('add', [matmul(b, x, w1), bcast(b, b1, BH, [1])], {});
  const h1 = b.op1('max', [z1, b.constant(0, 'float32', BH)], {});
  const logits = b.op1('add', [matmul(b, h1, w2), bcast(b, b2, BC, [1])], {});
  const m = b.op1('reduce_max', [logits], { axes: [1] });
  const shifted = b.op1('sub', [logits, bcast(b, m, BC, [0])], {});
  const e = b.op1('exp', [shifted], {});
  const s = b.op1('reduce_sum', [e], { axes: [1] });
  const logp = b.op1('sub', [shifted, bcast(b, b.op1('log', [s], {}), BC, [0])], {});
  const picked = b.op1('reduce_sum', [b.op1('mul', [logp, onehot], {})], { axes: [0, 1] });
  const loss = b.op1('div', [b.op1('neg', [picked], {}), b.constant(batch, 'float32')], {});
  // backward
  const p = b.op1('div', [e, bcast(b, s, BC, [0])], {});
  const dlogits = b.op1('mul', [b.op1('sub', [p, onehot], {}), b.constant(1 / batch, 'float32', BC)], {});
  const dw2 = b.op1('dot_general', [h1, dlogits], { contract: [[0], [0]], batch: [[], []] });
  const db2 = b.op1('reduce_sum', [dlogits], { axes: [0] });
  const dh1 = b.op1('dot_general', [dlogits, w2], { contract: [[1], [1]], batch: [[], []] });
  const dz1 = b.op1('select', [b.op1('gt', [z1, b.constant(0, 'float32', BH)], {}), dh1, b.constant(0, 'float32', BH)], {});
  const dw1 = b.op1('dot_general', [x, dz1], { contract: [[0], [0]], batch: [[], []] });
  const db1 = b.op1('reduce_sum', [dz1], { axes: [0] });
  // update
  const sgd = (w: Value, g: Value) => b.op1('sub', [w, b.op1('mul', [g, b.constant(lr, 'float32', [...g.type.shape])], {})], {});
  return b.finish('train_step', [loss, sgd(w1, dw1), sgd(b1, db1), sgd(w2, dw2), sgd(b2, db2)]);
}
