// The IR passes on their own: the op table and the VJP rule table agree, printed VJP/JVP functions,
// options and errors of vjpFunction/jvpFunction.
import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import { PRIMITIVES, opRow } from '../../src/ir/ops.js';
import { printFunction } from '../../src/ir/printer.js';
import { verify } from '../../src/ir/verify.js';
import { interpret } from '../../src/ir/interpret.js';
import { hostArray } from '../../src/ir/array.js';
import { vjpRules } from '../../src/passes/autodiff/vjp_rules.js';
import { vjpFunction } from '../../src/passes/autodiff/ir_autodiff.js';
import { jvpFunction } from '../../src/passes/autodiff/jvp.js';

/** Primitives the finite-difference tests in this folder exercise (elementwise, movement, contract, control). */
const CHECKED = new Set([
  'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'log1p', 'expm1', 'erf',
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2', 'select', 'cast',
  'reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod',
  'reshape', 'broadcast', 'transpose', 'slice', 'pad', 'concat', 'flip', 'gather', 'scatter_add',
  'dot_general', 'conv', 'reduce_window', 'cond', 'scan', 'while',
]);

describe('rule table', () => {
  it('has a rule exactly for the differentiable rows of the op table, each checked by a test', () => {
    for (const p of PRIMITIVES) {
      expect(vjpRules[p] !== null, p).toBe(opRow(p).differentiable);
      if (opRow(p).differentiable) expect(CHECKED.has(p), `${p} has no gradient test`).toBe(true);
    }
  });
});

function expTimes(): ReturnType<Builder['finish']> {
  const b = new Builder();
  const x = b.param({ dtype: 'float64', shape: [3] }, 'x');
  const y = b.param({ dtype: 'float64', shape: [3] }, 'y');
  const e = b.op1('exp', [x], {});
  const m = b.op1('mul', [e, y], {});
  return b.finish('f', [b.op1('reduce_sum', [m], { axes: [0] }), b.op1('argmax', [x], { axis: 0 })]);
}

describe('vjpFunction', () => {
  it('prints forward then backward in one function; integer outputs get no cotangent', () => {
    const v = vjpFunction(expTimes(), [0]);
    verify(v);
    expect(printFunction(v)).toMatchInlineSnapshot(`
      "func @f_vjp(%x: f64[3], %y: f64[3], %arg2: f64[]) -> (f64[], i32[], f64[3]) {
        %0 = exp %x : f64[3]
        %1 = mul %0, %y : f64[3]
        %2 = reduce_sum %1 {axes=[0]} : f64[]
        %3 = argmax %x {axis=0} : i32[]
        %4 = broadcast %arg2 {dims=[], shape=[3]} : f64[3]
        %5 = mul %4, %y : f64[3]
        %6 = mul %5, %0 : f64[3]
        return %2, %3, %6
      }
      "
    `);
  });
  it('gives zeros for inputs nothing flows to, and checks wrt', () => {
    const b = new Builder();
    const x = b.param({ dtype: 'float64', shape: [2] });
    b.param({ dtype: 'float64', shape: [2] });
    const fn = b.finish('g', [b.op1('neg', [x], {})]);
    const v = vjpFunction(fn, [1, 0]);
    const out = interpret(v, [hostArray('float64', [2], [1, 2]), hostArray('float64', [2], [3, 4]), hostArray('float64', [2], [5, 6])]);
    expect(out.map((o) => Array.from(o.data))).toEqual([[-1, -2], [0, 0], [-5, -6]]);
    expect(() => vjpFunction(fn, [2])).toThrow(/wrt index 2 out of range/);
  });
});

describe('jvpFunction', () => {
  it('computes output tangents (each op through the transpose of its VJP rule)', () => {
    const j = jvpFunction(expTimes(), [0]);
    verify(j);
    const x = [0.1, -0.5, 2];
    const y = [1, 2, 3];
    const tx = [1, 0.5, -1];
    const [, , t] = interpret(j, [hostArray('float64', [3], x), hostArray('float64', [3], y), hostArray('float64', [3], tx)]);
    const want = x.reduce((s, v, i) => s + Math.exp(v) * y[i] * tx[i], 0);
    expect(t.data[0]).toBeCloseTo(want, 12);
  });
});
