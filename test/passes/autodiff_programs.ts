// The MLP training step again, with its backward pass made by the IR autodiff pass (vjpFunction):
// kept apart from programs.ts so the other pass tests do not depend on the autodiff pass.
import { Builder } from '../../src/ir/builder.js';
import type { Block, Function, Value } from '../../src/ir/function.js';
import { newValue } from '../../src/ir/function.js';
import { vjpFunction } from '../../src/passes/autodiff/ir_autodiff.js';
import { bcast, f32, matmul } from './programs.js';

/** The forward pass and loss of mlpTrainStep: (x, onehot, w1, b1, w2, b2) -> mean cross-entropy. */
export function mlpLoss(batch = 32, inputs = 64, hidden = 128, classes = 10): Function {
  const b = new Builder();
  const x = b.param(f32(batch, inputs), 'x');
  const onehot = b.param(f32(batch, classes), 'onehot');
  const w1 = b.param(f32(inputs, hidden), 'w1');
  const b1 = b.param(f32(hidden), 'b1');
  const w2 = b.param(f32(hidden, classes), 'w2');
  const b2 = b.param(f32(classes), 'b2');
  const BC = [batch, classes];
  const h1 = b.op1('relu', [b.op1('add', [matmul(b, x, w1), bcast(b, b1, [batch, hidden], [1])], {})], {});
  const logits = b.op1('add', [matmul(b, h1, w2), bcast(b, b2, BC, [1])], {});
  const shifted = b.op1('sub', [logits, bcast(b, b.op1('reduce_max', [logits], { axes: [1] }), BC, [0])], {});
  const lse = b.op1('log', [b.op1('reduce_sum', [b.op1('exp', [shifted], {})], { axes: [1] })], {});
  const logp = b.op1('sub', [shifted, bcast(b, lse, BC, [0])], {});
  const picked = b.op1('reduce_sum', [b.op1('mul', [logp, onehot], {})], { axes: [0, 1] });
  return b.finish('mlp_loss', [b.op1('div', [b.op1('neg', [picked], {}), b.constant(batch, 'float32')], {})]);
}

/** Copies `fn`'s top-level ops into `b` with its params bound to `args`; returns its results. */
export function inline(b: Builder, fn: Function, args: readonly Value[]): Value[] {
  const map = new Map<Value, Value>(fn.body.params.map((p, i) => [p, args[i]]));
  for (const op of fn.body.ops) {
    const results = op.results.map((r) => newValue(r.type));
    op.results.forEach((r, i) => map.set(r, results[i]));
    // Regions may read enclosing values; they are left as they are (closed in these tests).
    const regions: Block[] = [...op.regions];
    b.ops.push({ ...op, operands: op.operands.map((v) => map.get(v) ?? v), results, regions });
  }
  return fn.body.results.map((v) => map.get(v) ?? v);
}

/** The same SGD step as mlpTrainStep, with the backward pass made by the IR autodiff pass. */
export function autodiffTrainStep(batch = 32, inputs = 64, hidden = 128, classes = 10, lr = 0.1): Function {
  const grad = vjpFunction(mlpLoss(batch, inputs, hidden, classes), [2, 3, 4, 5]);
  const b = new Builder();
  const params = mlpLoss(batch, inputs, hidden, classes).body.params.map((p) => b.param(p.type, p.name));
  const [loss, ...grads] = inline(b, grad, [...params, b.constant(1, 'float32')]);
  const updated = grads.map((g, i) => {
    const w = params[2 + i];
    return b.op1('sub', [w, b.op1('mul', [g, b.constant(lr, 'float32', [...g.type.shape])], {})], {});
  });
  return b.finish('autodiff_train_step', [loss, ...updated]);
}
